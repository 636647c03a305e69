"""Diarised call transcripts: one JSON per call, or JSON Lines with one call per line.

{"call_id": "1762059601.137", "language": "ru", "utterances": [
   {"speaker": "agent", "start_ms": 0, "end_ms": 2300, "text": "..."}, ...]}
Offsets are from the moment the call was answered. The call_id joins the CDR's uniqueid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.text import read_text

RECORD_UNIT = "transcript"
SPEAKER_ALIASES = {"operator": "agent", "оператор": "agent", "client": "customer", "клиент": "customer",
                   "caller": "customer", "ivr": "system"}


def _calls(text: str, is_jsonl: bool):
    if not is_jsonl:
        yield "$", json.loads(text)
        return
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield f"line {line_no}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {line_no}", exc


@connector("transcripts")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="transcripts")
    text = parsed.read(read_text(path, ctx.encoding))
    is_jsonl = path.suffix.lower() in {".jsonl", ".ndjson"}
    calls = _calls(text, is_jsonl)
    try:
        for locator, call in calls:
            parsed.records_read += 1
            if isinstance(call, Exception):
                parsed.reject(locator, "", f"invalid JSON: {call}")
                continue
            _add_call(parsed, locator, call)
    except json.JSONDecodeError as exc:
        parsed.records_read = max(parsed.records_read, 1)
        parsed.reject("$", text, f"invalid JSON: {exc}")
    return parsed


def _add_call(parsed: ParsedFile, locator: str, call: Any) -> None:
    raw = json.dumps(call, ensure_ascii=False)
    if not isinstance(call, dict) or not call.get("call_id"):
        parsed.reject(locator, raw, "a transcript needs a call_id")
        return
    utterances = call.get("utterances")
    if not isinstance(utterances, list) or not utterances:
        parsed.reject(locator, raw, "transcript has no utterances")
        return
    rows = []
    for i, utt in enumerate(utterances):
        try:
            speaker = str(utt["speaker"]).strip().lower()
            rows.append({
                "contact_id": str(call["call_id"]),
                "seq": i + 1,
                "speaker": SPEAKER_ALIASES.get(speaker, speaker),
                "offset_ms": int(utt["start_ms"]),
                "end_offset_ms": int(utt["end_ms"]),
                "text": str(utt.get("text") or ""),
                "message_id": None,
                "record_locator": f"{locator} utterances[{i}]",
            })
        except (KeyError, TypeError, ValueError) as exc:
            parsed.reject(locator, raw, f"utterances[{i}]: missing or invalid field ({exc})")
            return
    # One record per call: the transcript row carries the call's language; utterances derive from it.
    parsed.add("transcripts", {"contact_id": str(call["call_id"]), "language": call.get("language"),
                               "record_locator": locator})
    for row in rows:
        parsed.add("utterances", row)
