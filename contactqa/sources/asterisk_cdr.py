"""Asterisk cdr_csv (Master.csv): one call leg per line, no header, times in the PBX's local zone.

cdr_csv writes, in this order: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags; then uniqueid if
`loguniqueid`, userfield if `loguserfield`, and peeraccount, linkedid, sequence if `newcdrcolumns`
(cdr.conf [csv]). The count of columns (16 to 21) tells which were switched on; for 17 and 20 columns,
a uniqueid-shaped value (1762059600.12) tells uniqueid from userfield. Option `columns` (a list of
these names) states the layout outright. With `usegmtime=yes` the times are UTC: set the source's
timezone to UTC.

Legs of one call share the linkedid: in one file they become one contact (see cdr.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.cdr import CONTACT_UNIT as CONTACT_UNIT, RECORD_UNIT as RECORD_UNIT  # for summaries
from contactqa.sources.cdr import (ASTERISK_FIELDS, NUMBER_OPTIONS, BadRecord, Leg, add_contacts, asterisk_leg,
                                   number_plan_problems, read_legs, reject_file)

BASE_COLUMNS = [
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
]
NEW_COLUMNS = ["peeraccount", "linkedid", "sequence"]
COLUMNS = BASE_COLUMNS + ["uniqueid", "userfield"] + NEW_COLUMNS
_UNIQUEID = re.compile(r"^(?:[\w.-]+-)?\d{9,}\.\d+$")  # epoch.sequence, optionally after a system name
OPTIONS = {"columns": "cdr_csv's column names in the file's order, when the count of columns cannot tell",
           **NUMBER_OPTIONS}


def layout(fields: list[str]) -> list[str]:
    """The column names of a line, from its length (16 to 21)."""
    extra = len(fields) - len(BASE_COLUMNS)
    if extra in (1, 4):  # uniqueid or userfield (not both), then maybe the new columns
        optional = ["uniqueid"] if _UNIQUEID.match(fields[16].strip()) else ["userfield"]
    else:
        optional = ["uniqueid", "userfield"] if extra in (2, 5) else []
    return BASE_COLUMNS + optional + (NEW_COLUMNS if extra >= 3 else [])


def option_problems(options: dict) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    problems = number_plan_problems(options)
    stated = options.get("columns")
    if stated is None:
        return problems
    if not isinstance(stated, list) or not all(isinstance(c, str) for c in stated):
        return problems + ["option columns must list cdr_csv's column names in the file's order"]
    unknown = [c for c in stated if c not in COLUMNS]
    missing = [c for c in ASTERISK_FIELDS if c not in stated]
    if unknown:
        problems.append(f"option columns names unknown column(s) {', '.join(unknown)}; "
                        f"cdr_csv writes {', '.join(COLUMNS)}")
    if missing:
        problems.append(f"option columns lacks {', '.join(missing)}")
    return problems


@connector("asterisk_cdr")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    problems = option_problems(ctx.options)
    if problems:
        return reject_file(name, "; ".join(problems))
    stated = ctx.options.get("columns")

    def to_leg(fields: list[str], line: int, raw: str) -> Leg:
        if stated:
            if len(fields) != len(stated):
                raise BadRecord(f"expected {len(stated)} columns (option columns), found {len(fields)}")
            names = list(stated)
        elif not len(BASE_COLUMNS) <= len(fields) <= len(COLUMNS):
            raise BadRecord(f"expected 16 to 21 cdr_csv columns, found {len(fields)}")
        else:
            names = layout(fields)
        return asterisk_leg(dict(zip(names, fields)), line, raw, ctx, fallback_id=f"{name}:{line}")

    parsed, legs = read_legs(path, name, ctx, to_leg)
    add_contacts(parsed, legs, "asterisk")
    return parsed
