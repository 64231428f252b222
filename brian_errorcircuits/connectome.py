"""Inter-area projection-density tables (README, "Multi-area circuits from projection tables").

A table says which areas project to which, and how densely. Row = source
area, column = target area, areas in hierarchical order (index 0 lowest, the
only area the input projects into). Entries above the diagonal are bottom-up
projections (representation -> representation, basal dendrites); entries
below the diagonal are top-down projections (error -> error dendrites).

Tables are plain CSV files a scientist writes by hand::

    # source: ...             <- comment lines: provenance
    source\\target, V1, V2
    V1, 0, 1
    V2, 1, 0

The list of areas comes from the table and is written nowhere else. This
module knows nothing about Brian2: it only reads, checks and answers
questions about the numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["TableError", "ProjectionTable", "load_table", "shipped_tables"]

#: Folder of the shipped tables: ``models/`` at the top of the repository, installed as ``brian_errorcircuits/models``.
SHIPPED_FOLDER = "models"

DIRECTIONS = ("bottom_up", "top_down")


class TableError(ValueError):
    """A projection-density table is malformed or describes an unusable network."""


@dataclass(frozen=True, eq=False)
class ProjectionTable:
    """Square table of projection densities between named areas.

    Parameters
    ----------
    areas : sequence of str
        Area names in hierarchical order, index 0 lowest (receives the input).
    densities : array_like, shape (n, n)
        ``densities[i, j]`` is the density of the projection from area ``i``
        (source, row) to area ``j`` (target, column). Non-negative, finite,
        zero on the diagonal.
    comments : sequence of str
        Provenance lines (the ``#`` lines of a CSV file, without the ``#``).
    source : str
        Where the table came from; named in every error message.

    Raises
    ------
    TableError
        If the table is empty, not square, has empty or duplicate names,
        negative or non-finite densities, a non-zero diagonal, or an area
        that bottom-up projections cannot reach from area 0.
    """

    areas: tuple
    densities: np.ndarray
    comments: tuple = ()
    source: str = "table built in code"
    _index: dict = field(init=False, repr=False)

    def __post_init__(self):
        areas = tuple(self.areas)
        try:
            densities = np.array(self.densities, dtype=float)
        except (TypeError, ValueError) as err:
            raise TableError(f"{self.source}: densities must be numbers ({err})") from None
        densities.setflags(write=False)
        object.__setattr__(self, "areas", areas)
        object.__setattr__(self, "densities", densities)
        object.__setattr__(self, "comments", tuple(self.comments))
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(areas)})
        self._validate()

    # ----------------------------------------------------------- construction
    @classmethod
    def from_csv(cls, path) -> "ProjectionTable":
        """Read a table from a CSV file (format: see the module docstring)."""
        path, source = Path(path), str(path)
        return _parse_csv(_read_text(path, source), source)

    @classmethod
    def from_array(cls, areas: Sequence[str], densities, source: str = "table built in code",
                   comments: Sequence[str] = ()) -> "ProjectionTable":
        """Build a table from names and a square array (row = source, column = target)."""
        return cls(areas=tuple(areas), densities=densities, comments=tuple(comments), source=source)

    @classmethod
    def hierarchy(cls, areas) -> "ProjectionTable":
        """Strict hierarchy: each area projects only to its neighbours, with density 1.

        Parameters
        ----------
        areas : int or sequence of str
            Area names, lowest first; an int ``n`` names them ``area1`` ..
            ``areaN`` (areas are numbered from 1; area 0 is the input).
        """
        if isinstance(areas, (int, np.integer)):
            names = tuple(f"area{k + 1}" for k in range(areas))
        else:
            names = tuple(areas)
        n = len(names)
        densities = np.eye(n, k=1) + np.eye(n, k=-1)
        return cls(areas=names, densities=densities, source=f"strict hierarchy of {n} areas",
                   comments=("strict hierarchy: density 1 between neighbouring areas, 0 elsewhere",))

    # ------------------------------------------------------------- validation
    def _validate(self):
        src, areas, d = self.source, self.areas, self.densities
        if len(areas) == 0:
            raise TableError(f"{src}: the table has no areas")
        if d.ndim != 2 or d.shape[0] != d.shape[1]:
            raise TableError(f"{src}: densities must be a square matrix, got shape {d.shape}")
        if d.shape[0] != len(areas):
            raise TableError(f"{src}: {len(areas)} area names for a {d.shape[0]}x{d.shape[1]} matrix")
        for position, name in enumerate(areas):
            if not isinstance(name, str) or not name.strip():
                raise TableError(f"{src}: area {position} has an empty or non-text name ({name!r})")
        duplicates = sorted({name for name in areas if areas.count(name) > 1})
        if duplicates:
            raise TableError(f"{src}: duplicate area names: {', '.join(duplicates)}")
        invalid = np.argwhere(~np.isfinite(d) | (d < 0))
        if invalid.size:
            i, j = invalid[0]
            raise TableError(f"{src}: the density in row {areas[i]}, column {areas[j]} is "
                             f"{float(d[i, j])!r}; densities must be finite and non-negative")
        self_projecting = np.flatnonzero(np.diag(d))
        if self_projecting.size:
            i = self_projecting[0]
            raise TableError(f"{src}: area {areas[i]} projects onto itself (diagonal entry "
                             f"{float(d[i, i])!r}); the diagonal must be 0")
        unreachable = [areas[k] for k in np.flatnonzero(~self._reachable_from_input())]
        if unreachable:
            raise TableError(
                f"{src}: area(s) {', '.join(unreachable)} cannot be reached from the input: the "
                f"input projects only into {areas[0]} and no chain of bottom-up projections "
                "(above the diagonal) leads from it to them")

    def _reachable_from_input(self) -> np.ndarray:
        """Boolean mask of areas reached from area 0 through bottom-up projections."""
        reached = np.zeros(len(self), dtype=bool)
        reached[0] = True
        bottom_up = self.bottom_up
        for target in range(1, len(self)):  # sources of a bottom-up projection are lower areas
            reached[target] = np.any(reached[:target] & bottom_up[:target, target])
        return reached

    # ---------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.areas)

    def __repr__(self) -> str:
        return f"ProjectionTable(areas={self.areas!r}, source={self.source!r})"

    @property
    def bottom_up(self) -> np.ndarray:
        """Mask of bottom-up projections: source row i < target column j, density > 0."""
        return np.triu(self.densities > 0, k=1)

    @property
    def top_down(self) -> np.ndarray:
        """Mask of top-down projections: source row i > target column j, density > 0."""
        return np.tril(self.densities > 0, k=-1)

    def index(self, name: str) -> int:
        """Position of an area in the hierarchy (0 = lowest)."""
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise KeyError(f"unknown area {name!r} in {self.source}; "
                           f"known areas: {', '.join(self.areas)}") from None

    def density(self, source: str, target: str) -> float:
        """Density of the projection from area ``source`` to area ``target``."""
        return float(self.densities[self.index(source), self.index(target)])

    def sources_of(self, target: str, direction: str = "bottom_up") -> tuple:
        """Names of the areas that project into ``target`` in the given direction.

        ``"bottom_up"`` gives the lower areas whose representation neurons
        drive ``target``'s basal dendrites; ``"top_down"`` the higher areas
        whose error neurons drive ``target``'s error neurons.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        mask = getattr(self, direction)[:, self.index(target)]
        return tuple(self.areas[i] for i in np.flatnonzero(mask))

    # ----------------------------------------------------------- derived tables
    def first(self, n: int) -> "ProjectionTable":
        """The table restricted to its lowest ``n`` areas (for an ``n``-area network)."""
        if not 1 <= n <= len(self):
            if n > len(self):
                reason = "the table has fewer areas than the network asks for"
            else:
                reason = "a network needs at least 1 area"
            raise TableError(f"{self.source} has {len(self)} areas ({', '.join(self.areas)}), "
                             f"asked for the first {n}: {reason}")
        return ProjectionTable(areas=self.areas[:n], densities=self.densities[:n, :n],
                               comments=self.comments, source=f"{self.source} (first {n} areas)")

    def with_density(self, source: str, target: str, value: float) -> "ProjectionTable":
        """A copy with one density changed; the change is recorded in ``comments``."""
        densities = self.densities.copy()
        densities[self.index(source), self.index(target)] = value
        note = f"modified in code: density {source} -> {target} set to {value!r}"
        return ProjectionTable(areas=self.areas, densities=densities,
                               comments=self.comments + (note,), source=self.source)


# ------------------------------------------------------------------ loading
#: Separators of spreadsheet exports that are not comma-separated, and their names in error messages.
FOREIGN_SEPARATORS = {";": "semicolons", "\t": "tabs"}


def _read_text(file, source: str) -> str:
    """The text of table file ``file`` (a path or package resource): UTF-8, with or without the
    byte-order mark that Excel's "CSV UTF-8" puts in front; anything else is a TableError."""
    data = file.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise TableError(f"{source}, line {line}: byte 0x{data[err.start]:02x} is not UTF-8; save the table "
                         "as UTF-8 (in Excel: CSV UTF-8)") from None


def _parse_csv(text: str, source: str) -> ProjectionTable:
    """Parse the CSV text of a table; ``source`` names it in error messages."""
    comments, rows = [], []
    for line_number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped[1:].strip())
        elif stripped:
            cells = next(csv.reader(io.StringIO(stripped)))
            rows.append((line_number, [cell.strip() for cell in cells]))
    if not rows:
        raise TableError(f"{source}: no header line and no rows: the table is empty")

    header_line, header = rows[0]
    areas = header[1:]
    body = rows[1:]
    if not areas:
        separators = [name for separator, name in FOREIGN_SEPARATORS.items() if separator in header[0]]
        hint = (f"; it is separated by {separators[0]}, but tables are comma-separated (in Excel: save as "
                "CSV UTF-8, with commas)") if separators else ""
        raise TableError(f"{source}, line {header_line}: the header names no areas{hint}")
    for row_number, (line_number, cells) in enumerate(body, start=1):
        if len(cells) != len(header):
            raise TableError(
                f"{source}, line {line_number}: row {row_number} ({cells[0]!r}) has "
                f"{len(cells)} cells, the header has {len(header)} (a name and {len(areas)} densities)")
    if len(body) != len(areas):
        raise TableError(f"{source}: the table is not square: {len(body)} rows of areas for "
                         f"{len(areas)} columns of areas")

    densities = np.zeros((len(areas), len(areas)))
    for i, (line_number, cells) in enumerate(body):
        if cells[0] != areas[i]:
            raise TableError(f"{source}, line {line_number}: row {i + 1} is named {cells[0]!r} but "
                             f"column {i + 1} of the header is {areas[i]!r}; rows and columns must "
                             "list the same areas in the same order")
        for j, text_value in enumerate(cells[1:]):
            try:
                densities[i, j] = float(text_value)
            except ValueError:
                raise TableError(f"{source}, line {line_number}: the density in row {areas[i]}, "
                                 f"column {areas[j]} is {text_value!r}, not a number") from None
    return ProjectionTable(areas=tuple(areas), densities=densities, comments=tuple(comments),
                           source=source)


