"""What the CDR connectors share, and the one place where call legs become contacts.

A PBX writes one line per call leg. Every CDR connector turns its lines into `Leg`s (times already
UTC, agent already looked up); `add_contacts` then makes the contacts. Legs that share a contact id
(Asterisk's linkedid, a FreeSWITCH b-leg's a-leg uuid) are ONE call: the answered agent leg gives
the agent, direction, answer and talk time, and the call runs from the earliest start to the latest
end. The folded legs are recorded in `ParsedFile.merged`, so they are loaded (or quarantined) with
their contact and a file still balances: read = loaded + quarantined. A line written twice (same
text, or the same leg by its own id) is not another leg: it stays a row of its own, which ingest
quarantines as a duplicate key.

Which internal numbers are agents: an extension in the agent directory is its agent's. Options
`queue_numbers` (queues, ring groups) and `extension_pattern` (what agents' extensions look like)
name the numbers that are not an agent's: a call that reached only such a number reached no agent,
and lands with agent_id NULL, its disposition saying what happened (no_answer, busy, ...; abandoned
when the PBX's queue answered the caller and nobody took the call). Any other extension is an agent
missing from the directory ('ext:1999'): an answered or outbound call on it is quarantined with what
to configure; an inbound call that rang it unanswered reached nobody and lands without an agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from contactqa.sources.base import IngestContext, ParsedFile, customer_key, to_utc
from contactqa.sources.tabular import csv_lines
from contactqa.sources.text import read_text

PBX_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Asterisk's and FreeSWITCH's local "2026-11-02 10:00:00"
DISPOSITIONS = ("answered", "no_answer", "busy", "failed", "congestion", "abandoned", "transferred")
UNKNOWN_EXTENSION = "ext:"  # agent_id of an extension missing from the directory: GX quarantines it
RECORD_UNIT, CONTACT_UNIT = "call leg", "call"  # what a record and a contact of every CDR source are
# The options every CDR source takes, besides its own.
NUMBER_OPTIONS = {
    "queue_numbers": 'numbers of queues and ring groups, e.g. ["600", "601"]: a call that reached only one '
                     "of them reached no agent",
    "extension_pattern": r"a regular expression every agent extension matches in full, e.g. ^1\d{3}$: other "
                         "internal numbers are not agents (default: 2 to 6 digits)",
}
_DEFAULT_EXTENSION = re.compile(r"\d{2,6}")


class BadRecord(ValueError):
    """A CDR line that cannot become a leg; the message is the quarantine reason."""


@dataclass
class Leg:
    line: int
    raw: str
    contact_id: str
    started_at: datetime  # naive UTC, like every time below
    ended_at: datetime
    answered_at: datetime | None
    duration_s: float
    talk_s: float | None
    disposition: str
    direction: str  # inbound | outbound
    agent_id: str | None
    customer_number: str | None
    identity: str  # the same identity twice is a repeated line, not a second leg
    queue: str | None = None
    topic: str | None = None
    hold_s: float | None = None
    csat: int | None = None
    recording_uri: str | None = None

    @property
    def locator(self) -> str:
        return f"line {self.line}"


def parse_time(value: str, field: str, zone: ZoneInfo, time_format: str | None = PBX_TIME_FORMAT,
               ) -> datetime | None:
    """A local time in the source's zone (or with its own offset) as naive UTC; None when empty.

    time_format: a strptime format, None for ISO-8601, or "epoch" for Unix seconds.
    """
    value = value.strip()
    if not value:
        return None
    try:
        if time_format == "epoch":
            return datetime.fromtimestamp(float(value), timezone.utc).replace(tzinfo=None)
        local = datetime.fromisoformat(value) if time_format is None else datetime.strptime(value, time_format)
    except (ValueError, OverflowError, OSError) as exc:
        expected = {None: "an ISO-8601 time", "epoch": "Unix seconds",
                    PBX_TIME_FORMAT: "YYYY-MM-DD HH:MM:SS"}.get(time_format, f"a time like {time_format!r}")
        detail = exc if time_format not in (None, "epoch") else f"{value!r}"
        raise BadRecord(f"unreadable time ({detail}) in {field}; expected {expected}") from None
    return to_utc(local, zone)


_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")


def parse_seconds(value: str, field: str) -> float | None:
    """Seconds written as 312, 312.5, 312,5 or a clock 0:05:12; None when empty."""
    value = value.strip()
    if not value:
        return None
    clock = _CLOCK.match(value)
    if clock:
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return float(hours * 3600 + minutes * 60 + seconds)
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise BadRecord(f"{field} {value!r} is not a number of seconds") from None


@dataclass(frozen=True)
class NumberPlan:
    """Which internal numbers are queues or ring groups, and what agents' extensions look like."""

    queue_numbers: frozenset[str] = frozenset()
    extension_pattern: re.Pattern[str] = _DEFAULT_EXTENSION

    def kind(self, number: str, ctx: IngestContext) -> str:
        """agent (in the directory), queue (option queue_numbers), extension (an agent's by its look,
        missing from the directory) or other (a customer's number, a feature code, an IVR)."""
        if number in self.queue_numbers:
            return "queue"
        if number in ctx.agents_by_extension:
            return "agent"
        return "extension" if self.extension_pattern.fullmatch(number) else "other"


