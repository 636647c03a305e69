"""CSV and Excel files the project writes for people: every cell safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before one) as a formula: a chat message ``=HYPERLINK("http://…?"&A1)``
would send the sheet's data away, ``=cmd|…`` start a program ("CSV injection"). `spreadsheet_safe`
puts an apostrophe before such text, the way a spreadsheet shows typed text; numbers, and text that
is only a number (``-5``), stay numbers. Every CSV or XLSX the project writes goes through
`write_csv` / `write_xlsx`, which apply it to every cell. (The synthetic generator's files are
realistic *input* exports and are written as the systems it imitates write them.)
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """`value`, with text that a spreadsheet would run as a formula prefixed by an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ",") -> Path:
    """A CSV (UTF-8 with BOM, so Excel reads Cyrillic) with every cell made safe."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow([spreadsheet_safe(name) for name in header])
        writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "data") -> Path:
    """An Excel workbook of one sheet with every cell made safe (numbers are written as numbers)."""
    from openpyxl import Workbook  # imported here: only spreadsheet exports need it

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append([spreadsheet_safe(name) for name in header])
    for row in rows:
        worksheet.append([spreadsheet_safe(value) for value in row])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
