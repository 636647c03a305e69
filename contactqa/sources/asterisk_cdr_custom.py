"""Asterisk cdr_custom with the legacy Master.csv mapping of cdr_custom.conf.sample ([mappings]).

One call leg per line, no header, every field through CSV_QUOTE, times in the PBX's local zone:
clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
billsec, disposition, amaflags, accountcode, uniqueid, userfield, and (newer samples) sequence.
The fields mean what they mean in cdr_csv (see cdr.py): the same leg → contact logic applies.
There is no linkedid: legs are joined by uniqueid (Party A's), which Asterisk 12+ repeats on each
leg of a call (told apart by sequence).
"""

from __future__ import annotations

from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.cdr import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.cdr import (NUMBER_OPTIONS, BadRecord, Leg, add_contacts, asterisk_leg, number_plan_problems,
                                   read_legs, reject_file)

COLUMNS = [
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer",
    "end", "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "sequence",
]
OPTIONS = dict(NUMBER_OPTIONS)


def option_problems(options: dict) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    return number_plan_problems(options)


@connector("asterisk_cdr_custom")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    problems = option_problems(ctx.options)
    if problems:
        return reject_file(name, "; ".join(problems))

    def to_leg(fields: list[str], line: int, raw: str) -> Leg:
        if len(fields) not in (len(COLUMNS) - 1, len(COLUMNS)):
            raise BadRecord(f"expected 18 or 19 cdr_custom columns (the legacy Master.csv mapping: "
                            f"clid, src, dst, ... uniqueid, userfield[, sequence]), found {len(fields)}")
        return asterisk_leg(dict(zip(COLUMNS, fields)), line, raw, ctx, fallback_id=f"{name}:{line}")

    parsed, legs = read_legs(path, name, ctx, to_leg)
    add_contacts(parsed, legs, "asterisk")
    return parsed
