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

BATCH = 2000


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


def _load_batch(con: duckdb.DuckDBPyConnection, contact_ids: list[str], timezone: str) -> list[Contact]:
    ids = pd.DataFrame({"contact_id": contact_ids})
    con.register("_ids", ids)
    contacts = {
        row[0]: Contact(row[0], row[1], row[2], _agent_names(row[3]), row[4], row[5])
        for row in con.execute(
            "SELECT c.contact_id, c.channel, c.agent_id, a.full_name, c.topic, c.disposition "
            "FROM raw.contacts c JOIN _ids USING (contact_id) LEFT JOIN raw.agents a USING (agent_id)").fetchall()
    }
    for cid, seq, speaker, start, end, text, message_id in con.execute(
            "SELECT u.contact_id, u.seq, u.speaker, u.offset_ms, u.end_offset_ms, u.text, u.message_id "
            "FROM raw.utterances u JOIN _ids USING (contact_id) ORDER BY u.contact_id, u.seq").fetchall():
        contacts[cid].utterances.append(Utterance(seq, speaker, int(start), int(end), text or "", message_id))
    for cid, at, action in con.execute(
            "SELECT x.contact_id, x.\"at\", x.action FROM raw.agent_actions x JOIN _ids USING (contact_id) "
            "ORDER BY x.contact_id, x.\"at\"").fetchall():
        if cid in contacts:
            contacts[cid].actions.append((at, action))
            contacts[cid].has_action_log = True
    enrich(con, list(contacts.values()), timezone)
    con.unregister("_ids")
    return [contacts[c] for c in contact_ids if c in contacts]


def run_autoqa(warehouse_path: Path, scorecard: Scorecard, catalogue: ErrorCatalogue, run_id: str,
               timezone: str = "UTC",
               progress: Callable[[int, int], None] | None = None) -> AutoQASummary:
    summary = AutoQASummary(scorecard_version=scorecard.version)
    criteria = scorecard.criteria()
    now = datetime.now(tz.utc).replace(tzinfo=None)
    with connect(warehouse_path) as con:
        store_scorecard(con, scorecard, catalogue)
        all_ids = [cid for (cid,) in con.execute("SELECT contact_id FROM raw.contacts ORDER BY contact_id").fetchall()]
        for start in range(0, len(all_ids), BATCH):
            batch_ids = all_ids[start:start + BATCH]
            rows = []
            for contact in _load_batch(con, batch_ids, timezone):
                for criterion in criteria:
                    if contact.channel not in criterion.channels:
                        continue
                    outcome = evaluate(criterion, contact)
                    rows.append((contact.contact_id, criterion.id, f"{criterion.id}:{criterion.rule.type}",
                                 criterion.rule.type, outcome.result, outcome.quote, outcome.speaker,
                                 outcome.offset_ms, outcome.detail, criterion.regulation, scorecard.version,
                                 run_id, now))
                    summary.results[(criterion.id, outcome.result)] += 1
            frame = pd.DataFrame(rows, columns=[
                "contact_id", "criterion_id", "rule_id", "rule_type", "result", "evidence_quote",
                "evidence_speaker", "evidence_offset_ms", "evidence_detail", "regulation_ref",
                "scorecard_version", "run_id", "evaluated_at"])
            frame["evidence_offset_ms"] = frame["evidence_offset_ms"].astype("Int64")
            con.register("_findings", frame)
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM autoqa.findings WHERE scorecard_version = ? AND contact_id IN "
                        "(SELECT DISTINCT contact_id FROM _findings)", [scorecard.version])
            con.execute("INSERT INTO autoqa.findings SELECT * FROM _findings")
            con.execute("COMMIT")
            con.unregister("_findings")
            summary.contacts += len(batch_ids)
            summary.findings += len(rows)
            if progress:
                progress(summary.contacts, len(all_ids))
    return summary
