"""FreeSWITCH mod_cdr_csv with its default "example" template: one leg per line, no header.

"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",
"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}",
"${accountcode}","${read_codec}","${write_codec}"

Stamps are the switch's local time (YYYY-MM-DD HH:MM:SS); answer_stamp is empty when nobody answered.
A call is answered when answer_stamp is present; otherwise hangup_cause says how it failed.
The agent is the extension that placed the call (caller_id_number: outbound) or took it
(destination_number: inbound); an extension is a directory extension or 2 to 6 digits (option
`extension_pattern` says otherwise). A destination listed in option `queue_numbers` (a mod_callcenter
queue, a ring group) is not an agent: a call that reached only the queue lands without one, and one
the switch answered but never bridged (no bleg_uuid) is abandoned. Option `agent_field` names the
field that holds the agent's extension instead (direction then follows: caller_id_number means
outbound). With `legs` = "ab" in cdr_csv.conf.xml, a b-leg whose uuid is an a-leg's bleg_uuid joins
that a-leg's contact (contact_id = the a-leg uuid).
"""

from __future__ import annotations

import re
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.cdr import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.cdr import (NUMBER_OPTIONS, BadRecord, Leg, add_contacts, agent_for_extension,
                                   is_queue_number, number_plan, number_plan_problems, parse_seconds, parse_time,
                                   read_legs, reject_file)

COLUMNS = [
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp", "answer_stamp",
    "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec",
    "write_codec",
]
# How an unanswered call ended, by Q.850 hangup cause; any other cause is a failure.
UNANSWERED = {
    "USER_BUSY": "busy",
    "NO_ANSWER": "no_answer", "NO_USER_RESPONSE": "no_answer", "ORIGINATOR_CANCEL": "no_answer",
    "ALLOTTED_TIMEOUT": "no_answer", "PROGRESS_TIMEOUT": "no_answer", "LOSE_RACE": "no_answer",
    "NORMAL_CLEARING": "no_answer", "PICKED_OFF": "no_answer",
    "NORMAL_CIRCUIT_CONGESTION": "congestion", "SWITCH_CONGESTION": "congestion",
}
_CAUSE = re.compile(r"^[A-Z][A-Z0-9_]+$")
OPTIONS = {"agent_field": "the field holding the agent's extension, when it is not the called or calling number",
           **NUMBER_OPTIONS}


def disposition(answered: bool, hangup_cause: str) -> str:
    if answered:
        return "answered"
    cause = hangup_cause.strip().upper()
    if not _CAUSE.match(cause):
        raise BadRecord(f"hangup_cause {hangup_cause!r} is not a FreeSWITCH hangup cause (like NO_ANSWER)")
    return UNANSWERED.get(cause, "failed")


def _join_legs(legs: list[Leg], bleg_of: dict[int, str]) -> None:
    """Legs linked by bleg_uuid are one call, keyed by the uuid of the leg that started first (the a-leg)."""
    parent: dict[str, str] = {}

    def root(uuid: str) -> str:
        while parent.get(uuid, uuid) != uuid:
            uuid = parent[uuid]
        return uuid

    for leg in legs:
        other = bleg_of.get(leg.line)
        if other:
            parent[root(other)] = root(leg.contact_id)
    first: dict[str, Leg] = {}
    for leg in sorted(legs, key=lambda leg: (leg.started_at, leg.line)):
        first.setdefault(root(leg.contact_id), leg)
    for leg in legs:
        leg.contact_id = first[root(leg.contact_id)].identity


def option_problems(options: dict) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    problems = number_plan_problems(options)
    agent_field = options.get("agent_field")
    if agent_field is not None and agent_field not in COLUMNS:
        problems.append(f"option agent_field {agent_field!r} is not a field of the example template "
                        f"({', '.join(COLUMNS)})")
    return problems


@connector("freeswitch_cdr")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    problems = option_problems(ctx.options)
    if problems:
        return reject_file(name, "; ".join(problems))
    agent_field = ctx.options.get("agent_field")
    plan = number_plan(ctx)
    bleg_of: dict[int, str] = {}  # line -> the uuid of the leg it was bridged to

    def to_leg(fields: list[str], line: int, raw: str) -> Leg:
        if len(fields) != len(COLUMNS):
            raise BadRecord(f"expected 15 columns (mod_cdr_csv example template), found {len(fields)}")
        rec = {k: v.strip() for k, v in zip(COLUMNS, fields)}
        if not rec["uuid"]:
            raise BadRecord("uuid is empty")
        zone = ctx.zone
        start = parse_time(rec["start_stamp"], "start_stamp", zone)
        answer = parse_time(rec["answer_stamp"], "answer_stamp", zone)
        end = parse_time(rec["end_stamp"], "end_stamp", zone)
        if start is None or end is None:
            raise BadRecord("start_stamp or end_stamp is empty")
        duration = parse_seconds(rec["duration"], "duration")
        billsec = parse_seconds(rec["billsec"], "billsec")
        caller, destination = rec["caller_id_number"], rec["destination_number"]
        to, by = plan.kind(destination, ctx), plan.kind(caller, ctx)  # agent | queue | extension | other
        if agent_field:
            extension = rec[agent_field]
            direction = "outbound" if agent_field == "caller_id_number" else "inbound"
        elif to == "agent" or (to in ("queue", "extension") and by != "agent"):
            extension, direction = destination, "inbound"
        elif by != "other":
            extension, direction = caller, "outbound"
        else:
            extension, direction = None, "inbound"
        if rec["bleg_uuid"]:
            bleg_of[line] = rec["bleg_uuid"]
        agent_id = agent_for_extension(extension, ctx)
        outcome = disposition(answer is not None, rec["hangup_cause"])
        queue_number = extension if is_queue_number(extension, ctx) else None
        if queue_number and outcome == "answered" and not rec["bleg_uuid"]:
            outcome = "abandoned"  # the switch answered it into the queue, and never bridged it to anyone
        return Leg(
            line=line, raw=raw, contact_id=rec["uuid"], started_at=start, ended_at=end, answered_at=answer,
            duration_s=duration if duration is not None else (end - start).total_seconds(),
            talk_s=billsec, disposition=outcome, direction=direction, agent_id=agent_id,
            customer_number=destination if direction == "outbound" else caller,
            identity=rec["uuid"], queue=rec["accountcode"] or queue_number,
        )

    parsed, legs = read_legs(path, name, ctx, to_leg)
    _join_legs(legs, bleg_of)
    add_contacts(parsed, legs, "freeswitch")
    return parsed