def _shipped_folder():
    """The folder of the shipped tables: inside the installed package (a wheel), else the repository's
    top-level ``models/`` (a checkout or an editable install import the package from the repository)."""
    installed = resources.files(__package__) / SHIPPED_FOLDER
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / SHIPPED_FOLDER


def shipped_tables() -> tuple:
    """Names of the tables shipped with the package (usable with :func:`load_table`)."""
    return tuple(sorted(entry.name[:-len(".csv")] for entry in _shipped_folder().iterdir()
                        if entry.name.endswith(".csv")))


def load_table(name_or_path) -> ProjectionTable:
    """Load a shipped table by bare name, or any table by path.

    Parameters
    ----------
    name_or_path : str or path-like
        A bare name such as ``"macaque_visual_7areas"`` (no path separator;
        ``.csv`` optional) is looked up among the shipped tables first;
        anything else, or a bare name that is not shipped, is read as a path.
    """
    text = str(name_or_path)
    is_bare_name = not isinstance(name_or_path, Path) and "/" not in text and "\\" not in text
    if is_bare_name:
        name = text[:-len(".csv")] if text.endswith(".csv") else text
        shipped = _shipped_folder() / f"{name}.csv"
        if shipped.is_file():
            source = f"shipped table {name!r}"
            return _parse_csv(_read_text(shipped, source), source)
        if not Path(text).is_file():
            raise FileNotFoundError(f"no shipped table and no file named {text!r}; shipped tables: "
                                    f"{', '.join(shipped_tables())}")
    return ProjectionTable.from_csv(name_or_path)
