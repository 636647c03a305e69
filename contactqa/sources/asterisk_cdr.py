"""Asterisk cdr_csv (Master.csv): one call leg per line, no header, times in the PBX's local zone.

Columns (cdr_csv's fixed order): accountcode, src, dst, dcontext, clid, channel, dstchannel,
lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags, then
optionally uniqueid, userfield (and peeraccount, linkedid, sequence on newer versions).
The agent is the PJSIP/SIP extension on the channel (outbound) or dstchannel (inbound).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector, customer_key, to_utc
from contactqa.sources.text import read_text

COLUMNS = [
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
    "uniqueid", "userfield", "peeraccount", "linkedid", "sequence",
]
DISPOSITIONS = {"ANSWERED": "answered", "NO ANSWER": "no_answer", "BUSY": "busy", "FAILED": "failed",
                "CONGESTION": "congestion"}
_EXTENSION = re.compile(r"^(?:PJSIP|SIP|IAX2|Local)/(\d{2,6})(?:[-@;].*)?$", re.IGNORECASE)
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _extension(channel: str) -> str | None:
    match = _EXTENSION.match(channel.strip())
    return match.group(1) if match else None


def _time(value: str) -> datetime | None:
    value = value.strip()
    return datetime.strptime(value, _TIME_FORMAT) if value else None


@connector("asterisk_cdr")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="contacts")
    decoded = read_text(path, ctx.encoding)
    if decoded.problem:
        parsed.notes.append(decoded.problem)
    zone = ctx.zone
    for line_no, fields in enumerate(csv.reader(io.StringIO(decoded.text, newline="")), start=1):
        if not fields or fields == [""]:
            continue
        parsed.records_read += 1
        raw = ",".join(fields)
        locator = f"line {line_no}"
        if not 16 <= len(fields) <= 21:
            parsed.reject(locator, raw, f"expected 16 to 21 cdr_csv columns, found {len(fields)}")
            continue
        rec = dict(zip(COLUMNS, fields))
        try:
            start, answer, end = _time(rec["start"]), _time(rec["answer"]), _time(rec["end"])
        except ValueError as exc:
            parsed.reject(locator, raw, f"unreadable time ({exc}); expected YYYY-MM-DD HH:MM:SS")
            continue
        if start is None or end is None:
            parsed.reject(locator, raw, "start or end time is empty")
            continue
        try:
            duration = float(rec["duration"])
            billsec = float(rec["billsec"])
        except ValueError:
            parsed.reject(locator, raw, f"duration {rec['duration']!r} / billsec {rec['billsec']!r} is not a number")
            continue
        inbound_ext = _extension(rec["dstchannel"])
        outbound_ext = _extension(rec["channel"])
        # The trunk side has no numeric extension: whichever side has one is the agent.
        direction = "outbound" if outbound_ext and not inbound_ext else "inbound"
        extension = outbound_ext if direction == "outbound" else inbound_ext
        agent_id = ctx.agents_by_extension.get(extension or "")
        if agent_id is None:
            agent_id = f"ext:{extension}" if extension else None  # GX reports it as an unknown agent
        customer_number = rec["dst"] if direction == "outbound" else rec["src"]
        queue = rec["accountcode"] or (rec["lastdata"].split(",")[0] if rec["lastapp"] == "Queue" else None)
        contact_id = rec.get("linkedid") or rec.get("uniqueid") or f"{name}:{line_no}"
        parsed.add("contacts", {
            "contact_id": contact_id,
            "channel": "voice",
            "source_system": "asterisk",
            "agent_id": agent_id,
            "queue": queue or None,
            "topic": (rec.get("userfield") or "").strip() or None,
            "direction": direction,
            "language": None,
            "started_at": to_utc(start, zone),
            "answered_at": to_utc(answer, zone) if answer else None,
            "ended_at": to_utc(end, zone),
            "duration_s": duration,
            "talk_s": billsec,
            "hold_s": None,
            "disposition": DISPOSITIONS.get(rec["disposition"].strip().upper(), rec["disposition"].strip().lower()),
            "csat": None,
            "customer_key": customer_key(customer_number),
            "recording_uri": None,
            "record_locator": locator,
        })
    return parsed
