"""Generic chat export as CSV: one message per row, the same fields as the JSON Lines export.

conversation_id,agent_id,sender,sent_at,text,queue,topic,customer_id   (message_id optional)
chat-0001,A007,agent,2026-11-02T09:15:03+05:00,"Добрый день!",cards,card_blocked,c-123

sender is agent | customer | bot | system; sent_at is ISO-8601 (with an offset, else the source's
timezone). Comma or semicolon delimited, UTF-8 (with or without BOM) or CP1251; a message may span
lines inside quotes. Records become messages by the rule in chats.py, shared with chat_jsonl.
"""

from __future__ import annotations

from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.chats import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.chats import ChatRecordError, Conversations
from contactqa.sources.tabular import read_records

REQUIRED = ["conversation_id", "sender", "sent_at", "text"]


@connector("chat_csv")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="utterances")
    conversations = Conversations()
    for rec in read_records(path, parsed, REQUIRED, ctx.encoding):
        try:
            conversations.add(rec.values, rec.locator, ctx, rec.raw)
        except ChatRecordError as exc:
            parsed.reject(rec.locator, rec.raw, str(exc))
    conversations.add_to(parsed, "chat_csv", ctx)
    return parsed
