"""Telegram Desktop export (result.json), single chat or full export.

Full export: {"chats": {"list": [{"id", "name", "type", "messages": [...]}]}}; a single chat's export
has "messages" at the top. A message has id, type (message | service), date (local), date_unixtime
(a STRING of UTC seconds), from (may be null), from_id ("user123"), and text as a string or a list of
strings and entity objects ({"type": "bold", "text": "..."}).
The centre answers from a business account: a message from anyone but the chat's peer is the agent's,
and `from` (the display name) is matched to the directory's full_name. A new conversation (contact)
starts after `conversation_gap_hours` of silence (default 4); its id is tg-<chat id>-<first message id>.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.chats import Message, add_conversation
from contactqa.sources.text import read_text


def flatten_text(text: Any) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in text
                       if isinstance(part, (str, dict)))
    return ""


def _chats(doc: Any) -> list[tuple[str, dict]]:
    if isinstance(doc, dict) and isinstance(doc.get("chats"), dict):
        return [(f"chats.list[{i}]", chat) for i, chat in enumerate(doc["chats"].get("list") or [])]
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        return [("$", doc)]
    return []


@connector("telegram")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="utterances")
    decoded = read_text(path, ctx.encoding)
    if decoded.problem:
        parsed.notes.append(decoded.problem)
    try:
        doc = json.loads(decoded.text)
    except json.JSONDecodeError as exc:
        parsed.records_read = 1
        parsed.reject("$", decoded.text, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return parsed
    chats = _chats(doc)
    if not chats:
        parsed.records_read = 1
        parsed.reject("$", decoded.text, "neither a full export (chats.list) nor a single chat (messages)")
        return parsed
    gap_s = float(ctx.options.get("conversation_gap_hours", 4)) * 3600
    for chat_locator, chat in chats:
        _parse_chat(parsed, chat_locator, chat, ctx, gap_s)
    return parsed


def _parse_chat(parsed: ParsedFile, chat_locator: str, chat: dict, ctx: IngestContext, gap_s: float) -> None:
    chat_id = chat.get("id")
    peer = f"user{chat_id}"
    conversation: list[Message] = []
    conversation_first_id: str | None = None

    def close() -> None:
        if conversation:
            add_conversation(parsed, f"tg-{chat_id}-{conversation_first_id}", conversation,
                             source_system="telegram", customer=peer)

    for j, msg in enumerate(chat.get("messages") or []):
        parsed.records_read += 1
        locator = f"{chat_locator}.messages[{j}]"
        raw = json.dumps(msg, ensure_ascii=False)
        if not isinstance(msg, dict) or "id" not in msg:
            parsed.reject(locator, raw, "a message needs an id")
            continue
        try:
            sent_at = datetime.fromtimestamp(int(msg["date_unixtime"]), tz=timezone.utc).replace(tzinfo=None)
        except (KeyError, TypeError, ValueError):
            try:
                sent_at = to_utc(datetime.fromisoformat(str(msg["date"])), ctx.zone)
            except (KeyError, ValueError):
                parsed.reject(locator, raw, "message has neither a valid date_unixtime nor date")
                continue
        if msg.get("type") == "service":
            speaker, agent_id = "system", None
            text = str(msg.get("action") or "service")
        else:
            sender_id = msg.get("from_id")
            speaker = "customer" if sender_id == peer else "agent"
            agent_id = None
            if speaker == "agent":
                display = (msg.get("from") or "").strip()
                agent_id = ctx.agents_by_name.get(display.casefold()) or (f"tg:{display}" if display else None)
            text = flatten_text(msg.get("text"))
        if conversation and (sent_at - conversation[-1].sent_at).total_seconds() > gap_s:
            close()
            conversation = []
        if not conversation:
            conversation_first_id = str(msg["id"])
        conversation.append(Message(locator, sent_at, speaker, text, agent_id=agent_id, message_id=str(msg["id"])))
    close()