@lru_cache(maxsize=32)
def _plan(queue_numbers: tuple[str, ...], pattern: str | None) -> NumberPlan:
    return NumberPlan(frozenset(queue_numbers), re.compile(pattern) if pattern else _DEFAULT_EXTENSION)


def _queue_numbers(options: dict[str, Any]) -> tuple[str, ...]:
    numbers = options.get("queue_numbers") or []
    if isinstance(numbers, (str, int)) and not isinstance(numbers, bool):
        numbers = [numbers]
    if not isinstance(numbers, list) or not all(isinstance(n, (str, int)) and not isinstance(n, bool)
                                                for n in numbers):
        raise ValueError(f'option queue_numbers must list numbers, like ["600", "601"], not {numbers!r}')
    return tuple(sorted(str(n).strip() for n in numbers))


def number_plan_problems(options: dict[str, Any]) -> list[str]:
    """What is wrong with options queue_numbers and extension_pattern (for config validation)."""
    problems = []
    try:
        _queue_numbers(options)
    except ValueError as exc:
        problems.append(str(exc))
    pattern = options.get("extension_pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            problems.append(f"option extension_pattern {pattern!r} is not a valid regular expression ({exc})")
    return problems


def number_plan(ctx: IngestContext) -> NumberPlan:
    """The source's number plan (options checked before any file is read: see number_plan_problems)."""
    pattern = ctx.options.get("extension_pattern")
    return _plan(_queue_numbers(ctx.options), str(pattern) if pattern is not None else None)


def agent_for_extension(extension: str | None, ctx: IngestContext) -> str | None:
    """The directory's agent on this extension; None for a queue, a ring group or a number that is no
    agent's; an extension missing from the directory stays visible as 'ext:1234'."""
    if not extension:
        return None
    kind = number_plan(ctx).kind(extension, ctx)
    if kind == "agent":
        return ctx.agents_by_extension[extension]
    return f"{UNKNOWN_EXTENSION}{extension}" if kind == "extension" else None


def is_queue_number(number: str | None, ctx: IngestContext) -> bool:
    return bool(number) and number in number_plan(ctx).queue_numbers


def read_legs(path: Path, name: str, ctx: IngestContext, to_leg: Callable[[list[str], int, str], Leg], *,
              delimiter: str = ",") -> tuple[ParsedFile, list[Leg]]:
    """Read a headerless CDR CSV: every line is a record, each either a leg or a rejection."""
    parsed = ParsedFile(name, primary="contacts")
    text = parsed.read(read_text(path, ctx.encoding))
    legs: list[Leg] = []
    for record in csv_lines(text.lstrip("\ufeff"), delimiter):
        parsed.records_read += 1
        if record.error:
            parsed.reject(f"line {record.line}", record.raw, record.error)
            continue
        try:
            legs.append(to_leg(record.fields, record.line, record.raw))
        except BadRecord as exc:
            parsed.reject(f"line {record.line}", record.raw, str(exc))
    return parsed, legs


def reject_file(name: str, reason: str) -> ParsedFile:
    """A file that cannot be read as configured: one quarantined record that says why."""
    parsed = ParsedFile(name, primary="contacts", records_read=1)
    parsed.reject("file", "", reason)
    return parsed


def _lead_rank(leg: Leg) -> tuple:
    # The leg an evaluator means by "the call": answered, by a known agent, the longest conversation.
    known = bool(leg.agent_id) and not leg.agent_id.startswith(UNKNOWN_EXTENSION)
    return (leg.disposition == "answered", leg.agent_id is not None, known, leg.talk_s or 0.0)


def add_contacts(parsed: ParsedFile, legs: list[Leg], source_system: str) -> None:
    """One contact row per call (legs sharing a contact_id), plus a row per repeated line."""
    calls: dict[str, list[Leg]] = {}
    for leg in legs:
        calls.setdefault(leg.contact_id, []).append(leg)
    rang_unknown: dict[str, int] = {}  # extension missing from the directory -> unanswered calls that rang it
    for contact_id, call in calls.items():
        distinct: list[Leg] = []
        repeats: list[Leg] = []
        seen: set[str] = set()
        for leg in call:
            (repeats if leg.identity in seen else distinct).append(leg)
            seen.add(leg.identity)
        _add_call(parsed, contact_id, distinct, source_system, rang_unknown)
        for leg in repeats:
            _add_call(parsed, contact_id, [leg], source_system, rang_unknown)
    if rang_unknown:
        listed = ", ".join(f"{ext} ({n})" for ext, n in sorted(rang_unknown.items()))
        parsed.notes.append(
            f"{sum(rang_unknown.values())} unanswered inbound call(s) rang only extension(s) no agent in the "
            f"directory has: {listed}; they are loaded without an agent. List queue and ring-group numbers in "
            f"option queue_numbers; add agents missing from the directory")


def _first(values) -> object | None:
    return next((v for v in values if v not in (None, "")), None)


def _add_call(parsed: ParsedFile, contact_id: str, legs: list[Leg], source_system: str,
              rang_unknown: dict[str, int]) -> None:
    lead = max(legs, key=_lead_rank)  # on a tie, the earliest line leads
    agent_id = lead.agent_id
    if (agent_id and agent_id.startswith(UNKNOWN_EXTENSION) and lead.disposition != "answered"
            and lead.direction == "inbound"):
        # It rang a phone nobody answered: no agent took the call, whoever's phone it was. Landed
        # without an agent, so the missed call still counts; an answered or outbound one is quarantined.
        extension = agent_id[len(UNKNOWN_EXTENSION):]
        rang_unknown[extension] = rang_unknown.get(extension, 0) + 1
        agent_id = None
    others = [lead] + [leg for leg in legs if leg is not lead]
    if len(legs) == 1:
        locator, started, ended, duration = lead.locator, lead.started_at, lead.ended_at, lead.duration_s
    else:
        locator = "lines " + ", ".join(str(leg.line) for leg in sorted(legs, key=lambda leg: leg.line))
        started = min(leg.started_at for leg in legs)
        ended = max(leg.ended_at for leg in legs)
        duration = (ended - started).total_seconds()
        parsed.merged[locator] = len(legs) - 1
    parsed.add("contacts", {
        "contact_id": contact_id,
        "channel": "voice",
        "source_system": source_system,
        "agent_id": agent_id,
        "queue": _first(leg.queue for leg in others),
        "topic": _first(leg.topic for leg in others),
        "direction": lead.direction,
        "language": None,
        "started_at": started,
        "answered_at": lead.answered_at,
        "ended_at": ended,
        "duration_s": duration,
        "talk_s": lead.talk_s,
        "hold_s": lead.hold_s,
        "disposition": lead.disposition,
        "csat": lead.csat,
        "customer_key": customer_key(_first(leg.customer_number for leg in others)),
        "recording_uri": _first(leg.recording_uri for leg in others),
        "record_locator": locator,
    })


# --- Asterisk: the same CDR fields whether cdr_csv or cdr_custom wrote them ---------------------------

# The fields a leg is made of; the others (clid, dcontext, amaflags, ...) are optional.
ASTERISK_FIELDS = ("src", "dst", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end",
                   "duration", "billsec", "disposition")
ASTERISK_DISPOSITIONS = {"ANSWERED": "answered", "NO ANSWER": "no_answer", "BUSY": "busy", "FAILED": "failed",
                         "CONGESTION": "congestion"}
_CHANNEL_EXTENSION = re.compile(r"^(?:PJSIP|SIP|IAX2|Local)/(\d{2,6})(?:[-@;].*)?$", re.IGNORECASE)


def channel_extension(channel: str) -> str | None:
    """1001 from PJSIP/1001-0000001b, SIP/1001-..., Local/1001@agents-...;1; None for a trunk."""
    match = _CHANNEL_EXTENSION.match(channel.strip())
    return match.group(1) if match else None


def asterisk_leg(rec: dict[str, str], line: int, raw: str, ctx: IngestContext, fallback_id: str) -> Leg:
    """A leg from Asterisk's CDR fields by name (clid, src, dst, channel, dstchannel, start, ...).

    The agent is the extension on the channel (outbound) or the dstchannel (inbound); times are the
    PBX's local time; `answer` is empty when nobody answered. Legs of one call share the linkedid
    (uniqueid on exports without it).
    """
    zone = ctx.zone
    start = parse_time(rec["start"], "start", zone)
    answer = parse_time(rec["answer"], "answer", zone)
    end = parse_time(rec["end"], "end", zone)
    if start is None or end is None:
        raise BadRecord("start or end time is empty")
    duration = parse_seconds(rec["duration"], "duration")
    billsec = parse_seconds(rec["billsec"], "billsec")
    if duration is None or billsec is None:
        raise BadRecord("duration or billsec is empty")
    disposition = ASTERISK_DISPOSITIONS.get(rec["disposition"].strip().upper())
    if disposition is None:
        raise BadRecord(f"disposition {rec['disposition']!r} is not one of "
                        f"{', '.join(ASTERISK_DISPOSITIONS)}")
    inbound_ext = channel_extension(rec["dstchannel"])
    outbound_ext = channel_extension(rec["channel"])
    # The trunk side has no numeric extension: whichever side has one is the agent.
    direction = "outbound" if outbound_ext and not inbound_ext else "inbound"
    extension = outbound_ext if direction == "outbound" else inbound_ext
    queue_number = extension if is_queue_number(extension, ctx) else None
    dst = rec["dst"].strip()
    if extension is None and direction == "inbound" and is_queue_number(dst, ctx):
        # Sent to a queue or ring group, and no channel took it. Queue() (or the IVR before it) answers
        # the caller itself to play music on hold: "ANSWERED" with nobody on the other end is a caller
        # who gave up waiting.
        queue_number = dst
        if disposition == "answered":
            disposition = "abandoned"
    queue = (rec.get("accountcode") or (rec["lastdata"].split(",")[0] if rec["lastapp"] == "Queue" else None)
             or queue_number)
    uniqueid = (rec.get("uniqueid") or "").strip()
    sequence = (rec.get("sequence") or "").strip()
    return Leg(
        line=line, raw=raw,
        contact_id=(rec.get("linkedid") or "").strip() or uniqueid or fallback_id,
        started_at=start, ended_at=end, answered_at=answer,
        duration_s=duration, talk_s=billsec, disposition=disposition, direction=direction,
        agent_id=agent_for_extension(extension, ctx),
        customer_number=rec["dst"] if direction == "outbound" else rec["src"],
        identity=f"{uniqueid}#{sequence}" if uniqueid and sequence else raw.strip(),
        queue=queue or None, topic=(rec.get("userfield") or "").strip() or None,
    )
