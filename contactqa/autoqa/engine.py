"""Run the scorecard over every landed contact and store one finding per contact x criterion.

Re-running is safe: a contact's findings for a scorecard version are replaced, not added.
Contacts are read in batches, so memory follows the batch size, not the warehouse size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections import Counter
from datetime import datetime, timezone as tz
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from contactqa.autoqa.context import enrich
from contactqa.autoqa.language import Utterance
from contactqa.autoqa.rules import Contact, evaluate
from contactqa.config import ErrorCatalogue, Scorecard
from contactqa.warehouse import connect

BATCH = 5000  # contacts read, evaluated and written at a time


@dataclass
class AutoQASummary:
    contacts: int = 0
    findings: int = 0
    results: Counter = field(default_factory=Counter)  # (criterion, result) -> n
    scorecard_version: str = ""

    def by_result(self) -> Counter:
        totals: Counter = Counter()
        for (_, result), n in self.results.items():
            totals[result] += n
        return totals


def store_scorecard(con: duckdb.DuckDBPyConnection, scorecard: Scorecard, catalogue: ErrorCatalogue) -> None:
    """The scorecard and error catalogue as tables, so dbt and BI read the same rules AutoQA used."""
    con.execute("DELETE FROM autoqa.scorecard_criteria WHERE scorecard_version = ?", [scorecard.version])
    con.executemany("INSERT INTO autoqa.scorecard_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (scorecard.version, section.id, section.title.en, c.id, c.title.en, c.title.ru, c.weight, c.critical,
         ",".join(c.channels), c.rule.type == "manual", c.rule.type, c.error_code, c.regulation)
        for section in scorecard.sections for c in section.criteria])
    con.execute("DELETE FROM autoqa.error_catalogue")
    con.executemany("INSERT INTO autoqa.error_catalogue VALUES (?, ?, ?, ?, ?)", [
        (e.code, e.title.en, e.title.ru, e.group, e.severity) for e in catalogue.errors])


_CYR_TO_LAT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
                       ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                        "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
                        "a", "g", "k", "n", "o", "u", "u", "h", "i"]))


def transliterate(name: str) -> str:
    return "".join(_CYR_TO_LAT.get(ch, ch) for ch in name.lower())


def _agent_names(full_name: str | None) -> tuple[str, ...]:
    # Directories write "First Last" or "Last First": every name part may be the one the agent says,
    # and an agent named in Cyrillic says their name in Latin letters in English conversations.
    parts = [part for part in (full_name or "").replace(".", " ").split() if len(part) > 1]
    variants = parts + [transliterate(p) for p in parts]
    variants += [v.replace("ks", "x").replace("iy", "y").replace("ii", "i") for v in variants]
    return tuple(dict.fromkeys(variants))


_CONTACTS = """
SELECT c.contact_id, c.channel, c.agent_id, a.full_name, c.topic, c.disposition
FROM raw.contacts c LEFT JOIN raw.agents a USING (agent_id)
WHERE c.contact_id BETWEEN $first AND $last
"""
# A batch is a run of consecutive contact ids, so its rows are found by range (DuckDB skips row groups
# outside it) rather than by joining every utterance in the warehouse with the batch's ids.
_UTTERANCES = """
SELECT contact_id, seq, speaker, offset_ms, end_offset_ms, text, message_id
FROM raw.utterances WHERE contact_id BETWEEN $first AND $last ORDER BY contact_id, seq
"""
_ACTIONS = """
SELECT contact_id, "at", action FROM raw.agent_actions
WHERE contact_id BETWEEN $first AND $last ORDER BY contact_id, "at"
"""
_FINDING_COLUMNS = ["contact_id", "criterion_id", "rule_id", "rule_type", "result", "evidence_quote",
                    "evidence_speaker", "evidence_offset_ms", "evidence_detail", "regulation_ref",
                    "scorecard_version", "run_id", "evaluated_at"]


def _columns(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[list]:
    """A query's result as one Python list per column (NULL as None): far cheaper than row tuples."""
    return [column.tolist() for column in con.execute(query, params).fetchnumpy().values()]


