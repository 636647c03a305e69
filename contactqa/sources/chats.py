"""What chat connectors share: the generic export's record -> message rule, and turning a
conversation's messages into a contact and utterances.

Times of messages land only as offsets from the conversation's first message, so each message's
time is held to the run's time window here (contactqa.quality.window): a message dated years ahead
is quarantined alone, instead of stretching its conversation to 2031. Each message names its agent
(`agent_id`): a conversation with a message from an agent the directory does not know is
quarantined whole, so no message is ever scored under another agent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from contactqa.sources.base import IngestContext, ParsedFile, customer_key, to_utc

RECORD_UNIT, CONTACT_UNIT = "message", "conversation"  # what a record and a contact of a chat source are


@dataclass
class Message:
    locator: str
    sent_at: datetime  # naive UTC
    speaker: str
    text: str
    agent_id: str | None = None
    message_id: str | None = None
    raw: str = ""  # the record as written, kept in quarantine if its conversation is


def add_conversation(parsed: ParsedFile, contact_id: str, messages: list[Message], *, source_system: str,
                     queue: str | None = None, topic: str | None = None, customer: str | None = None,
                     agent_id: str | None = None) -> None:
    """One contact row and its utterances; offsets are from the first message."""
    messages = sorted(messages, key=lambda m: (m.sent_at, m.locator))
    first, last = messages[0].sent_at, messages[-1].sent_at
    if agent_id is None:
        agents = Counter(m.agent_id for m in messages if m.speaker == "agent" and m.agent_id)
        agent_id = agents.most_common(1)[0][0] if agents else None
    parsed.add("contacts", {
        "contact_id": contact_id, "channel": "chat", "source_system": source_system, "agent_id": agent_id,
        "queue": queue, "topic": topic, "direction": "inbound", "language": None,
        "started_at": first, "answered_at": next((m.sent_at for m in messages if m.speaker == "agent"), None),
        "ended_at": last, "duration_s": (last - first).total_seconds(), "talk_s": None, "hold_s": None,
        "disposition": "answered" if any(m.speaker == "agent" for m in messages) else "abandoned",
        "csat": None, "customer_key": customer_key(customer), "recording_uri": None,
        "record_locator": messages[0].locator,
    })
    for seq, m in enumerate(messages, start=1):
        offset = int((m.sent_at - first).total_seconds() * 1000)
        parsed.add("utterances", {
            "contact_id": contact_id, "seq": seq, "speaker": m.speaker, "offset_ms": offset,
            "end_offset_ms": offset, "text": m.text, "message_id": m.message_id, "record_locator": m.locator,
        })


def reject_conversation(parsed: ParsedFile, messages: list[Message], reason_of: dict[str, str], reason: str) -> None:
    """Quarantine every message of a conversation: those in `reason_of` (by locator) with their own
    reason, the others with `reason`."""
    for m in messages:
        parsed.reject(m.locator, m.raw, reason_of.get(m.locator, reason))


SENDERS = {"agent", "customer", "bot", "system"}
CONVERSATION_FIELDS = ("queue", "topic", "customer_id")


class ChatRecordError(ValueError):
    """A message record that cannot be read; the message is the quarantine reason."""


def message_from_record(rec: Mapping[str, Any], locator: str, ctx: IngestContext, raw: str = "") -> Message:
    """A chat message from a record of the generic export (a JSON object or a CSV row)."""
    missing = [k for k in ("conversation_id", "sender", "sent_at") if not rec.get(k)]
    if missing:
        raise ChatRecordError(f"missing {', '.join(missing)}")
    sender = str(rec["sender"]).strip().lower()
    if sender not in SENDERS:
        raise ChatRecordError(f"sender {rec['sender']!r} is not one of {sorted(SENDERS)}")
    try:
        sent_at = to_utc(datetime.fromisoformat(str(rec["sent_at"]).strip()), ctx.zone)
    except ValueError:
        raise ChatRecordError(f"sent_at {rec['sent_at']!r} is not an ISO-8601 time") from None
    problem = ctx.time_problem(sent_at, "sent_at")
    if problem:
        raise ChatRecordError(problem)
    return Message(locator, sent_at, sender, str(rec.get("text") or ""),
                   agent_id=str(rec["agent_id"]).strip() if rec.get("agent_id") else None,
                   message_id=str(rec["message_id"]).strip() if rec.get("message_id") else None, raw=raw)


class Conversations:
    """Messages gathered per conversation_id, with the first queue, topic and customer_id seen."""

    def __init__(self) -> None:
        self.messages: dict[str, list[Message]] = {}
        self.info: dict[str, dict[str, str]] = {}

    def add(self, rec: Mapping[str, Any], locator: str, ctx: IngestContext, raw: str) -> None:
        """Add one record; raises ChatRecordError with the reason when it cannot be read."""
        message = message_from_record(rec, locator, ctx, raw)
        conversation_id = str(rec["conversation_id"]).strip()
        self.messages.setdefault(conversation_id, []).append(message)
        info = self.info.setdefault(conversation_id, {})
        for key in CONVERSATION_FIELDS:
            if rec.get(key) and key not in info:
                info[key] = str(rec[key]).strip()

    def add_to(self, parsed: ParsedFile, source_system: str, ctx: IngestContext) -> None:
        """A contact and its utterances per conversation; a conversation naming an agent the directory
        does not know is quarantined whole."""
        for conversation_id, messages in self.messages.items():
            unknown = {m.locator: m.agent_id for m in messages
                       if ctx.agent_ids is not None and m.agent_id and m.agent_id not in ctx.agent_ids}
            if unknown:
                whole = (f"conversation {conversation_id} is quarantined whole, so that none of its messages is "
                         f"scored under another agent")
                agents = ", ".join(repr(a) for a in dict.fromkeys(unknown.values()))
                reject_conversation(
                    parsed, messages,
                    {locator: f"the agent is not in the agent directory: agent_id={agent!r} ({whole})"
                     for locator, agent in unknown.items()},
                    f"the agent is not in the agent directory: agent_id {agents} on {', '.join(unknown)} of this "
                    f"conversation ({whole})")
                continue
            info = self.info[conversation_id]
            add_conversation(parsed, conversation_id, messages, source_system=source_system,
                             queue=info.get("queue"), topic=info.get("topic"), customer=info.get("customer_id"))
