"""Writing users' text into .xlsx files as text, never as a formula (CSV/formula injection).

openpyxl stores a string that starts with "=" as a live formula, and Excel re-evaluates a cell
starting with "+", "-" or "@" as soon as someone edits it. A project name, a return reason or a
roster entry must reach the spreadsheet exactly as typed, so every such cell is written as a string
with Excel's quote prefix (the cell shows the text unchanged; editing it keeps it text).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

# Full-width forms too: Excel's input method accepts them as the operator in some locales.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES)


def as_text(cell):
    """Make `cell` hold its value as plain text if the value could be read as a formula."""
    if cell.data_type == "f" or is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def text_cells(sheet, values: Iterable[object]) -> list:
    """A write-only sheet's row with every formula-like string made text (for `sheet.append`)."""
    return [
        as_text(WriteOnlyCell(sheet, value=value)) if is_formula_like(value) else value for value in values
    ]


def save(workbook: Workbook) -> bytes:
    """Save a (normal, not write-only) workbook with every cell's text made safe first."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    as_text(cell)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