def _load_batch(con: duckdb.DuckDBPyConnection, contact_ids: list[str], timezone: str) -> list[Contact]:
    """The contacts with these ids (sorted, consecutive in raw.contacts), with turns, actions and context."""
    bounds = {"first": contact_ids[0], "last": contact_ids[-1]}
    wanted = set(contact_ids)
    contacts: dict[str, Contact] = {}
    for cid, channel, agent_id, full_name, topic, disposition in zip(*_columns(con, _CONTACTS, bounds)):
        if cid in wanted:
            contacts[cid] = Contact(cid, channel, agent_id, _agent_names(full_name), topic, disposition)
    contact = None
    for cid, seq, speaker, start, end, text, message_id in zip(*_columns(con, _UTTERANCES, bounds)):
        if contact is None or contact.contact_id != cid:
            contact = contacts.get(cid)
        if contact is not None:
            contact.utterances.append(Utterance(seq, speaker, start, end, text or "", message_id))
    for cid, at, action in zip(*_columns(con, _ACTIONS, bounds)):
        contact = contacts.get(cid)
        if contact is not None:
            contact.actions.append((at, action))
            contact.has_action_log = True
    con.register("_ids", pd.DataFrame({"contact_id": list(contacts)}))
    try:
        enrich(con, list(contacts.values()), timezone)
    finally:
        con.unregister("_ids")
    return [contacts[c] for c in contact_ids if c in contacts]


def _store_findings(con: duckdb.DuckDBPyConnection, columns: dict[str, list], version: str) -> None:
    """Replace the batch's findings for this scorecard version, in one transaction."""
    frame = pd.DataFrame(columns)
    frame["evidence_offset_ms"] = frame["evidence_offset_ms"].astype("Int64")
    con.register("_findings", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM autoqa.findings WHERE scorecard_version = $version "
                    "AND contact_id BETWEEN $first AND $last "
                    "AND contact_id IN (SELECT DISTINCT contact_id FROM _findings)",
                    {"version": version, "first": min(columns["contact_id"]), "last": max(columns["contact_id"])})
        con.execute("INSERT INTO autoqa.findings SELECT * FROM _findings")
        con.execute("COMMIT")
    finally:
        con.unregister("_findings")


def run_autoqa(warehouse_path: Path, scorecard: Scorecard, catalogue: ErrorCatalogue, run_id: str,
               timezone: str = "UTC",
               progress: Callable[[int, int], None] | None = None) -> AutoQASummary:
    summary = AutoQASummary(scorecard_version=scorecard.version)
    criteria = scorecard.criteria()
    now = datetime.now(tz.utc).replace(tzinfo=None)
    with connect(warehouse_path) as con:
        store_scorecard(con, scorecard, catalogue)
        (total,) = con.execute("SELECT count(*) FROM raw.contacts").fetchone()
        ids = con.cursor()  # streams the sorted ids while `con` reads batches and writes findings
        ids.execute("SELECT contact_id FROM raw.contacts ORDER BY contact_id")
        while batch_ids := [cid for (cid,) in ids.fetchmany(BATCH)]:
            findings: dict[str, list] = {name: [] for name in _FINDING_COLUMNS}
            for contact in _load_batch(con, batch_ids, timezone):
                for criterion in criteria:
                    if contact.channel not in criterion.channels:
                        continue
                    outcome = evaluate(criterion, contact)
                    for name, value in zip(_FINDING_COLUMNS, (
                            contact.contact_id, criterion.id, f"{criterion.id}:{criterion.rule.type}",
                            criterion.rule.type, outcome.result, outcome.quote, outcome.speaker,
                            outcome.offset_ms, outcome.detail, criterion.regulation, scorecard.version,
                            run_id, now)):
                        findings[name].append(value)
                    summary.results[(criterion.id, outcome.result)] += 1
            if findings["contact_id"]:
                _store_findings(con, findings, scorecard.version)
            summary.contacts += len(batch_ids)
            summary.findings += len(findings["contact_id"])
            if progress:
                progress(summary.contacts, total)
        ids.close()
    return summary
