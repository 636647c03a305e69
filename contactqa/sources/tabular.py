"""Tables with a header row, as spreadsheets and back-office tools write them: CSV and XLSX.

Russian Excel saves semicolon-delimited CSV in CP1251 or UTF-8 with a BOM: both are read, and the
delimiter (comma, semicolon or tab) is taken from the header line. Quoted fields may span lines;
a record's locator is the line it starts on. Header names are matched case-insensitively,
ignoring surrounding spaces. A file without the required header is one quarantined record.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from contactqa.sources.base import ParsedFile
from contactqa.sources.text import read_text

DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


@dataclass
class CsvRecord:
    """One data row: where it is, its text as written, and its values by lower-cased header name.

    CSV values are stripped strings; XLSX values keep the cell's type (datetime, bool, number, str).
    """

    locator: str
    raw: str
    values: dict[str, Any]
    line: int = 0


@dataclass
class CsvLine:
    """One CSV record as the csv module splits it, with the physical line it starts on."""

    line: int
    fields: list[str]
    raw: str
    error: str | None = None


def csv_lines(text: str, delimiter: str = ",") -> Iterator[CsvLine]:
    """Every non-empty record of `text`; `raw` is the record's own text, embedded newlines included."""
    physical = io.StringIO(text, newline="").readlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = max(reader.line_num, start)
            yield CsvLine(start, [], "".join(physical[start - 1:end]).rstrip("\r\n"), f"unreadable CSV: {exc}")
            start = end + 1
            continue
        end = reader.line_num
        raw = "".join(physical[start - 1:end]).rstrip("\r\n")
        line, start = start, end + 1
        if fields and fields != [""]:
            yield CsvLine(line, fields, raw)


def sniff_delimiter(first_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header line (comma when there is none)."""
    counts = {d: first_line.count(d) for d in DELIMITER_NAMES}
    best = max(counts, key=lambda d: counts[d])  # ties go to the comma, then the semicolon
    return best if counts[best] else ","


def _header_names(header: list[Any]) -> list[str]:
    return ["" if h is None else str(h).replace("\ufeff", "").strip().lower() for h in header]


def header_problem(names: list[str], required: list[str], delimiter: str | None) -> str | None:
    """Why the header cannot be used, or None: a wrong delimiter is told apart from missing columns.

    `delimiter` is the CSV delimiter the file was read with; None for a spreadsheet.
    """
    missing = [c for c in required if c not in names]
    if not missing:
        return None
    if len(names) == 1:
        for sep, sep_name in DELIMITER_NAMES.items():
            parts = [p.strip().strip('"').lower() for p in names[0].split(sep)]
            if len(parts) > 1 and any(c in parts for c in required):
                if delimiter is None:
                    return (f"wrong delimiter: the header is one cell {names[0]!r} whose names are separated by "
                            f"{sep_name}; split it into columns (Excel: Data > Text to Columns)")
                if sep == delimiter:
                    return (f"wrong delimiter: the header is one quoted field {names[0]!r}; each line seems to be "
                            f"wrapped in quotes, so its {sep_name} do not separate the columns")
                return (f"wrong delimiter: the header is one column {names[0]!r}; its names are separated by "
                        f"{sep_name}, but the file is read as separated by {DELIMITER_NAMES.get(delimiter, delimiter)}")
    return f"header lacks required column(s) {', '.join(missing)}; found {', '.join(names)}"


def read_records(path: Path, parsed: ParsedFile, required: list[str], encoding: str | None = None,
                 delimiter: str | None = None) -> Iterator[CsvRecord]:
    """Yield each data row as a dict; a file without the required header is rejected whole."""
    text = parsed.read(read_text(path, encoding)).lstrip("\ufeff")  # a BOM left by a configured encoding
    first_line = text.split("\n", 1)[0]
    delimiter = delimiter or sniff_delimiter(first_line)
    lines = csv_lines(text, delimiter)
    header = next(lines, None)
    if header is None:
        return
    names = _header_names(header.fields)
    problem = header.error or header_problem(names, required, delimiter)
    if problem:
        # The whole file is one quarantined unit: counted so that read = loaded + quarantined.
        parsed.records_read += 1
        parsed.reject(f"line {header.line}", header.raw, problem)
        return
    for row in lines:
        if not any(cell.strip() for cell in row.fields) and not row.error:
            continue
        parsed.records_read += 1
        locator = f"line {row.line}"
        if row.error:
            parsed.reject(locator, row.raw, row.error)
            continue
        if len(row.fields) != len(names):
            parsed.reject(locator, row.raw, f"expected {len(names)} fields, found {len(row.fields)}")
            continue
        yield CsvRecord(locator, row.raw, {n: v.strip() for n, v in zip(names, row.fields)}, row.line)


def _cell(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without '.0' (Excel stores ids typed as numbers as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def read_xlsx_records(path: Path, parsed: ParsedFile, required: list[str], sheet: str | None = None,
                      ) -> Iterator[CsvRecord]:
    """Yield each data row of a workbook's first sheet (or `sheet`) below its header row.

    Cells keep their types (Excel dates arrive as datetimes, TRUE/FALSE as bools); formulas are read
    as the values Excel last saved. The locator is "<sheet>!row <n>", as Excel numbers rows.
    """
    from openpyxl import load_workbook  # imported here: only evaluation workbooks need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except zipfile.BadZipFile:
        parsed.records_read += 1
        parsed.reject("file", "", "not an XLSX workbook: the file is not a zip archive "
                                  "(a CSV or an old .xls saved under an .xlsx name, or a truncated copy?)")
        return
    except Exception as exc:  # a zip that is not a workbook, a damaged workbook part
        parsed.records_read += 1
        parsed.reject("file", "", f"not a readable XLSX workbook ({type(exc).__name__}: {exc})")
        return
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            parsed.records_read += 1
            parsed.reject("file", "", f"the workbook has no sheet {sheet!r} (option sheet); "
                                      f"its sheets are {', '.join(workbook.sheetnames)}")
            return
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        title = worksheet.title
        rows = worksheet.iter_rows(values_only=True)
        row_no = 0
        try:
            header = None
            for row_no, cells in enumerate(rows, start=1):
                if any(c is not None and str(c).strip() for c in cells):
                    header = list(cells)
                    break
            if header is None:
                return
            names = _header_names(header)
            while names and not names[-1]:  # the sheet's used range may be wider than its header
                names.pop()
            problem = header_problem([n for n in names if n], required, None)
            if problem:
                parsed.records_read += 1
                parsed.reject(f"{title}!row {row_no}", "\t".join(cell_text(c) for c in header), problem)
                return
            for row_no, cells in enumerate(rows, start=row_no + 1):
                cells = [_cell(c) for c in cells]
                if all(c is None or c == "" for c in cells):
                    continue
                parsed.records_read += 1
                locator = f"{title}!row {row_no}"
                raw = "\t".join(cell_text(c) for c in cells).rstrip("\t")
                beyond = [c for c in cells[len(names):] if c not in (None, "")]
                if beyond:
                    parsed.reject(locator, raw, f"{len(beyond)} value(s) beyond the header's {len(names)} columns")
                    continue
                values = {n: v for n, v in zip(names, cells) if n}
                yield CsvRecord(locator, raw, values, row_no)
        except Exception as exc:  # damaged sheet XML part-way through: what was read stands
            parsed.records_read += 1
            parsed.reject(f"{title}!row {row_no + 1}", "", f"the sheet cannot be read from here on "
                                                           f"({type(exc).__name__}: {exc})")
    finally:
        workbook.close()
