"""Agent action log CSV: contact_id, agent_id, at (ISO-8601), action, detail."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.tabular import read_records

REQUIRED = ["contact_id", "agent_id", "at", "action"]


@connector("agent_actions")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="agent_actions")
    for rec in read_records(path, parsed, REQUIRED, ctx.encoding):
        v = rec.values
        try:
            at = to_utc(datetime.fromisoformat(v["at"]), ctx.zone)
        except ValueError:
            parsed.reject(rec.locator, rec.raw, f"at {v['at']!r} is not an ISO-8601 time")
            continue
        parsed.add("agent_actions", {
            "contact_id": v["contact_id"], "agent_id": v["agent_id"], "at": at,
            "action": v["action"].strip().lower(), "detail": v.get("detail") or None, "record_locator": rec.locator,
        })
    return parsed
