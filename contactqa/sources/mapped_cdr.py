"""Any other PBX's or cloud contact centre's CDR CSV, read through a column mapping in the source's options.

    type: mapped_cdr
    timezone: Asia/Almaty          # for times written without an offset
    options:
      columns:                     # our field -> the export's column (header: true)
        contact_id: Call ID
        started_at: Start Time
        answered_at: Answer Time
        ended_at: End Time
        agent: Extension
        customer_number: Caller
        disposition: Status
      header: true                 # false: `columns` lists our field for each column in order (null skips one)
      delimiter: ";"               # default: taken from the header line (header: true) or ","
      date_format: "%d.%m.%Y %H:%M:%S"   # strptime; default ISO-8601; "epoch" for Unix seconds
      disposition_map: {Answered: answered, Missed: no_answer, Busy: busy}
      agent_from: extension        # extension (looked up in the agent directory) | agent_id (taken as is)
      direction: inbound           # when no direction column is mapped
      merge_legs: false            # true: rows sharing a contact_id are legs of one call (see cdr.py)
      source_system: cloud-pbx     # what contacts.source_system says (default mapped_cdr)
      queue_numbers: ["600"]       # agent values that are queues or ring groups, not agents (agent_from: extension)
      extension_pattern: "^1\\d{3}$"  # what agents' extensions look like (default 2 to 6 digits)

Fields: contact_id, started_at, agent and one of ended_at / duration_s are required; answered_at,
talk_s, hold_s, disposition, direction, customer_number, queue, topic, recording_uri, csat are optional.
Durations may be seconds (312, 312.5) or clocks (0:05:12). A mapping that cannot work rejects the
whole file with the option at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.cdr import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.cdr import (DISPOSITIONS, NUMBER_OPTIONS, BadRecord, Leg, add_contacts, agent_for_extension,
                                   is_queue_number, number_plan_problems, parse_seconds, parse_time, read_legs,
                                   reject_file)
from contactqa.sources.tabular import read_records

REQUIRED = ("contact_id", "started_at", "agent")
OPTIONAL = ("answered_at", "ended_at", "duration_s", "talk_s", "hold_s", "disposition", "direction",
            "customer_number", "queue", "topic", "recording_uri", "csat")
OPTIONS = {
    "columns": "our field -> the export's column (header: true), or our field per column in order (header: false)",
    "header": "whether the first line names the columns (default true)",
    "delimiter": "the column separator (default: taken from the header line, or a comma)",
    "date_format": 'a strptime format for times, "epoch" for Unix seconds (default ISO-8601)',
    "disposition_map": "the export's status -> answered, no_answer, busy, failed, congestion, abandoned, transferred",
    "agent_from": "extension (looked up in the agent directory, default) or agent_id (taken as is)",
    "direction": "inbound (default) or outbound, when no direction column is mapped",
    "merge_legs": "true: rows sharing a contact_id are legs of one call (default false)",
    "source_system": "what contacts.source_system says (default mapped_cdr)",
    **NUMBER_OPTIONS,
}
DIRECTIONS = {"inbound": "inbound", "in": "inbound", "incoming": "inbound", "входящий": "inbound",
              "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "исходящий": "outbound"}


@dataclass
class Mapping:
    """The source's options, checked once: every problem names its option key."""

    columns: dict[str, str] = field(default_factory=dict)  # our field -> source column (header: true)
    positions: list[str | None] = field(default_factory=list)  # our field per column (header: false)
    header: bool = True
    delimiter: str | None = None
    date_format: str | None = None
    disposition_map: dict[str, str] = field(default_factory=dict)
    agent_from: str = "extension"
    direction: str = "inbound"
    merge_legs: bool = False
    source_system: str = "mapped_cdr"

    @property
    def fields(self) -> set[str]:
        return set(self.columns) if self.header else {f for f in self.positions if f}

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Mapping:
        spec = cls(header=bool(options.get("header", True)))
        columns = options.get("columns")
        if not columns:
            raise BadRecord("option columns is required for mapped_cdr: map contact_id, started_at, agent and "
                            "ended_at or duration_s to the export's columns")
        if spec.header:
            if not isinstance(columns, dict):
                raise BadRecord("option columns must map our field to the export's column name when header is true "
                                "(a list of fields per column is for header: false)")
            spec.columns = {str(k): str(v).strip().lower() for k, v in columns.items()}
        else:
            if not isinstance(columns, list):
                raise BadRecord("option columns must list our field for each column, in order, when header is false")
            spec.positions = [str(c) if c else None for c in columns]
        unknown = sorted(spec.fields - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise BadRecord(f"option columns names unknown field(s) {', '.join(unknown)}; "
                            f"fields are {', '.join(REQUIRED + OPTIONAL)}")
        missing = [f for f in REQUIRED if f not in spec.fields]
        if not {"ended_at", "duration_s"} & spec.fields:
            missing.append("ended_at or duration_s")
        if missing:
            raise BadRecord(f"option columns has no column for {', '.join(missing)}")
        spec.delimiter = options.get("delimiter") or None
        spec.date_format = options.get("date_format") or None
        if spec.date_format in ("iso", "ISO"):
            spec.date_format = None
        for value, ours in (options.get("disposition_map") or {}).items():
            if ours not in DISPOSITIONS:
                raise BadRecord(f"option disposition_map maps {value!r} to {ours!r}, which is not one of "
                                f"{', '.join(DISPOSITIONS)}")
            spec.disposition_map[str(value).strip().casefold()] = ours
        spec.agent_from = options.get("agent_from", "extension")
        if spec.agent_from not in ("extension", "agent_id"):
            raise BadRecord(f"option agent_from must be extension or agent_id, not {spec.agent_from!r}")
        spec.direction = DIRECTIONS.get(str(options.get("direction", "inbound")).casefold(), "")
        if not spec.direction:
            raise BadRecord(f"option direction must be inbound or outbound, not {options.get('direction')!r}")
        spec.merge_legs = bool(options.get("merge_legs", False))
        spec.source_system = str(options.get("source_system") or "mapped_cdr")
        return spec


def _leg(values: dict[str, str], line: int, raw: str, ctx: IngestContext, spec: Mapping) -> Leg:
    def get(name: str) -> str:
        return (values.get(name) or "").strip()

    contact_id = get("contact_id")
    if not contact_id:
        raise BadRecord("contact_id is empty")
    zone, fmt = ctx.zone, spec.date_format
    start = parse_time(get("started_at"), "started_at", zone, fmt)
    if start is None:
        raise BadRecord("started_at is empty")
    answer = parse_time(get("answered_at"), "answered_at", zone, fmt)
    end = parse_time(get("ended_at"), "ended_at", zone, fmt)
    duration = parse_seconds(get("duration_s"), "duration_s")
    if end is None and duration is None:
        raise BadRecord("neither ended_at nor duration_s is given")
    if end is None:
        end = start + timedelta(seconds=duration)
    if duration is None:
        duration = (end - start).total_seconds()
    talk = parse_seconds(get("talk_s"), "talk_s")
    if talk is None:
        talk = (end - answer).total_seconds() if answer else 0.0
    written = get("disposition")
    if written:
        disposition = spec.disposition_map.get(written.casefold()) or (
            written.lower() if written.lower() in DISPOSITIONS else None)
        if disposition is None:
            raise BadRecord(f"disposition {written!r} is neither in option disposition_map nor one of "
                            f"{', '.join(DISPOSITIONS)}")
    else:
        disposition = "answered" if answer or talk else "no_answer"
    direction = spec.direction
    if get("direction"):
        direction = DIRECTIONS.get(get("direction").casefold(), "")
        if not direction:
            raise BadRecord(f"direction {get('direction')!r} is neither inbound nor outbound")
    agent = get("agent")
    agent_id = (agent or None) if spec.agent_from == "agent_id" else agent_for_extension(agent, ctx)
    queue_number = agent if spec.agent_from == "extension" and is_queue_number(agent, ctx) else None
    csat = None
    if get("csat"):
        try:
            csat = int(float(get("csat").replace(",", ".")))
        except ValueError:
            raise BadRecord(f"csat {get('csat')!r} is not a number") from None
    return Leg(
        line=line, raw=raw, contact_id=contact_id, started_at=start, ended_at=end, answered_at=answer,
        duration_s=duration, talk_s=talk, disposition=disposition, direction=direction, agent_id=agent_id,
        customer_number=get("customer_number") or None,
        identity=raw.strip() if spec.merge_legs else contact_id,
        queue=get("queue") or queue_number, topic=get("topic") or None, hold_s=parse_seconds(get("hold_s"), "hold_s"),
        csat=csat, recording_uri=get("recording_uri") or None,
    )


def option_problems(options: dict) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    try:
        Mapping.from_options(options)
    except BadRecord as exc:
        return [str(exc)] + number_plan_problems(options)
    return number_plan_problems(options)


@connector("mapped_cdr")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    problems = option_problems(ctx.options)
    if problems:
        return reject_file(name, "; ".join(problems))
    spec = Mapping.from_options(ctx.options)
    if spec.header:
        parsed = ParsedFile(name, primary="contacts")
        legs: list[Leg] = []
        for rec in read_records(path, parsed, list(dict.fromkeys(spec.columns.values())), ctx.encoding,
                                delimiter=spec.delimiter):
            try:
                values = {ours: rec.values[theirs] for ours, theirs in spec.columns.items()}
                legs.append(_leg(values, rec.line, rec.raw, ctx, spec))
            except BadRecord as exc:
                parsed.reject(rec.locator, rec.raw, str(exc))
    else:
        def to_leg(fields: list[str], line: int, raw: str) -> Leg:
            if len(fields) != len(spec.positions):
                raise BadRecord(f"expected {len(spec.positions)} columns (option columns), found {len(fields)}")
            return _leg({f: v for f, v in zip(spec.positions, fields) if f}, line, raw, ctx, spec)

        parsed, legs = read_legs(path, name, ctx, to_leg, delimiter=spec.delimiter or ",")
    add_contacts(parsed, legs, spec.source_system)
    return parsed
