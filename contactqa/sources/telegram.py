"""Telegram Desktop export (result.json), single chat or full export.

Full export: {"chats": {"list": [{"id", "name", "type", "messages": [...]}]}}; a single chat's export
has "messages" at the top. A message has id, type (message | service), date (local), date_unixtime
(a STRING of UTC seconds), from (may be null), from_id ("user123"), and text as a string or a list of
strings and entity objects ({"type": "bold", "text": "..."}).

The centre answers from its own accounts; which senders of a chat are the centre's is decided per
chat, the first rule that applies:
  1. option `agent_sender_ids` lists the centre's from_id values: those senders are the centre's,
     every other sender is the customer;
  2. the chat's id is a sender's (a personal chat's id is the peer's user id): that sender is the
     customer, every other sender is the centre's;
  3. senders whose display name is an agent's full_name in the directory are the centre's, the
     others the customer;
  4. otherwise the chat is quarantined whole, naming the option to set and the senders seen:
     never is a customer's message taken for an agent's.
A centre's message is its agent's by `agent_sender_ids` given as a mapping (from_id -> agent_id, for
a shared business account), else by display name matched to the directory's full_name ('tg:<name>'
when none matches, which the directory check quarantines). A new conversation (contact) starts after
`conversation_gap_hours` of silence (default 4); its id is tg-<chat id>-<first message id>.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector, to_utc
from contactqa.sources.chats import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.chats import Message, add_conversation
from contactqa.sources.text import read_text

OPTIONS = {
    "conversation_gap_hours": "hours of silence after which a new conversation starts (default 4)",
    "agent_sender_ids": "the centre's from_id values (user123456789): a list, or a mapping from_id -> agent_id "
                        "for an account whose display name is no agent's full_name",
}
UNKNOWN_SENDER = "tg:"  # agent_id of a centre's sender the directory does not name: GX quarantines it


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


def _sender_id(value: Any) -> str:
    """A from_id as the export writes it: 123456789 and "123456789" are "user123456789"."""
    text = str(value).strip()
    return f"user{text}" if text.isdigit() else text


def agent_senders(options: dict[str, Any]) -> dict[str, str | None] | None:
    """Option agent_sender_ids as from_id -> agent_id (None: by display name); None when not set."""
    value = options.get("agent_sender_ids")
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return {_sender_id(v): None for v in value}
    if isinstance(value, dict) and all(v is None or isinstance(v, str) for v in value.values()):
        return {_sender_id(k): (v.strip() or None) if v else None for k, v in value.items()}
    raise ValueError(f"option agent_sender_ids must list the centre's from_id values (like [user123456789]) or map "
                     f"each to an agent_id (like {{user123456789: A001}}), not {value!r}")


def option_problems(options: dict[str, Any]) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    problems = []
    gap = options.get("conversation_gap_hours", 4)
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or gap <= 0:
        problems.append(f"option conversation_gap_hours must be a number of hours above 0, not {gap!r}")
    try:
        agent_senders(options)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


@connector("telegram")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="utterances")
    text = parsed.read(read_text(path, ctx.encoding))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.records_read = 1
        parsed.reject("$", text, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return parsed
    chats = _chats(doc)
    if not chats:
        parsed.records_read = 1
        parsed.reject("$", text, "neither a full export (chats.list) nor a single chat (messages)")
        return parsed
    problems = option_problems(ctx.options)
    if problems:
        raise ValueError("; ".join(problems))  # the project's mistake, not the file's: stops the run
    gap_s = float(ctx.options.get("conversation_gap_hours", 4)) * 3600
    for chat_locator, chat in chats:
        _parse_chat(parsed, chat_locator, chat, ctx, gap_s)
    return parsed


@dataclass
class _Record:
    locator: str
    raw: str
    msg: dict
    sent_at: datetime


def _sent_at(msg: dict, ctx: IngestContext) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(msg["date_unixtime"]), tz=timezone.utc).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        try:
            return to_utc(datetime.fromisoformat(str(msg["date"])), ctx.zone)
        except (KeyError, ValueError):
            return None


def _centre_side(chat: dict, records: list[_Record], ctx: IngestContext) -> tuple[set[str], str | None, str | None]:
    """The chat's senders that are the centre's, and its customer's from_id; or, when that cannot be
    told, the reason the chat is quarantined (see the module's rules)."""
    names: dict[str, str] = {}
    for r in records:
        if r.msg.get("type") != "service" and r.msg.get("from_id"):
            sender = _sender_id(r.msg["from_id"])
            if not names.get(sender):
                names[sender] = (r.msg.get("from") or "").strip()
    peer = f"user{chat.get('id')}"
    listed = agent_senders(ctx.options)
    if listed is not None:
        centre = {s for s in names if s in listed}
    elif peer in names:
        centre = set(names) - {peer}
    else:
        centre = {s for s, name in names.items() if name and name.casefold() in ctx.agents_by_name}
        if not centre and names:
            seen = ", ".join(f"{s} {n!r}" if n else s for s, n in names.items())
            return set(), None, (
                f"cannot tell the centre's messages from the customer's (set option agent_sender_ids): in chat "
                f"{chat.get('id')} {chat.get('name')!r} no sender has the chat's id and no sender's name is an "
                f"agent's full_name in the directory. Senders seen: {seen}")
    customers = [s for s in names if s not in centre]
    customer = peer if peer in customers else (customers[0] if customers else peer)
    return centre, customer, None


def _parse_chat(parsed: ParsedFile, chat_locator: str, chat: dict, ctx: IngestContext, gap_s: float) -> None:
    chat_id = chat.get("id")
    records: list[_Record] = []
    for j, msg in enumerate(chat.get("messages") or []):
        parsed.records_read += 1
        locator = f"{chat_locator}.messages[{j}]"
        raw = json.dumps(msg, ensure_ascii=False)
        if not isinstance(msg, dict) or "id" not in msg:
            parsed.reject(locator, raw, "a message needs an id")
            continue
        sent_at = _sent_at(msg, ctx)
        if sent_at is None:
            parsed.reject(locator, raw, "message has neither a valid date_unixtime nor date")
            continue
        problem = ctx.time_problem(sent_at, "date")
        if problem:
            parsed.reject(locator, raw, problem)
            continue
        records.append(_Record(locator, raw, msg, sent_at))
    centre, customer, unclear = _centre_side(chat, records, ctx)
    if unclear:
        for r in records:
            parsed.reject(r.locator, r.raw, unclear)
        return
    listed = agent_senders(ctx.options) or {}
    conversation: list[Message] = []
    conversation_first_id: str | None = None

    def close() -> None:
        if conversation:
            add_conversation(parsed, f"tg-{chat_id}-{conversation_first_id}", conversation,
                             source_system="telegram", customer=customer)

    for r in records:
        msg = r.msg
        if msg.get("type") == "service":
            speaker, agent_id = "system", None
            text = str(msg.get("action") or "service")
        else:
            sender = _sender_id(msg.get("from_id") or "")
            speaker = "agent" if sender in centre else "customer"
            agent_id = None
            if speaker == "agent":
                display = (msg.get("from") or "").strip()
                agent_id = (listed.get(sender) or ctx.agents_by_name.get(display.casefold())
                            or f"{UNKNOWN_SENDER}{display or sender}")
            text = flatten_text(msg.get("text"))
        if conversation and (r.sent_at - conversation[-1].sent_at).total_seconds() > gap_s:
            close()
            conversation = []
        if not conversation:
            conversation_first_id = str(msg["id"])
        conversation.append(Message(r.locator, r.sent_at, speaker, text, agent_id=agent_id,
                                    message_id=str(msg["id"]), raw=r.raw))
    close()
