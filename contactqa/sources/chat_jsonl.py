"""Generic chat export, JSON Lines: one message per line.

{"conversation_id": "chat-0001", "agent_id": "A007", "sender": "agent", "sent_at": "2026-11-02T09:15:03+05:00",
 "text": "...", "queue": "cards", "topic": "card_blocked", "customer_id": "c-123"}
sender is agent | customer | bot | system; sent_at is ISO-8601 (with an offset, else the source's timezone).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.chats import Message, add_conversation
from contactqa.sources.text import read_text

SENDERS = {"agent", "customer", "bot", "system"}


@connector("chat_jsonl")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="utterances")
    decoded = read_text(path, ctx.encoding)
    if decoded.problem:
        parsed.notes.append(decoded.problem)
    conversations: dict[str, list[Message]] = {}
    meta: dict[str, dict] = {}
    for line_no, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        parsed.records_read += 1
        locator = f"line {line_no}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.reject(locator, line[:4000], f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(rec, dict):
            parsed.reject(locator, line[:4000], "a line must be a JSON object")
            continue
        missing = [k for k in ("conversation_id", "sender", "sent_at") if not rec.get(k)]
        if missing:
            parsed.reject(locator, line[:4000], f"missing {', '.join(missing)}")
            continue
        sender = str(rec["sender"]).strip().lower()
        if sender not in SENDERS:
            parsed.reject(locator, line[:4000], f"sender {rec['sender']!r} is not one of {sorted(SENDERS)}")
            continue
        try:
            sent_at = to_utc(datetime.fromisoformat(str(rec["sent_at"])), ctx.zone)
        except ValueError:
            parsed.reject(locator, line[:4000], f"sent_at {rec['sent_at']!r} is not an ISO-8601 time")
            continue
        conv_id = str(rec["conversation_id"])
        conversations.setdefault(conv_id, []).append(Message(
            locator, sent_at, sender, str(rec.get("text") or ""),
            agent_id=str(rec["agent_id"]) if rec.get("agent_id") else None,
            message_id=str(rec["message_id"]) if rec.get("message_id") else None))
        info = meta.setdefault(conv_id, {})
        for key in ("queue", "topic", "customer_id"):
            if rec.get(key) and key not in info:
                info[key] = str(rec[key])
    for conv_id, messages in conversations.items():
        info = meta[conv_id]
        add_conversation(parsed, conv_id, messages, source_system="chat_jsonl", queue=info.get("queue"),
                         topic=info.get("topic"), customer=info.get("customer_id"))
    return parsed
