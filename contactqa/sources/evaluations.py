"""QA evaluations CSV, one row per contact x criterion: evaluation_id, contact_id, evaluator_id,
criterion_id, result (pass | fail | na), points, comment, evaluated_at, calibration_session_id, is_reference."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.tabular import read_records

REQUIRED = ["evaluation_id", "contact_id", "evaluator_id", "criterion_id", "result"]
_TRUE = {"true", "1", "yes", "y", "да", "t"}
RESULTS = {"pass": "pass", "fail": "fail", "na": "na", "n/a": "na", "да": "pass", "нет": "fail"}


@connector("evaluations")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="evaluations")
    for rec in read_records(path, parsed, REQUIRED, ctx.encoding):
        v = rec.values
        try:
            evaluated_at = to_utc(datetime.fromisoformat(v["evaluated_at"]), ctx.zone) if v.get("evaluated_at") else None
            points = float(v["points"].replace(",", ".")) if v.get("points") else None
        except ValueError as exc:
            parsed.reject(rec.locator, rec.raw, f"evaluated_at or points unreadable: {exc}")
            continue
        parsed.add("evaluations", {
            "evaluation_id": v["evaluation_id"], "contact_id": v["contact_id"], "evaluator_id": v["evaluator_id"],
            "criterion_id": v["criterion_id"].strip().upper(),
            "result": RESULTS.get(v["result"].strip().lower(), v["result"].strip().lower()),
            "points": points, "comment": v.get("comment") or None, "evaluated_at": evaluated_at,
            "calibration_session_id": v.get("calibration_session_id") or None,
            "is_reference": (v.get("is_reference") or "").strip().lower() in _TRUE,
            "record_locator": rec.locator,
        })
    return parsed
