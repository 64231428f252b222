"""Measured values as readable Markdown: tables where values line up, bullet lists otherwise.

Used for the experiments' reports (``report.md``); values are what
``summary.json`` holds: dicts, lists, numbers, text and None.
"""
from __future__ import annotations

import numbers


def cell(value, digits: int = 3) -> str:
    """One value as table or list text: numbers rounded to ``digits`` significant digits, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value).replace("|", "\\|")
    if isinstance(value, numbers.Integral):
        return str(value)
    return f"{float(value) + 0.0:.{digits}g}"  # + 0.0: no '-0'


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, numbers.Number))


def _is_row(value) -> bool:
    """A dict of scalars: one table row."""
    return isinstance(value, dict) and bool(value) and all(_is_scalar(v) for v in value.values())


def _is_series(value) -> bool:
    """A list of scalars (e.g. values per epoch)."""
    return isinstance(value, (list, tuple)) and all(_is_scalar(v) for v in value)


def table(rows: dict, first_column: str = "") -> list:
    """A Markdown table: one row per entry of ``rows`` (name -> dict of scalars), a column per key."""
    columns = list(dict.fromkeys(key for row in rows.values() for key in row))
    lines = ["| " + " | ".join([first_column, *map(str, columns)]) + " |",
             "|" + " --- |" * (len(columns) + 1)]
    lines += ["| " + " | ".join([cell(name), *(cell(row.get(column)) for column in columns)]) + " |"
              for name, row in rows.items()]
    return lines


def markdown(value, digits: int = 3) -> list:
    """Markdown lines presenting ``value``.

    Parameters
    ----------
    value : dict, list, number, str or None
        A dict of scalars becomes a two-column table; a dict of dicts of
        scalars (or of lists of scalars, e.g. values per epoch) a table with a
        row per entry; a list of dicts of scalars a table with a row per item;
        any other dict a bullet list whose nested tables follow under a bold
        heading of their key; a scalar or list of scalars one line.
    digits : int
        Significant digits of numbers.

    Returns
    -------
    list of str
        Lines without trailing newlines; tables are surrounded by blank lines.
    """
    if _is_scalar(value):
        return [cell(value, digits)]
    if _is_series(value):
        return [", ".join(cell(v, digits) for v in value)]
    if isinstance(value, (list, tuple)) and all(_is_row(v) for v in value):
        return ["", *table({i + 1: row for i, row in enumerate(value)}, "#"), ""]
    if not isinstance(value, dict):
        return [str(value)]
    if all(_is_scalar(v) for v in value.values()):
        return ["", *table({key: {"value": v} for key, v in value.items()}), ""]
    if all(_is_row(v) for v in value.values()):
        return ["", *table(value), ""]
    if all(_is_series(v) for v in value.values()):
        return ["", *table({key: dict(enumerate(v)) for key, v in value.items()}), ""]
    lines = [""] + [f"- {key}: {markdown(v, digits)[0]}" for key, v in value.items()
                    if _is_scalar(v) or _is_series(v)]
    nested = {key: v for key, v in value.items() if not (_is_scalar(v) or _is_series(v))}
    by_keys = {}  # dicts of scalars over the same keys (e.g. two measures per condition): one table
    for key, v in nested.items():
        if _is_row(v):
            by_keys.setdefault(tuple(v), []).append(key)
    shown = set()
    for key, v in nested.items():
        if key in shown:
            continue
        together = by_keys.get(tuple(v), []) if _is_row(v) else []
        if len(together) > 1:
            rows = {inner: {name: nested[name][inner] for name in together} for inner in v}
            lines += ["", *table(rows), ""]
            shown.update(together)
        else:
            lines += ["", f"**{key}**", *markdown(v, digits)]
    return _single_blank_lines(lines)


def _single_blank_lines(lines: list) -> list:
    """``lines`` without runs of blank lines (one blank line separates Markdown blocks)."""
    return [line for i, line in enumerate(lines) if line or i == 0 or lines[i - 1]]
