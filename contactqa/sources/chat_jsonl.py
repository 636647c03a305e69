"""Generic chat export, JSON Lines: one message per line.

{"conversation_id": "chat-0001", "agent_id": "A007", "sender": "agent", "sent_at": "2026-11-02T09:15:03+05:00",
 "text": "...", "queue": "cards", "topic": "card_blocked", "customer_id": "c-123"}
sender is agent | customer | bot | system; sent_at is ISO-8601 (with an offset, else the source's timezone).
The same fields as CSV are read by chat_csv; both use chats.Conversations.
"""

from __future__ import annotations

import json
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.chats import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.chats import ChatRecordError, Conversations
from contactqa.sources.text import read_text


@connector("chat_jsonl")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="utterances")
    text = parsed.read(read_text(path, ctx.encoding))
    conversations = Conversations()
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parsed.records_read += 1
        locator = f"line {line_no}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.reject(locator, line, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(rec, dict):
            parsed.reject(locator, line, "a line must be a JSON object")
            continue
        try:
            conversations.add(rec, locator, ctx, line)
        except ChatRecordError as exc:
            parsed.reject(locator, line, str(exc))
    conversations.add_to(parsed, "chat_jsonl", ctx)
    return parsed
