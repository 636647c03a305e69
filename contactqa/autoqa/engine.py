"""Check landed contacts against the scorecard and store one finding per contact x criterion.

Each contact is checked once per scorecard version and content: contactqa.autoqa.checks decides
which contacts a run must check and with which version, so a re-run with nothing new checks
nothing. A check appends its findings under its run_id and records itself in
`autoqa.contact_checks`; nothing is deleted, so the results a report was built on stay readable.
Contacts are read in batches, so memory follows the batch size, not the warehouse size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections import Counter
from datetime import date, datetime, timezone as tz
from pathlib import Path
from typing import Callable, Mapping

import duckdb
import pandas as pd

from contactqa.autoqa.checks import CheckPlan, backfill_checks, drop_plan, plan_checks, plan_period
from contactqa.autoqa.context import enrich
from contactqa.autoqa.language import Utterance
from contactqa.autoqa.rules import Contact, evaluate, transliterate  # noqa: F401 - transliterate is part of this API
from contactqa.autoqa.versions import (  # noqa: F401 - the exceptions and store_scorecard are part of this API
    ScorecardChangedError, ScorecardVersionError, StoredVersion, UnknownScorecardVersionError, register_scorecards,
    store_scorecard, stored_versions,
)
from contactqa.config import Criterion, ErrorCatalogue, Scorecard
from contactqa.periods import Period, parse_period, today
from contactqa.warehouse import connect

BATCH = 5000  # contacts read, evaluated and written at a time

Progress = Callable[[int, int], None]


@dataclass
class AutoQASummary:
    contacts_checked: int = 0
    findings: int = 0
    results: Counter = field(default_factory=Counter)  # (criterion, result) -> n
    scorecard_version: str = ""  # the newest configured version: the one new contacts get
    contacts_skipped: int = 0  # already checked with the right version, and unchanged since
    by_reason: Counter = field(default_factory=Counter)  # new | content_changed | version_changed | rescore -> n
    versions: Counter = field(default_factory=Counter)  # scorecard version -> contacts checked with it

    @property
    def contacts(self) -> int:
        """Contacts checked in this run (the name callers used before checks were incremental)."""
        return self.contacts_checked

    def by_result(self) -> Counter:
        totals: Counter = Counter()
        for (_, result), n in self.results.items():
            totals[result] += n
        return totals


@dataclass
class RescoreSummary(AutoQASummary):
    rescore_id: str = ""
    period: str = ""
    requested_version: str | None = None  # None: each contact's version in force by date
    # Rescored with another version than the one in force while their period is still open: the
    # next regular AutoQA run checks them again with the version in force.
    reverted_by_next_run: int = 0


def agent_names(full_name: str | None) -> tuple[str, ...]:
    """Every spelling of every part of the directory's name; () when the directory has no name."""
    # Directories write "First Last" or "Last First": every name part may be the one the agent says,
    # and an agent named in Cyrillic says their name in Latin letters in English conversations.
    parts = [part for part in (full_name or "").replace(".", " ").split() if len(part) > 1]
    # ...and, in chats and on the phone, often the short form of their first name (Слава, Katie).
    parts += [short for part in parts for short in SHORT_NAMES.get(part.lower(), ())]
    latin = [transliterate(p) for p in parts if p.lower() != transliterate(p)]  # of the Cyrillic parts
    latin += [transliterate(p.lower().replace("ё", "йо")) for p in parts if "ё" in p.lower()]  # Artyom
    # How passports and badges spell them (Aigerim, Alexey, Dmitry) first: a turn matching several
    # spellings is reported with the first.
    usual = [re.sub(r"ay(?![aeiouy])", "ai", _usual(v)) for v in latin]
    return tuple(dict.fromkeys(parts + [_usual(p) for p in parts] + usual + latin))


