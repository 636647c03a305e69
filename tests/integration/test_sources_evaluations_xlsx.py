"""Evaluation worksheets filled in Excel (.xlsx, written here with openpyxl): typed cells, Russian results,
the sheet to read, and files Excel users really send (another sheet, a renamed CSV)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
from openpyxl import Workbook

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.sources import IngestContext, parse_file

HEADER = ["evaluation_id", "contact_id", "evaluator_id", "criterion_id", "result", "points", "comment",
          "evaluated_at", "calibration_session_id", "is_reference"]
ROWS = [
    ["ev-1", "1762059600.1", "E01", "greeting", "пройден", 10, "Представилась", datetime(2026, 11, 3, 10, 0),
     None, False],
    ["ev-1", "1762059600.1", "E01", "CLOSING", "не пройден", 0, "Не попрощалась", datetime(2026, 11, 3, 10, 0),
     None, False],
    ["ev-1", "1762059600.1", "E01", "HOLD", "Н/П", None, None, datetime(2026, 11, 3, 10, 0), None, False],
    [None, None, None, None, None, None, None, None, None, None],  # an empty row left in the middle
    ["ev-2", 1762059600.1, "E02", "GREETING", "pass", "7,5", None, "03.11.2026 11:30", "cal-11", True],
    ["ev-3", "1762059600.1", "E03", "GREETING", "может быть", 5, None, datetime(2026, 11, 3, 12, 0), None, "ИСТИНА"],
    ["ev-4", "1762059600.1", "E03", "GREETING", "pass", 5, None, 45964.5, None, False],
    ["ev-5", "1762059600.1", "E03", "GREETING", "pass", 5, None, datetime(2026, 11, 3, 12, 0), None, False, "лишнее"],
]


def workbook(path: Path, rows=ROWS, *, title: str = "Оценки", before: list | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    if before:
        book.create_sheet("Инструкция", 0).append(before)
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def parse(path: Path, options: dict | None = None):
    return parse_file("evaluations", path, path.name, IngestContext(timezone="Asia/Almaty", options=options or {}))


def test_worksheet_rows_keep_their_types_and_russian_results(tmp_path):
    parsed = parse(workbook(tmp_path / "evaluations.xlsx"))
    assert parsed.records_read == 7  # the empty row is not a record
    rows = parsed.tables["evaluations"]
    assert [(r["criterion_id"], r["result"], r["points"], r["record_locator"]) for r in rows] == [
        ("GREETING", "pass", 10.0, "Оценки!row 2"), ("CLOSING", "fail", 0.0, "Оценки!row 3"),
        ("HOLD", "na", None, "Оценки!row 4"), ("GREETING", "pass", 7.5, "Оценки!row 6"),
        ("GREETING", "может быть", 5.0, "Оценки!row 7")]
    assert rows[0]["evaluated_at"] == datetime(2026, 11, 3, 5, 0)  # an Excel date in Asia/Almaty, stored UTC
    assert rows[3]["evaluated_at"] == datetime(2026, 11, 3, 6, 30)  # typed as text, DD.MM.YYYY
    assert rows[3]["contact_id"] == "1762059600.1" and rows[3]["calibration_session_id"] == "cal-11"
    assert [r["is_reference"] for r in rows] == [False, False, False, True, True]
    assert rows[0]["comment"] == "Представилась" and rows[2]["comment"] is None
    assert {r.locator: r.reason for r in parsed.rejects} == {
        "Оценки!row 8": "evaluated_at 45964.5 is a number, not a date: format the column as a date",
        "Оценки!row 9": "1 value(s) beyond the header's 10 columns",
    }


def test_option_sheet_picks_the_sheet_and_a_missing_one_is_named(tmp_path):
    path = workbook(tmp_path / "calibration.xlsx", before=["Заполните лист «Оценки»"])
    parsed = parse(path, {"sheet": "Оценки"})
    assert len(parsed.tables["evaluations"]) == 5
    first_sheet = parse(path)  # the instructions sheet comes first and has no header
    assert first_sheet.rejects[0].reason.startswith("header lacks required column(s) evaluation_id, contact_id")
    missing = parse(path, {"sheet": "Лист1"})
    assert [r.reason for r in missing.rejects] == [
        "the workbook has no sheet 'Лист1' (option sheet); its sheets are Инструкция, Оценки"]
    assert missing.records_read == 1


def test_a_file_that_is_not_a_workbook_is_one_quarantined_record(tmp_path):
    path = tmp_path / "evaluations.xlsx"
    path.write_text("evaluation_id,contact_id\nev-1,1762059600.1\n", encoding="utf-8")  # a CSV renamed .xlsx
    parsed = parse(path)
    assert parsed.records_read == 1 and not parsed.tables
    assert parsed.rejects[0].reason == ("not an XLSX workbook: the file is not a zip archive "
                                        "(a CSV or an old .xls saved under an .xlsx name, or a truncated copy?)")
    book = Workbook()
    book.save(path)
    path.write_bytes(path.read_bytes()[:300])  # cut short while copying
    assert parse(path).rejects[0].reason.startswith("not an XLSX workbook: the file is not a zip archive")


def test_one_cell_header_is_a_wrong_delimiter(tmp_path):
    book = Workbook()
    book.active.append([";".join(HEADER)])
    book.active.append(["ev-1;1762059600.1;E01;GREETING;pass;10;;;;"])
    book.save(tmp_path / "evaluations.xlsx")
    [reject] = parse(tmp_path / "evaluations.xlsx").rejects
    assert reject.reason.startswith("wrong delimiter: the header is one cell 'evaluation_id;contact_id;")
    assert reject.locator == "Sheet!row 1"


def test_workbook_through_ingest_balances(tmp_path):
    (tmp_path / "evaluations").mkdir()
    workbook(tmp_path / "evaluations" / "week-45.xlsx")
    source = {"name": "evaluations", "type": "evaluations", "location": "evaluations", "glob": "*.xlsx",
              "timezone": "Asia/Almaty"}
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": [source]})
    project = load_project(tmp_path / "contactqa.yml")
    summary = ingest_source(project.warehouse_path, project, project.config.sources[0], "run-1")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (7, 4, 3)
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT result, count(*) FROM raw.evaluations GROUP BY 1 ORDER BY 1").fetchall() == [
            ("fail", 1), ("na", 1), ("pass", 2)]
        quarantined = dict(con.execute("SELECT record_locator, reasons FROM raw.quarantine").fetchall())
    assert "result must be pass, fail, na or unusable" in quarantined["Оценки!row 7"]
    assert set(quarantined) == {"Оценки!row 7", "Оценки!row 8", "Оценки!row 9"}
