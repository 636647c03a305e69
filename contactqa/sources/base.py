"""What every connector returns, the context it reads agents from, and the registry."""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from contactqa.privacy import keyed_hash
from contactqa.quality import window
from contactqa.quality.window import TimeWindow
from contactqa.sources.text import DecodedText


@dataclass
class Reject:
    """A record that could not become a canonical row, and why."""

    locator: str  # "line 17", "chats.list[2].messages[40]"
    raw: str
    reason: str


@dataclass
class ParsedFile:
    """One file's records as canonical rows.

    `primary` names the dataset whose rows are the file's records (one row per record);
    other datasets are derived from them (a chat's contact row from its messages) and
    are linked back by contact_id, so a derived row that fails takes its records with it.
    """

    source_file: str
    primary: str
    records_read: int = 0
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # record_locator of a primary row -> how many further records were folded into it (the other
    # legs of one call): they are loaded, or quarantined, together with that row.
    merged: dict[str, int] = field(default_factory=dict)
    # How the file's text was decoded, for the ingest ledger and the run summary (None: not text).
    encoding: str | None = None
    encoding_detected: bool = True
    bytes_replaced: int = 0

    def read(self, decoded: DecodedText) -> str:
        """Keep how the file was decoded (and a note when bytes had to be replaced); returns its text."""
        self.encoding, self.encoding_detected, self.bytes_replaced = (
            decoded.encoding, decoded.detected, decoded.bytes_replaced)
        if decoded.problem:
            self.notes.append(decoded.problem)
        return decoded.text

    def add(self, dataset: str, row: dict[str, Any]) -> None:
        row["source_file"] = self.source_file
        self.tables.setdefault(dataset, []).append(row)

    def reject(self, locator: str, raw: Any, reason: str) -> None:
        self.rejects.append(Reject(locator, raw if isinstance(raw, str) else repr(raw), reason))

    def records_in(self, row: dict[str, Any]) -> int:
        """How many of the file's records a primary row stands for: 1, or more when legs were merged."""
        return 1 + self.merged.get(row.get("record_locator"), 0)


@dataclass
class IngestContext:
    """What connectors need to know beyond the file: agents, the source's zone, the encoding."""

    timezone: str = "UTC"
    options: dict[str, Any] = field(default_factory=dict)
    agents_by_extension: dict[str, str] = field(default_factory=dict)
    agents_by_name: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    # The directory's agent ids, for connectors that check an agent per record (a chat message);
    # None when parsing without a warehouse (the directory is then not consulted).
    agent_ids: frozenset[str] | None = None
    # The times a record may carry (contactqa.quality.window); None when parsing without a run.
    window: TimeWindow | None = None

    def time_problem(self, at: datetime, field_name: str) -> str | None:
        """Why a time that lands only as an offset (a chat message's) cannot be right; None when it can."""
        return self.window.problem(at, field_name) if self.window else None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive UTC datetime from a naive local time or an aware time."""
    aware = local if local.tzinfo else local.replace(tzinfo=zone)
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


_NOT_DIGITS = re.compile(r"\D+")


def customer_key(raw: str | None) -> str | None:
    """A keyed hash of a phone number or handle: joinable across sources, not reversible without the key.

    Phones are normalised first so +7 701 123 45 67, 87011234567 and 77011234567 agree. The hash is
    HMAC-SHA256 under the installation key (contactqa.privacy.keyed_hash): without it, trying every
    possible phone number finds nothing.
    """
    if raw is None or not str(raw).strip():
        return None
    value = str(raw).strip()
    digits = _NOT_DIGITS.sub("", value)
    if len(digits) == 11 and digits[0] in "78":
        value = "7" + digits[1:]
    elif len(digits) >= 7 and len(digits) == len(value.replace("+", "").replace(" ", "").replace("-", "")):
        value = digits
    return keyed_hash(value.lower())


Parser = Callable[[Path, str, IngestContext], ParsedFile]
CONNECTORS: dict[str, Parser] = {}

# Source type (as written in contactqa.yml) -> the module whose @connector registers it.
CONNECTOR_MODULES: dict[str, str] = {
    "agent_directory": "directory",
    "asterisk_cdr": "asterisk_cdr",
    "asterisk_cdr_custom": "asterisk_cdr_custom",
    "freeswitch_cdr": "freeswitch_cdr",
    "mapped_cdr": "mapped_cdr",
    "transcripts": "transcripts",
    "contact_lens": "contact_lens",
    "recordings": "recordings",
    "chat_jsonl": "chat_jsonl",
    "chat_csv": "chat_csv",
    "telegram": "telegram",
    "agent_actions": "actions",
    "evaluations": "evaluations",
}


def connector(name: str) -> Callable[[Parser], Parser]:
    def register(func: Parser) -> Parser:
        CONNECTORS[name] = func
        return func
    return register


def parse_file(source_type: str, path: Path, display_name: str, context: IngestContext) -> ParsedFile:
    if source_type not in CONNECTORS:
        importlib.import_module(f"contactqa.sources.{CONNECTOR_MODULES[source_type]}")
    return CONNECTORS[source_type](path, display_name, context)


def _module(source_type: str):
    return importlib.import_module(f"contactqa.sources.{CONNECTOR_MODULES[source_type]}")


def known_options(source_type: str) -> dict[str, str]:
    """The options a source type takes, name -> what it is for: its connector's OPTIONS, and the
    options every source takes (the time window of contactqa.quality.window)."""
    return {**getattr(_module(source_type), "OPTIONS", {}), **window.OPTIONS}


def record_unit(source_type: str) -> tuple[str, str | None]:
    """What one record of the source is ("call leg"), and what its contacts are ("call"), for summaries."""
    module = _module(source_type)
    return getattr(module, "RECORD_UNIT", "row"), getattr(module, "CONTACT_UNIT", None)


def option_problems(source_type: str, options: dict[str, Any]) -> list[str]:
    """What is wrong with a source's `options`, before any file is read: an option the type does not
    take (with the nearest known name), then what its connector says about the values."""
    known = known_options(source_type)
    problems = []
    for name in options:
        if name not in known:
            near = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
            guess = f" — did you mean {near[0]!r}?" if near else ""
            problems.append(f"unknown option {name!r}{guess} ({source_type} sources take: "
                            f"{', '.join(sorted(known)) or 'no options'})")
    if problems:
        return problems
    problems = window.option_problems(options)
    check = getattr(_module(source_type), "option_problems", None)
    return problems + (list(check(options)) if check else [])