# The short forms agents introduce themselves by. Directories hold the full name; an agent who writes
# "это Слава из поддержки" or "Katie here" introduces themselves all the same.
SHORT_NAMES: dict[str, tuple[str, ...]] = {
    "александр": ("Саша",), "александра": ("Саша",), "алексей": ("Лёша", "Алёша"), "анастасия": ("Настя",),
    "анна": ("Аня",), "артём": ("Тёма",), "артем": ("Тема",), "валентина": ("Валя",), "виктория": ("Вика",),
    "владимир": ("Володя", "Вова"), "вячеслав": ("Слава",), "галина": ("Галя",), "дмитрий": ("Дима",),
    "евгений": ("Женя",), "евгения": ("Женя",), "екатерина": ("Катя",), "елена": ("Лена",), "иван": ("Ваня",),
    "ирина": ("Ира",), "константин": ("Костя",), "любовь": ("Люба",), "людмила": ("Люда",), "максим": ("Макс",),
    "мария": ("Маша",), "михаил": ("Миша",), "надежда": ("Надя",), "наталья": ("Наташа",), "наталия": ("Наташа",),
    "николай": ("Коля",), "ольга": ("Оля",), "павел": ("Паша",), "светлана": ("Света",), "сергей": ("Серёжа",),
    "станислав": ("Стас",), "татьяна": ("Таня",), "юлия": ("Юля",), "ярослав": ("Слава",),
    "alexander": ("Alex",), "alexandra": ("Alex",), "benjamin": ("Ben",), "christopher": ("Chris",),
    "daniel": ("Dan", "Danny"), "edward": ("Ed", "Eddie"), "elizabeth": ("Liz", "Beth"), "emily": ("Em", "Emmy"),
    "james": ("Jim", "Jamie"), "jennifer": ("Jen",), "jonathan": ("Jon",), "joseph": ("Joe",),
    "katherine": ("Kate", "Katie", "Kathy"), "catherine": ("Kate", "Katie", "Cathy"), "margaret": ("Maggie", "Meg"),
    "matthew": ("Matt",), "michael": ("Mike",), "nicholas": ("Nick",), "oluwaseun": ("Seun",),
    "rebecca": ("Becky",), "richard": ("Rick", "Rich"), "robert": ("Rob", "Bob"), "samuel": ("Sam",),
    "thomas": ("Tom",), "victoria": ("Vicky",), "william": ("Will", "Bill"),
}


def _usual(name: str) -> str:
    return name.replace("ks", "x").replace("iy", "y").replace("ii", "i")


_agent_names = agent_names  # the name contactqa.autoqa.measure imports


# A batch is a run of consecutive contact ids (of the contacts to check), so its rows are found by
# range (DuckDB skips row groups outside it) and then by id, so a sparse batch loads only its own rows.
_CONTACTS = """
SELECT c.contact_id, c.channel, c.agent_id, a.full_name, c.topic, c.disposition, c.source_system
FROM raw.contacts c LEFT JOIN raw.agents a USING (agent_id)
WHERE c.contact_id BETWEEN $first AND $last AND c.contact_id IN (SELECT contact_id FROM _ids)
"""
_UTTERANCES = """
SELECT contact_id, seq, speaker, offset_ms, end_offset_ms, text, message_id, pii_kinds
FROM raw.utterances WHERE contact_id BETWEEN $first AND $last AND contact_id IN (SELECT contact_id FROM _ids)
ORDER BY contact_id, seq
"""
_ACTIONS = """
SELECT contact_id, "at", action FROM raw.agent_actions
WHERE contact_id BETWEEN $first AND $last AND contact_id IN (SELECT contact_id FROM _ids)
ORDER BY contact_id, "at"
"""
_FINDING_COLUMNS = ["contact_id", "criterion_id", "rule_id", "rule_type", "result", "evidence_quote",
                    "evidence_speaker", "evidence_offset_ms", "evidence_detail", "regulation_ref",
                    "scorecard_version", "run_id", "evaluated_at"]


