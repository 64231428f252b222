"""report.md's values as Markdown: tables where values line up, no Python dict syntax."""
from brian_errorcircuits.markdown import markdown


def test_values_become_tables_and_bullets():
    """The shapes the predictions report holds: per-area numbers, per-area measures, rows of conditions,
    and a mix of scalars and per-condition measures (two over the same conditions share one table)."""
    per_area = "\n".join(markdown({"area1": 0.91234, "area2": None}))
    assert "| area1 | 0.912 |" in per_area and "| area2 | - |" in per_area
    measures = markdown({"V1": {"apical": 0.95, "basal": -0.0}})
    assert "|  | apical | basal |" in measures and "| V1 | 0.95 | 0 |" in measures
    conditions = markdown([{"scale": 1, "gain": 0.9}, {"scale": 3, "gain": 0.5}])
    assert "| # | scale | gain |" in conditions and "| 2 | 3 | 0.5 |" in conditions
    mixed = markdown({"correlation": 0.97, "removed": {"cut a": 0.1, "cut b": 1.0},
                      "deficit": {"cut a": 0.0, "cut b": 0.3}, "mse": {"intact": [0.2, 0.1]}})
    assert "- correlation: 0.97" in mixed
    assert "|  | removed | deficit |" in mixed and "| cut b | 1 | 0.3 |" in mixed
    assert "**mse**" in mixed and "| intact | 0.2 | 0.1 |" in mixed
    text = "\n".join(mixed)
    assert "{" not in text and "\n\n\n" not in text
