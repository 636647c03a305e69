"""Agent directory CSV: agent_id, full_name, email, team, supervisor_email, locale, extension
(plus optional active_from, active_to as YYYY-MM-DD)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.tabular import read_records

REQUIRED = ["agent_id", "full_name", "email", "team", "supervisor_email"]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@connector("agent_directory")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="agents")
    for rec in read_records(path, parsed, REQUIRED, ctx.encoding):
        v = rec.values
        try:
            active_from, active_to = _date(v.get("active_from")), _date(v.get("active_to"))
        except ValueError as exc:
            parsed.reject(rec.locator, rec.raw, f"active_from/active_to: {exc}")
            continue
        parsed.add("agents", {
            "agent_id": v["agent_id"], "full_name": v["full_name"], "email": v["email"].lower(),
            "team": v["team"], "supervisor_email": v["supervisor_email"].lower(),
            "locale": (v.get("locale") or "").lower() or None, "extension": v.get("extension") or None,
            "active_from": active_from, "active_to": active_to, "record_locator": rec.locator,
        })
    return parsed
