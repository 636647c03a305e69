"""AutoQA checks each contact once per scorecard version and content; closed periods stay frozen.

Tiny warehouses written row by row into raw.*, the repo's own scorecard (and versions derived
from it), real DuckDB. The centre is in Asia/Almaty, periods close 3 days after their last day:
as of 2026-12-02 week 2026-W45 (2-8 Nov) is closed, while 30 Nov - 1 Dec (week W49, and November
until 4 Dec) are open.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from contactqa.autoqa.checks import CURRENT_CHECKS, is_frozen
from contactqa.autoqa.engine import (
    ScorecardChangedError, UnknownScorecardVersionError, rescore_period, run_autoqa,
)
from contactqa.autoqa.versions import StoredVersion, definition_json, version_in_force
from contactqa.config import DEFAULT_PROJECT_FILE, Scorecard, load_project
from contactqa.warehouse import column_names, connect

PROJECT = load_project(DEFAULT_PROJECT_FILE)
V1 = PROJECT.scorecard().model_copy(update={"version": "v1", "effective_from": date(2026, 1, 1)})
CATALOGUE = PROJECT.error_catalogue()
TZ = "Asia/Almaty"
AS_OF = date(2026, 12, 2)

# contact id -> (local start, channel, customer_key, topic); Almaty is UTC+5
CONTACTS = {
    "C1": (datetime(2026, 11, 2, 10), "voice", "K1", "card_blocked"),  # W45: closed as of AS_OF
    "C2": (datetime(2026, 11, 3, 11), "chat", "K2", "billing"),  # W45: closed
    "C3": (datetime(2026, 11, 30, 12), "voice", "K3", "card_blocked"),  # W49 and November: open
    "C4": (datetime(2026, 12, 1, 0, 30), "voice", "K4", "billing"),  # 19:30 UTC on 30 Nov, local 1 Dec: open
}
TURNS = [
    ("agent", "Добрый день, банк, меня зовут Айгерим, чем могу помочь?"),
    ("customer", "У меня заблокировали карту"),
    ("agent", "Назовите, пожалуйста, кодовое слово."),
    ("customer", "ромашка"),
    ("agent", "Спасибо, карта разблокирована. Всего доброго!"),
]


def version(base: Scorecard, name: str, effective_from: date) -> Scorecard:
    return base.model_copy(update={"version": name, "effective_from": effective_from})


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    names = column_names(table)
    con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                    [[row.get(name) for name in names] for row in rows])


def add_contact(path: Path, contact_id: str, local_start: datetime, channel: str, customer_key: str | None,
                topic: str | None, turns: list[tuple[str, str]] = TURNS) -> None:
    start = local_start - timedelta(hours=5)  # stored as UTC
    with connect(path) as con:
        insert(con, "contacts", [dict(
            contact_id=contact_id, channel=channel, source_system="test", agent_id="A1", queue="cards",
            topic=topic, direction="inbound", language="ru", started_at=start, answered_at=start,
            ended_at=start + timedelta(minutes=5), duration_s=300.0, talk_s=290.0, hold_s=0.0,
            disposition="answered", customer_key=customer_key)])
        insert(con, "utterances", [dict(contact_id=contact_id, seq=seq, speaker=speaker, offset_ms=5000 * seq,
                                        end_offset_ms=5000 * seq + 4000, text=text)
                                   for seq, (speaker, text) in enumerate(turns, start=1)])


def add_utterance(path: Path, contact_id: str, text: str) -> None:
    with connect(path) as con:
        (seq,) = con.execute("SELECT max(seq) + 1 FROM raw.utterances WHERE contact_id = ?", [contact_id]).fetchone()
        insert(con, "utterances", [dict(contact_id=contact_id, seq=seq, speaker="agent", offset_ms=5000 * seq,
                                        end_offset_ms=5000 * seq + 4000, text=text)])


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "contactqa.duckdb"
    with connect(path) as con:
        insert(con, "agents", [dict(agent_id="A1", full_name="Айгерим Нурланова", email="a1@example.kz")])
    for contact_id, (start, channel, customer, topic) in CONTACTS.items():
        add_contact(path, contact_id, start, channel, customer, topic)
    return path


def autoqa(path: Path, scorecards: list[Scorecard], run_id: str, as_of: date = AS_OF, **kwargs):
    return run_autoqa(path, scorecards, CATALOGUE, run_id, timezone=TZ, close_after_days=3, as_of=as_of, **kwargs)


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def current_checks(path: Path) -> dict[str, tuple]:
    """contact -> (version, run_id, reason) of its current check."""
    return {c: (v, r, why) for c, v, r, why in rows(path, f"""
        SELECT c.contact_id, c.scorecard_version, c.run_id, k.check_reason
        FROM ({CURRENT_CHECKS}) c JOIN autoqa.contact_checks k USING (contact_id, run_id, checked_at)""")}


def current_findings(path: Path) -> list[tuple]:
    """The current findings as dbt selects them, without the run-specific columns."""
    return rows(path, f"""
        SELECT f.* EXCLUDE (run_id, evaluated_at)
        FROM autoqa.findings f JOIN ({CURRENT_CHECKS}) c USING (contact_id, run_id)
        ORDER BY ALL""")


def test_second_run_with_nothing_new_checks_nothing_and_keeps_findings(warehouse: Path) -> None:
    first = autoqa(warehouse, [V1], "run-1")
    assert (first.contacts_checked, first.contacts_skipped) == (4, 0)
    assert first.by_reason == {"new": 4} and first.versions == {"v1": 4}
    findings = rows(warehouse, "SELECT * FROM autoqa.findings ORDER BY ALL")
    checks = rows(warehouse, "SELECT * FROM autoqa.contact_checks ORDER BY ALL")

    second = autoqa(warehouse, [V1], "run-2")
    assert (second.contacts_checked, second.contacts_skipped, second.findings) == (0, 4, 0)
    assert second.by_reason == {}
    assert rows(warehouse, "SELECT * FROM autoqa.findings ORDER BY ALL") == findings
    assert rows(warehouse, "SELECT * FROM autoqa.contact_checks ORDER BY ALL") == checks
    assert rows(warehouse, "SELECT scorecard_version, effective_from FROM autoqa.scorecard_versions") == [
        ("v1", date(2026, 1, 1))]


def test_an_added_utterance_rechecks_just_that_contact(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    add_utterance(warehouse, "C3", "это уже не мои проблемы")  # rude: POLITENESS now fails
    summary = autoqa(warehouse, [V1], "run-2")
    assert (summary.contacts_checked, summary.contacts_skipped) == (1, 3)
    assert summary.by_reason == {"content_changed": 1}
    checks = current_checks(warehouse)
    assert checks["C3"] == ("v1", "run-2", "content_changed")
    assert {c: r for c, (_, r, _) in checks.items() if c != "C3"} == {"C1": "run-1", "C2": "run-1", "C4": "run-1"}
    # the new check's findings are current; the first ones stay as history
    politeness = dict(rows(warehouse, "SELECT run_id, result FROM autoqa.findings "
                                      "WHERE contact_id = 'C3' AND criterion_id = 'POLITENESS'"))
    assert politeness == {"run-1": "pass", "run-2": "fail"}


def test_a_new_version_leaves_closed_periods_alone(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    closed_before = [f for f in current_findings(warehouse) if f[0] in ("C1", "C2")]
    v2 = version(V1, "v2", date(2026, 11, 1))  # would be in force for every contact here
    add_contact(warehouse, "C5", datetime(2026, 12, 1, 15), "chat", "K5", "billing")

    summary = autoqa(warehouse, [V1, v2], "run-2")
    assert summary.by_reason == {"version_changed": 2, "new": 1}
    assert summary.versions == {"v2": 3} and summary.contacts_skipped == 2
    checks = current_checks(warehouse)
    assert checks["C1"] == checks["C2"] == ("v1", "run-1", "new")  # closed week: frozen with v1
    assert checks["C3"] == checks["C4"] == ("v2", "run-2", "version_changed")
    assert checks["C5"] == ("v2", "run-2", "new")
    assert [f for f in current_findings(warehouse) if f[0] in ("C1", "C2")] == closed_before
    assert {f[10] for f in current_findings(warehouse) if f[0] in ("C3", "C4", "C5")} == {"v2"}
    assert rows(warehouse, "SELECT scorecard_version, count(*) FROM autoqa.scorecard_criteria GROUP BY ALL "
                           "ORDER BY ALL") == [("v1", len(V1.criteria())), ("v2", len(v2.criteria()))]


def test_a_frozen_contact_that_changes_is_rechecked_with_its_old_version(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    v2 = version(V1, "v2", date(2026, 11, 1))
    autoqa(warehouse, [V1, v2], "run-2")
    add_utterance(warehouse, "C1", "это уже не мои проблемы")

    # v1 has left the config files: its stored definition still checks its own contacts
    summary = autoqa(warehouse, [v2], "run-3")
    assert summary.by_reason == {"content_changed": 1} and summary.versions == {"v1": 1}
    assert current_checks(warehouse)["C1"] == ("v1", "run-3", "content_changed")
    assert dict(rows(warehouse, "SELECT criterion_id, result FROM autoqa.findings "
                                "WHERE contact_id = 'C1' AND run_id = 'run-3'"))["POLITENESS"] == "fail"


def test_a_changed_definition_under_the_same_version_is_refused(warehouse: Path, tmp_path: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    section = V1.sections[0]
    heavier = section.model_copy(update={"criteria": [
        section.criteria[0].model_copy(update={"weight": section.criteria[0].weight + 5}), *section.criteria[1:]]})
    changed = V1.model_copy(update={"sections": [heavier, *V1.sections[1:]]})
    assert definition_json(changed) != definition_json(V1)
    checks = rows(warehouse, "SELECT count(*) FROM autoqa.contact_checks")
    add_contact(warehouse, "C5", datetime(2026, 12, 1, 15), "chat", "K5", "billing")

    source = tmp_path / "scorecard-v1.yml"
    with pytest.raises(ScorecardChangedError) as refused:
        autoqa(warehouse, [changed], "run-2", scorecard_files={"v1": source})
    message = str(refused.value)
    assert str(source) in message and "give the changed scorecard a new `version`" in message
    assert rows(warehouse, "SELECT count(*) FROM autoqa.contact_checks") == checks  # nothing checked
    # the same definition, loaded again, is accepted
    assert autoqa(warehouse, [V1.model_copy()], "run-3").by_reason == {"new": 1}


def test_rescore_rechecks_a_closed_period_with_the_version_asked_for(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    v2 = version(V1, "v2", date(2026, 12, 1))  # in force for C4 only
    summary = rescore_period(warehouse, [V1, v2], CATALOGUE, "run-20261202T100000Z", "2026-W45", "v2",
                             reason="greeting rule corrected", timezone=TZ, close_after_days=3, as_of=AS_OF)
    assert summary.contacts_checked == 2 and summary.by_reason == {"rescore": 2} and summary.versions == {"v2": 2}
    assert summary.reverted_by_next_run == 0  # W45 is closed: the rescore stays
    assert rows(warehouse, "SELECT * EXCLUDE (requested_at) FROM autoqa.rescores") == [
        (summary.rescore_id, "2026-W45", "v2", "greeting rule corrected", 2, "run-20261202T100000Z")]
    assert rows(warehouse, "SELECT contact_id, scorecard_version, check_reason, rescore_id FROM autoqa.contact_checks "
                           "WHERE run_id = 'run-20261202T100000Z' ORDER BY 1") == [
        ("C1", "v2", "rescore", summary.rescore_id), ("C2", "v2", "rescore", summary.rescore_id)]
    # frozen with the rescored version; the open contacts move to the version in force as usual
    after = autoqa(warehouse, [V1, v2], "run-2")
    assert after.by_reason == {"version_changed": 1}
    assert {c: v for c, (v, _, _) in current_checks(warehouse).items()} == {"C1": "v2", "C2": "v2", "C3": "v1",
                                                                            "C4": "v2"}


def test_rescore_without_a_version_uses_each_contacts_version_in_force(warehouse: Path) -> None:
    v2 = version(V1, "v2", date(2026, 12, 1))
    autoqa(warehouse, [V1, v2], "run-1")
    summary = rescore_period(warehouse, [V1, v2], CATALOGUE, "run-2", "2026-W49", timezone=TZ, as_of=AS_OF)
    assert summary.versions == {"v1": 1, "v2": 1}  # C3 on 30 Nov, C4 on 1 Dec
    assert rows(warehouse, "SELECT period, scorecard_version, contacts_rescored FROM autoqa.rescores") == [
        ("2026-W49", "v1,v2", 2)]


def test_rescore_with_an_unknown_version_lists_the_known_ones(warehouse: Path) -> None:
    with pytest.raises(UnknownScorecardVersionError, match="'v9' is not in the warehouse; known versions: v1"):
        rescore_period(warehouse, [V1], CATALOGUE, "run-1", "2026-11", "v9", timezone=TZ)
    assert rows(warehouse, "SELECT count(*) FROM autoqa.rescores") == [(0,)]


def test_the_customers_next_same_topic_contact_rechecks_the_earlier_one(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    resolved = ("SELECT result FROM autoqa.findings "
                "WHERE contact_id = 'C3' AND criterion_id = 'FIRST_CONTACT_RESOLUTION'")
    assert rows(warehouse, resolved) == [("pass",)]
    # the same customer calls again about the same card the next day
    add_contact(warehouse, "C6", datetime(2026, 12, 1, 9), "voice", "K3", "card_blocked")
    summary = autoqa(warehouse, [V1], "run-2")
    assert summary.by_reason == {"new": 1, "content_changed": 1}
    assert current_checks(warehouse)["C3"] == ("v1", "run-2", "content_changed")
    assert rows(warehouse, resolved + " AND run_id = 'run-2'") == [("fail",)]


def test_incremental_results_equal_a_check_from_scratch(warehouse: Path, tmp_path: Path) -> None:
    autoqa(warehouse, [V1], "run-1", as_of=date(2026, 11, 4))
    add_utterance(warehouse, "C2", "перезвоните позже")
    add_contact(warehouse, "C6", datetime(2026, 11, 3, 9), "voice", "K1", "card_blocked")  # C1's repeat
    autoqa(warehouse, [V1], "run-2", as_of=date(2026, 11, 4))
    fresh = tmp_path / "fresh.duckdb"
    shutil.copy(warehouse, fresh)
    with duckdb.connect(str(fresh)) as con:
        con.execute("DELETE FROM autoqa.findings; DELETE FROM autoqa.contact_checks")
    autoqa(fresh, [V1], "run-x", as_of=date(2026, 11, 4))
    assert current_findings(warehouse) == current_findings(fresh)


def test_findings_older_than_contact_checks_are_backfilled(warehouse: Path) -> None:
    autoqa(warehouse, [V1], "run-1")
    with duckdb.connect(str(warehouse)) as con:  # a warehouse written before contact_checks existed
        con.execute("DELETE FROM autoqa.contact_checks")
    summary = autoqa(warehouse, [V1], "run-2")
    # no hash to compare: open contacts are checked again, closed ones keep their findings
    assert summary.by_reason == {"content_changed": 2}
    assert {c: (r, why) for c, (_, r, why) in current_checks(warehouse).items()} == {
        "C1": ("run-1", "backfill"), "C2": ("run-1", "backfill"),
        "C3": ("run-2", "content_changed"), "C4": ("run-2", "content_changed")}
    assert autoqa(warehouse, [V1], "run-3").contacts_checked == 0


def test_version_in_force_by_local_day() -> None:
    at = datetime(2026, 1, 1)
    versions = [StoredVersion("a", None, at, V1), StoredVersion("b", date(2026, 11, 1), at, V1),
                StoredVersion("c", date(2026, 11, 1), at + timedelta(days=1), V1),  # registered later: wins the tie
                StoredVersion("d", date(2026, 12, 1), at, V1)]
    assert version_in_force(date(2025, 5, 1), versions) == "a"
    assert version_in_force(date(2026, 11, 30), versions) == "c"
    assert version_in_force(date(2026, 12, 1), versions) == "d"
    assert version_in_force(None, versions) == "d"
    later = [StoredVersion("x", date(2026, 6, 1), at, V1), StoredVersion("y", date(2026, 7, 1), at, V1)]
    assert version_in_force(date(2026, 1, 1), later) == "x"  # before every version: the earliest


def test_either_closed_period_freezes_a_day() -> None:
    # 25 Nov: week W48 closes 3 Dec, November closes 4 Dec
    assert not is_frozen(date(2026, 11, 25), date(2026, 12, 2), 3)
    assert is_frozen(date(2026, 11, 25), date(2026, 12, 3), 3)
    # 30 Nov: November closes 4 Dec, before week W49 (7 Dec ... +3)
    assert is_frozen(date(2026, 11, 30), date(2026, 12, 4), 3)


def test_an_empty_warehouse_and_a_contact_without_start_time(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    v2 = version(V1, "v2", date(2026, 12, 1))
    assert autoqa(path, [V1, v2], "run-1").contacts_checked == 0
    with connect(path) as con:
        insert(con, "contacts", [dict(contact_id="X1", channel="voice", agent_id="A1", disposition="answered")])
    summary = autoqa(path, [V1, v2], "run-2")
    assert summary.versions == {"v2": 1}  # no day: the newest version, as a new contact gets
    assert autoqa(path, [V1, v2], "run-3").contacts_checked == 0
