"""CSV exports with a header, as spreadsheets and back-office tools write them.

Russian Excel saves semicolon-delimited CSV in CP1251 or UTF-8 with a BOM: both are read.
Header names are matched case-insensitively, ignoring surrounding spaces.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from contactqa.sources.base import ParsedFile
from contactqa.sources.text import read_text


@dataclass
class CsvRecord:
    locator: str
    raw: str
    values: dict[str, str]


def read_records(path: Path, parsed: ParsedFile, required: list[str], encoding: str | None = None,
                 ) -> Iterator[CsvRecord]:
    """Yield each data row as a dict; a file without the required header is rejected whole."""
    decoded = read_text(path, encoding)
    if decoded.problem:
        parsed.notes.append(decoded.problem)
    text = decoded.text
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        parsed.reject("line 1", first_line[:2000],
                      f"header lacks required column(s) {', '.join(missing)}; found {', '.join(names)}")
        # The whole file is one quarantined unit: counted so that read = loaded + quarantined.
        parsed.records_read += 1
        return
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        parsed.records_read += 1
        line_no = reader.line_num
        raw = delimiter.join(row)
        if len(row) != len(names):
            parsed.reject(f"line {line_no}", raw, f"expected {len(names)} fields, found {len(row)}")
            continue
        yield CsvRecord(f"line {line_no}", raw, {n: v.strip() for n, v in zip(names, row)})
