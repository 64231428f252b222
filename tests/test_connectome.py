"""Tests of the projection-density tables (the shipped 7-area macaque table and user tables)."""

import numpy as np
import pytest

from brian_errorcircuits.connectome import ProjectionTable, TableError, load_table, shipped_tables

AREAS_7 = ("V1", "V2", "V4", "TEO", "MT", "TEpd", "DP")

# The 7-area table of Max et al. 2026 (binned Markov et al. 2014 FLN), row = source, column = target.
DENSITIES_7 = np.array([
    [0,      1,      0.0316, 0,      0.1,    0,      0],
    [1,      0,      1,      0.316,  0.316,  0,      0.316],
    [0.316,  0.316,  0,      1,      1,      0.316,  1],
    [0.1,    0.0316, 1,      0,      0.316,  1,      0],
    [0.316,  0.316,  0.316,  0.316,  0,      0,      1],
    [0.0316, 0,      0.316,  1,      0.1,    0,      0],
    [0,      0,      0,      0,      0.1,    0,      0],
])


@pytest.fixture(scope="module")
def macaque():
    return load_table("macaque_visual_7areas")


def write_table(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


VALID_3 = """# three areas, a chain
label, A, B, C
A, 0, 1, 0
B, 0.5, 0, 1
C, 0, 0.1, 0
"""


# --------------------------------------------------------------- shipped table
def test_shipped_table_loads_by_name_with_exact_numbers(macaque):
    assert macaque.areas == AREAS_7
    assert len(macaque) == 7
    np.testing.assert_array_equal(macaque.densities, DENSITIES_7)
    assert "macaque_visual_7areas" in shipped_tables()
    assert load_table("macaque_visual_7areas.csv").areas == AREAS_7


def test_shipped_table_records_provenance(macaque):
    provenance = "\n".join(macaque.comments)
    assert "doi:10.1093/cercor/bhs270" in provenance
    assert "e1014164" in provenance
    assert "row = source" in provenance


def test_orientation_row_is_source(macaque):
    assert macaque.density("V1", "V2") == 1 and macaque.bottom_up[0, 1]
    assert macaque.density("V2", "V1") == 1 and macaque.top_down[1, 0]
    assert macaque.density("V1", "V4") == 0.0316 and macaque.bottom_up[0, 2]
    assert macaque.density("V4", "V1") == 0.316 and macaque.top_down[2, 0]
    assert macaque.sources_of("V4") == ("V1", "V2")
    assert macaque.sources_of("V1", direction="top_down") == ("V2", "V4", "TEO", "MT", "TEpd")


def test_masks_partition_nonzero_entries(macaque):
    up, down = macaque.bottom_up, macaque.top_down
    assert up.dtype == bool and down.dtype == bool
    assert not np.any(np.tril(up)) and not np.any(np.triu(down))
    np.testing.assert_array_equal(up | down, DENSITIES_7 > 0)


def test_densities_are_read_only_copies():
    source = DENSITIES_7.copy()
    table = ProjectionTable.from_array(AREAS_7, source)
    source[0, 1] = 0.5
    assert table.density("V1", "V2") == 1
    with pytest.raises(ValueError):
        table.densities[0, 1] = 0.5


def test_unknown_area_names_known_ones(macaque):
    with pytest.raises(KeyError, match="V5.*V1, V2, V4, TEO, MT, TEpd, DP"):
        macaque.index("V5")
    with pytest.raises(ValueError, match="direction"):
        macaque.sources_of("V2", direction="sideways")


# ----------------------------------------------------------------- user tables
def test_user_table_by_path(tmp_path):
    path = write_table(tmp_path, VALID_3)
    for table in (load_table(path), load_table(str(path)), ProjectionTable.from_csv(path)):
        assert table.areas == ("A", "B", "C")
        assert table.density("B", "A") == 0.5
        assert table.comments == ("three areas, a chain",)
        assert table.source == str(path)


def test_unknown_table_name_lists_shipped_ones():
    with pytest.raises(FileNotFoundError, match="no_such_table.*macaque_visual_7areas"):
        load_table("no_such_table")


def test_first_restricts_to_lowest_areas(macaque):
    lower = macaque.first(3)
    assert lower.areas == ("V1", "V2", "V4")
    np.testing.assert_array_equal(lower.densities, DENSITIES_7[:3, :3])


def test_first_too_many_areas_rejected(macaque):
    with pytest.raises(ValueError, match="has 7 areas.*fewer areas than the network asks for"):
        macaque.first(8)
    with pytest.raises(ValueError, match="at least 1 area"):
        macaque.first(0)


def test_with_density_changes_exactly_one_entry(macaque):
    changed = macaque.with_density("V1", "TEO", 0.1)
    difference = changed.densities != macaque.densities
    assert difference.sum() == 1 and difference[0, 3]
    assert changed.density("V1", "TEO") == 0.1
    assert macaque.density("V1", "TEO") == 0
    assert "V1 -> TEO" in changed.comments[-1]


def test_with_density_is_validated(macaque):
    with pytest.raises(TableError, match="V1 projects onto itself"):
        macaque.with_density("V1", "V1", 1.0)


def test_hierarchy_masks():
    table = ProjectionTable.hierarchy(["in", "mid", "out"])
    assert table.areas == ("in", "mid", "out")
    np.testing.assert_array_equal(table.bottom_up, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(table.top_down, [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert ProjectionTable.hierarchy(4).areas == ("area1", "area2", "area3", "area4")
    assert len(ProjectionTable.hierarchy(1)) == 1


# ------------------------------------------------------------------ rejections
@pytest.mark.parametrize("text, message", [
    ("# only a comment\n\n", "empty"),
    ("x, A, B\nA, 0, 1\n", r"not square: 1 rows of areas for 2 columns"),
    ("x, A, B\nA, 0, 1\nB, 1\n", r"line 3: row 2 \('B'\) has 2 cells, the header has 3"),
    ("x, A, B\nA, 0, 1\nC, 1, 0\n", r"row 2 is named 'C' but column 2 of the header is 'B'"),
    ("x, A, A\nA, 0, 1\nA, 1, 0\n", "duplicate area names: A"),
    ("x, A, \nA, 0, 1\n, 1, 0\n", "area 1 has an empty or non-text name"),
    ("x, A, B\nA, 0, -0.5\nB, 1, 0\n", r"row A, column B is -0\.5"),
    ("x, A, B\nA, 0, nan\nB, 1, 0\n", "row A, column B is nan"),
    ("x, A, B\nA, 0, 1\nB, lots, 0\n", "row B, column A is 'lots', not a number"),
    ("x, A, B\nA, 0, 1\nB, 1, 0.2\n", r"area B projects onto itself \(diagonal entry 0\.2\)"),
    ("x, A, B, C\nA, 0, 1, 0\nB, 1, 0, 0\nC, 0, 1, 0\n", "area.*C cannot be reached from the input"),
])
def test_malformed_csv_rejected_naming_offender_and_file(tmp_path, text, message):
    path = write_table(tmp_path, text, name="bad_table.csv")
    with pytest.raises(TableError, match=message) as caught:
        load_table(path)
    assert "bad_table.csv" in str(caught.value)


def test_excel_utf8_table_with_byte_order_mark_before_a_comment_loads(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + VALID_3.replace("\n", "\r\n").encode())
    table = load_table(path)
    assert table.comments == ("three areas, a chain",)
    assert table.areas == ("A", "B", "C") and table.density("B", "A") == 0.5


def test_non_utf8_byte_is_a_table_error_naming_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(VALID_3.replace("A, 0, 1, 0", "A, 0, 1, 0 # Fläche").encode("latin-1"))
    with pytest.raises(TableError, match=r"latin1\.csv, line 3: byte 0xe4 is not UTF-8; save the table as UTF-8"):
        load_table(path)


@pytest.mark.parametrize("separator, name", [(";", "semicolons"), ("\t", "tabs")])
def test_other_separators_are_rejected_with_a_hint(tmp_path, separator, name):
    text = "# decimal commas, as a spreadsheet in a German locale writes them\n" + "\n".join(
        separator.join(row) for row in (("x", "A", "B"), ("A", "0", "0,5"), ("B", "1", "0")))
    path = write_table(tmp_path, text, name="exported.csv")
    with pytest.raises(TableError, match=rf"exported\.csv, line 2: the header names no areas; it is separated by "
                                         rf"{name}, but tables are comma-separated"):
        load_table(path)


def test_unreachable_areas_all_named():
    densities = np.zeros((4, 4))
    densities[0, 1] = 1.0
    densities[3, 2] = 1.0  # top-down only: does not make area C reachable
    with pytest.raises(TableError, match="C, D cannot be reached.*only into A"):
        ProjectionTable.from_array("ABCD", densities, source="my table")


@pytest.mark.parametrize("areas, densities, message", [
    ((), np.zeros((0, 0)), "no areas"),
    (("A", "B"), np.zeros((2, 3)), "square"),
    (("A", "B", "C"), np.zeros((2, 2)), "3 area names for a 2x2 matrix"),
    (("A", "B"), [[0, np.inf], [0, 0]], "row A, column B is inf"),
])
def test_malformed_array_rejected(areas, densities, message):
    with pytest.raises(TableError, match=message):
        ProjectionTable.from_array(areas, densities, source="my table")
