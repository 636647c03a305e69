"""QA evaluations, one row per contact x criterion, as CSV or as an Excel workbook (.xlsx).

Columns: evaluation_id, contact_id, evaluator_id, criterion_id, result, points, comment, evaluated_at,
calibration_session_id, is_reference. result is pass | fail | na, or in Russian пройден | не пройден |
н/п (also да / нет). evaluated_at is ISO-8601 or DD.MM.YYYY [HH:MM[:SS]] text, or an Excel date cell,
in the source's timezone unless it carries an offset. is_reference is TRUE/FALSE (ИСТИНА/ЛОЖЬ, да/нет).
A workbook is read from its first sheet (option `sheet` names another), header in the first row used.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.tabular import cell_text, read_records, read_xlsx_records

REQUIRED = ["evaluation_id", "contact_id", "evaluator_id", "criterion_id", "result"]
_TRUE = {"true", "1", "yes", "y", "t", "да", "истина"}
RESULTS = {"pass": "pass", "fail": "fail", "na": "na", "n/a": "na",
           "пройден": "pass", "не пройден": "fail", "н/п": "na", "не применимо": "na", "да": "pass", "нет": "fail",
           # the contact cannot be evaluated at all (wrong agent, no audio, test call; the reason in the
           # comment): the sampling plan replaces it with the next contact of its stratum
           "unusable": "unusable", "непригоден": "unusable", "непригодно": "unusable", "брак": "unusable"}
_TEXT_TIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
OPTIONS = {"sheet": "the workbook's sheet to read (default: the first)"}


class BadEvaluation(ValueError):
    """A row that cannot become an evaluation; the message is the quarantine reason."""


def _evaluated_at(value: Any, ctx: IngestContext) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return to_utc(value, ctx.zone)
    if isinstance(value, date):
        return to_utc(datetime(value.year, value.month, value.day), ctx.zone)
    if isinstance(value, (int, float)):
        raise BadEvaluation(f"evaluated_at {value!r} is a number, not a date: format the column as a date")
    text = str(value).strip()
    try:
        return to_utc(datetime.fromisoformat(text), ctx.zone)
    except ValueError:
        pass
    for fmt in _TEXT_TIME_FORMATS:
        try:
            return to_utc(datetime.strptime(text, fmt), ctx.zone)
        except ValueError:
            continue
    raise BadEvaluation(f"evaluated_at {text!r} is not a time (ISO-8601 or DD.MM.YYYY HH:MM)")


def _points(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise BadEvaluation(f"points {value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        raise BadEvaluation(f"points {value!r} is not a number") from None


def _is_reference(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return cell_text(value).lower() in _TRUE


def evaluation_row(values: dict[str, Any], locator: str, ctx: IngestContext) -> dict[str, Any]:
    """The canonical row of one CSV or worksheet row (values by lower-case header name)."""
    text = {k: cell_text(v) for k, v in values.items()}
    result = text["result"].lower()
    return {
        "evaluation_id": text["evaluation_id"], "contact_id": text["contact_id"],
        "evaluator_id": text["evaluator_id"], "criterion_id": text["criterion_id"].upper(),
        "result": RESULTS.get(result, result),  # anything else: the suite says what is allowed
        "points": _points(values.get("points")), "comment": text.get("comment") or None,
        "evaluated_at": _evaluated_at(values.get("evaluated_at"), ctx),
        "calibration_session_id": text.get("calibration_session_id") or None,
        "is_reference": _is_reference(values.get("is_reference")),
        "record_locator": locator,
    }


@connector("evaluations")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="evaluations")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        records = read_xlsx_records(path, parsed, REQUIRED, ctx.options.get("sheet"))
    else:
        records = read_records(path, parsed, REQUIRED, ctx.encoding)
    for rec in records:
        try:
            parsed.add("evaluations", evaluation_row(rec.values, rec.locator, ctx))
        except BadEvaluation as exc:
            parsed.reject(rec.locator, rec.raw, str(exc))
    return parsed
