"""What chat connectors share: turning a conversation's messages into a contact and utterances."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from contactqa.sources.base import ParsedFile, customer_key


@dataclass
class Message:
    locator: str
    sent_at: datetime  # naive UTC
    speaker: str
    text: str
    agent_id: str | None = None
    message_id: str | None = None


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