def _columns(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[list]:
    """A query's result as one Python list per column (NULL as None): far cheaper than row tuples."""
    return [column.tolist() for column in con.execute(query, params).fetchnumpy().values()]


def _load_batch(con: duckdb.DuckDBPyConnection, contact_ids: list[str], timezone: str) -> list[Contact]:
    """The contacts with these ids (sorted), with turns, actions and context."""
    bounds = {"first": contact_ids[0], "last": contact_ids[-1]}
    con.register("_ids", pd.DataFrame({"contact_id": contact_ids}))
    try:
        contacts = _read_batch(con, bounds)
        enrich(con, list(contacts.values()), timezone)
    finally:
        con.unregister("_ids")
    return [contacts[c] for c in contact_ids if c in contacts]


def _read_batch(con: duckdb.DuckDBPyConnection, bounds: dict[str, str]) -> dict[str, Contact]:
    """The batch's contacts (ids in view `_ids`) with their turns and actions."""
    contacts: dict[str, Contact] = {}
    for cid, channel, agent_id, full_name, topic, disposition, source in zip(*_columns(con, _CONTACTS, bounds)):
        contacts[cid] = Contact(cid, channel, agent_id, agent_names(full_name), topic, disposition,
                                source_system=source)
    contact = None
    for cid, seq, speaker, start, end, text, message_id, pii_kinds in zip(*_columns(con, _UTTERANCES, bounds)):
        if contact is None or contact.contact_id != cid:
            contact = contacts.get(cid)
        if contact is not None:
            contact.utterances.append(Utterance(seq, speaker, start, end, text or "", message_id,
                                                tuple(pii_kinds.split(",")) if pii_kinds else ()))
    for cid, at, action in zip(*_columns(con, _ACTIONS, bounds)):
        contact = contacts.get(cid)
        if contact is not None:
            contact.actions.append((at, action))
            contact.has_action_log = True
    return contacts


_CHECKS = """
INSERT INTO autoqa.contact_checks
SELECT t.contact_id, t.scorecard_version, f.content_hash, $run_id, $now, t.check_reason, $rescore_id
FROM _to_check t JOIN _contact_facts f USING (contact_id)
WHERE t.n BETWEEN $first AND $last
"""


def _store_batch(con: duckdb.DuckDBPyConnection, columns: dict[str, list], run_id: str, now: datetime,
                 rows: tuple[int, int], rescore_id: str | None) -> None:
    """The batch's findings and its checks, in one transaction: a check never lacks its findings."""
    frame = pd.DataFrame(columns)
    frame["evidence_offset_ms"] = frame["evidence_offset_ms"].astype("Int64")
    con.register("_findings", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        # A run id given twice (a re-run under a fixed id) would mix two checks' findings under one
        # key: the later check replaces that run's findings of the contact; other runs' stay.
        con.execute("DELETE FROM autoqa.findings WHERE run_id = $run_id AND contact_id IN "
                    "(SELECT contact_id FROM _to_check WHERE n BETWEEN $first AND $last)",
                    {"run_id": run_id, "first": rows[0], "last": rows[1]})
        if len(frame):
            con.execute("INSERT INTO autoqa.findings SELECT * FROM _findings")
        con.execute(_CHECKS, {"run_id": run_id, "now": now, "rescore_id": rescore_id,
                              "first": rows[0], "last": rows[1]})
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_findings")


def _check_planned(con: duckdb.DuckDBPyConnection, scorecards: Mapping[str, Scorecard], total: int, run_id: str,
                   now: datetime, timezone: str, summary: AutoQASummary, rescore_id: str | None = None,
                   progress: Progress | None = None) -> None:
    """Check every contact in `_to_check` with its version, BATCH consecutive ids at a time."""
    criteria: dict[str, list[Criterion]] = {version: card.criteria() for version, card in scorecards.items()}
    for first in range(1, total + 1, BATCH):
        rows = (first, first + BATCH - 1)
        planned = con.execute("SELECT contact_id, scorecard_version FROM _to_check WHERE n BETWEEN ? AND ? "
                              "ORDER BY n", list(rows)).fetchall()
        version_of = dict(planned)
        findings: dict[str, list] = {name: [] for name in _FINDING_COLUMNS}
        for contact in _load_batch(con, [cid for cid, _ in planned], timezone):
            version = version_of[contact.contact_id]
            summary.versions[version] += 1
            for criterion in criteria[version]:
                if contact.channel not in criterion.channels:
                    continue
                outcome = evaluate(criterion, contact)
                for name, value in zip(_FINDING_COLUMNS, (
                        contact.contact_id, criterion.id, f"{criterion.id}:{criterion.rule.type}",
                        criterion.rule.type, outcome.result, outcome.quote, outcome.speaker,
                        outcome.offset_ms, outcome.detail, criterion.regulation, version,
                        run_id, now)):
                    findings[name].append(value)
                summary.results[(criterion.id, outcome.result)] += 1
        _store_batch(con, findings, run_id, now, rows, rescore_id)
        summary.contacts_checked += len(planned)
        summary.findings += len(findings["contact_id"])
        if progress:
            progress(summary.contacts_checked, total)


def _scorecards(scorecards: Scorecard | list[Scorecard]) -> list[Scorecard]:
    """The configured versions, oldest `effective_from` first (as Project.scorecards() gives them)."""
    listed = [scorecards] if isinstance(scorecards, Scorecard) else list(scorecards)
    if not listed:
        raise ScorecardVersionError("no scorecard configured: AutoQA needs at least one")
    return sorted(listed, key=lambda card: card.effective_from or date.min)


def _prepare(con: duckdb.DuckDBPyConnection, configured: list[Scorecard], catalogue: ErrorCatalogue,
             now: datetime, scorecard_files: Mapping[str, Path] | None) -> list[StoredVersion]:
    """Register the configured versions, give old findings their checks, and list every stored version."""
    register_scorecards(con, configured, catalogue, now, scorecard_files)
    backfill_checks(con)
    return stored_versions(con, configured)


def _utc_now() -> datetime:
    return datetime.now(tz.utc).replace(tzinfo=None)


def run_autoqa(warehouse_path: Path, scorecards: Scorecard | list[Scorecard], catalogue: ErrorCatalogue,
               run_id: str, timezone: str = "UTC", close_after_days: int = 3, as_of: date | None = None,
               progress: Progress | None = None, *,
               scorecard_files: Mapping[str, Path] | None = None) -> AutoQASummary:
    """Check the contacts that need it: new ones, changed ones, and open periods' under a new version.

    `scorecards` are the configured versions (Project.scorecards(), or one Scorecard); `as_of` is the
    local date the run acts on (default today in `timezone`): it decides which periods are closed.
    `scorecard_files` (version -> file) lets a refused changed version name its file.
    Raises ScorecardChangedError when a stored version's definition changed.
    """
    configured = _scorecards(scorecards)
    summary = AutoQASummary(scorecard_version=configured[-1].version)
    now = _utc_now()
    with connect(warehouse_path) as con:
        versions = _prepare(con, configured, catalogue, now, scorecard_files)
        try:
            plan = plan_checks(con, versions, timezone, today(timezone, as_of), close_after_days)
            _record_plan(summary, plan)
            _check_planned(con, {v.version: v.scorecard for v in versions}, plan.to_check, run_id, now, timezone,
                           summary, progress=progress)
        finally:
            drop_plan(con)
    return summary


def _record_plan(summary: AutoQASummary, plan: CheckPlan) -> None:
    summary.contacts_skipped = plan.skipped
    summary.by_reason = Counter(plan.by_reason)


_REVERTED = """
SELECT count(*) FROM _to_check t
JOIN _contact_facts f USING (contact_id)
JOIN _days d ON d.local_day IS NOT DISTINCT FROM f.local_day
WHERE NOT d.is_frozen AND t.scorecard_version <> d.in_force
"""


def rescore_id_for(run_id: str) -> str:
    return f"rescore-{run_id.removeprefix('run-')}"


def rescore_period(warehouse_path: Path, scorecards: Scorecard | list[Scorecard], catalogue: ErrorCatalogue,
                   run_id: str, period: Period | str, scorecard_version: str | None = None,
                   reason: str | None = None, timezone: str = "UTC", close_after_days: int = 3,
                   as_of: date | None = None, progress: Progress | None = None, *,
                   scorecard_files: Mapping[str, Path] | None = None) -> RescoreSummary:
    """Check every contact of a local week or month again, closed or not, and record the rescore.

    With `scorecard_version`, every contact is checked with that stored version; without it, each
    with its version in force by date. The checks carry check_reason 'rescore' and the rescore_id
    of the row written to `autoqa.rescores`. Raises UnknownScorecardVersionError for a version the
    warehouse does not hold, PeriodError for a malformed period key.
    """
    configured = _scorecards(scorecards)
    period = parse_period(period) if isinstance(period, str) else period
    summary = RescoreSummary(scorecard_version=configured[-1].version, rescore_id=rescore_id_for(run_id),
                             period=period.key, requested_version=scorecard_version)
    now = _utc_now()
    with connect(warehouse_path) as con:
        versions = _prepare(con, configured, catalogue, now, scorecard_files)
        known = [v.version for v in versions]
        if scorecard_version is not None and scorecard_version not in known:
            raise UnknownScorecardVersionError(scorecard_version, known)
        try:
            plan = plan_period(con, versions, timezone, period, scorecard_version, today(timezone, as_of),
                               close_after_days)
            _record_plan(summary, plan)
            summary.reverted_by_next_run = con.execute(_REVERTED).fetchone()[0]
            _check_planned(con, {v.version: v.scorecard for v in versions}, plan.to_check, run_id, now, timezone,
                           summary, rescore_id=summary.rescore_id, progress=progress)
        finally:
            drop_plan(con)
        recorded = scorecard_version or ",".join(sorted(summary.versions)) or None
        con.execute("INSERT INTO autoqa.rescores VALUES (?, ?, ?, ?, ?, ?, ?)", [
            summary.rescore_id, period.key, recorded, reason, summary.contacts_checked, now, run_id])
    return summary
