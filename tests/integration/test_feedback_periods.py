"""Feedback once per CLOSED period, and numbered revisions that say what changed.

Real DuckDB, a real SMTP server (aiosmtpd on 127.0.0.1), no mocks. The warehouse is the small centre
the real pipeline built (pipeline_warehouse.py: September, October and November 2026), copied per
test; a late evaluation is landed in raw.evaluations and the marts rebuilt with dbt.
Dates: October 2026 closes on 4 November, November on 4 December (close_after_days 3).
"""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from contactqa.delivery import DeliverySettings, HeldBack, send_feedback
from pipeline_warehouse import TIMEZONE, PipelineWarehouse, add_evaluation
from test_email_smtp import Inbox, _free_port

NOVEMBER_OPEN = date(2026, 11, 5)  # October closed (on 4 Nov), November open; week 44 closed, week 45 open
NOVEMBER_CLOSED = date(2026, 12, 4)  # November's first closed day


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def centre(pipeline_centre) -> PipelineWarehouse:
    return pipeline_centre


@pytest.fixture(scope="module")
def agents(centre) -> list[dict]:
    return centre.agents()


@pytest.fixture(scope="module")
def email_of(agents) -> dict[str, str]:
    return {a["agent_id"]: a["email"] for a in agents}


@pytest.fixture(scope="module")
def locale_of(agents) -> dict[str, str]:
    return {a["agent_id"]: a["locale"] for a in agents}


def _warehouse(centre: PipelineWarehouse, tmp_path: Path) -> Path:
    return centre.copy_to(tmp_path / "warehouse")


def _settings(tmp_path: Path, port: int | None = None, **changes) -> DeliverySettings:
    return DeliverySettings(outbox_dir=tmp_path / "outbox", smtp_host="127.0.0.1" if port else None,
                            smtp_port=port or 587, smtp_starttls=False, timezone=TIMEZONE, close_after_days=3,
                            **changes)


def _bodies(msg: email.message.EmailMessage) -> tuple[str, str]:
    return msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()


def _read_eml(path: Path) -> email.message.EmailMessage:
    with path.open("rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def _sql(warehouse: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _passed_closing(warehouse: Path, agent_id: str, period: str) -> str:
    """A contact of the agent in the month whose CLOSING AutoQA passed (what an evaluator will overturn);
    not one already zeroed by a critical error, so that its score moves."""
    return _sql(warehouse, """
        SELECT r.contact_id FROM marts.fct_criterion_results r JOIN marts.fct_contact_scores c USING (contact_id)
        WHERE r.agent_id = ? AND r.period = ? AND r.criterion_id = 'CLOSING' AND r.result = 'pass'
          AND r.result_source = 'auto' AND NOT c.has_critical_error
        ORDER BY r.contact_id LIMIT 1""", [agent_id, period])[0][0]


def _late_evaluation(centre: PipelineWarehouse, warehouse: Path, *, agent_id: str, period: str, evaluator_id: str,
                     evaluation_id: str, as_of: date) -> str:
    """An evaluator fails CLOSING on one of the agent's contacts where AutoQA passed it; the evaluation
    lands as ingest lands it and the nightly build rebuilds the marts. Returns the contact."""
    contact = _passed_closing(warehouse, agent_id, period)
    add_evaluation(warehouse, evaluation_id=evaluation_id, contact_id=contact, evaluator_id=evaluator_id,
                   criterion_id="CLOSING", result="fail", evaluated_at=datetime.combine(as_of, datetime.min.time()),
                   comment="no offer of further help")
    centre.rebuild(warehouse, as_of)
    return contact


def _month_score(warehouse: Path, agent_id: str, period: str) -> float:
    return _sql(warehouse, "SELECT score_pct FROM marts.fct_agent_scores WHERE agent_id = ? AND period = ?",
                [agent_id, period])[0][0]


# --- which periods go out -------------------------------------------------------------------------

def test_an_open_period_is_not_emailed_and_the_summary_says_when_it_closes(inbox, centre, agents, tmp_path):
    handler, port = inbox
    warehouse = _warehouse(centre, tmp_path)
    summary = send_feedback(warehouse, _settings(tmp_path, port), as_of=NOVEMBER_OPEN)

    # October closed on 4 November and goes out; November is still open and waits.
    assert summary.held_back == [HeldBack("2026-11", "month", date(2026, 12, 4))]
    assert "held back: 2026-11 is open; it closes on 2026-12-04" in str(summary)
    assert summary.first_sends == summary.sent == len(agents) and summary.beyond_lookback == ["2026-09"]
    assert sorted(m["X-ContactQA-Period"] for _, m in handler.envelopes) == ["2026-10"] * len(agents)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["2026-10"]
    assert _sql(warehouse, "SELECT DISTINCT period FROM delivery.sent_feedback") == [("2026-10",)]


def test_a_closed_period_sends_one_email_per_agent_and_a_second_run_sends_none(inbox, centre, agents, email_of,
                                                                                locale_of, tmp_path):
    handler, port = inbox
    warehouse = _warehouse(centre, tmp_path)
    settings = _settings(tmp_path, port)
    first = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)

    # November has just closed; September and October are older than the lookback of 1 and were never sent.
    assert first.failed == [] and first.first_sends == first.sent == len(agents) and first.revisions == 0
    assert first.held_back == [] and first.beyond_lookback == ["2026-09", "2026-10"]
    assert sorted(p.parent.name + "/" + p.name for p in first.eml_paths) == [
        f"2026-11/{a['agent_id']}.eml" for a in agents]
    assert set(locale_of.values()) == {"en", "ru"}
    for agent_id, address in email_of.items():
        (msg,) = handler.for_agent(address)
        html, text = _bodies(msg)
        done, needed = _sql(warehouse, "SELECT sample_evaluations, evaluations_needed FROM marts.fct_agent_scores "
                                       "WHERE agent_id = ? AND period = '2026-11'", [agent_id])[0]
        assert done < needed  # a few days of a small centre: every sample is short, and the email must say so
        if locale_of[agent_id] == "ru":
            assert msg["Subject"].startswith("Обратная связь по качеству за ноябрь 2026:")
            assert f"Выборка пока недостаточна для надёжного вывода: нужно ещё оценок — {needed - done}." in text
            assert f"Оценки: проведено {done}, нужно {needed}." in html
        else:
            assert msg["Subject"].startswith("Your quality feedback for November 2026:")
            more = f"{needed - done} more evaluation{'s are' if needed - done != 1 else ' is'} needed"
            assert f"The sample is not yet large enough to rely on: {more}." in text
            assert f"{done} done of {needed} needed" in html
        assert "PRELIMINARY" not in msg["Subject"] and "ПРЕДВАРИТЕЛЬНО" not in msg["Subject"]
        assert "revision" not in msg["Subject"] and ".r1." in msg["Message-ID"]
        assert msg["X-ContactQA-Revision"] == "1" and msg["X-ContactQA-Preliminary"] == "no"
        # contact times in the centre's zone, with the zone named
        started = _sql(warehouse, "SELECT min(started_at) FROM marts.fct_contact_scores WHERE agent_id = ? "
                                  "AND period = '2026-11'", [agent_id])[0][0]
        local = started + timedelta(hours=5)
        shown = local.strftime("%d.%m.%Y %H:%M" if locale_of[agent_id] == "ru" else "%Y-%m-%d %H:%M")
        assert shown in text and shown in html and "(Asia/Almaty, UTC+05:00)" in text + html
        assert "UTC)" not in html  # no column still claims UTC

    ledger = _sql(warehouse, """SELECT agent_id, period, period_type, revision, is_preliminary, content_hash,
                                       snapshot_json, changes_json FROM delivery.sent_feedback ORDER BY agent_id""")
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in ledger] == [
        (a["agent_id"], "2026-11", "month", 1, False) for a in agents]
    assert all(len(r[5]) == 64 and r[7] is None for r in ledger)
    snapshot = json.loads(ledger[0][6])
    assert snapshot["agent"]["score_pct"] == _month_score(warehouse, ledger[0][0], "2026-11")
    assert all(set(c) == {"score_pct", "criteria", "evaluations"} for c in snapshot["contacts"].values())

    second = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    assert second.written == second.sent == second.first_sends == second.revisions == 0
    assert second.skipped_already_sent == len(agents) and len(handler.envelopes) == len(agents)
    # ...and the next day too: the Date header and rendering time are not part of what is compared
    third = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED + timedelta(days=1))
    assert third.written == 0 and third.skipped_already_sent == len(agents)


def test_lookback_limits_first_time_sends(centre, agents, tmp_path):
    december = date(2026, 12, 10)  # September, October and November closed
    warehouse = _warehouse(centre, tmp_path)
    one = send_feedback(warehouse, _settings(tmp_path), as_of=december)
    assert one.first_sends == len(agents) and one.beyond_lookback == ["2026-09", "2026-10"]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["2026-11"]
    # a later run does not backfill the older months either
    again = send_feedback(warehouse, _settings(tmp_path), as_of=december + timedelta(days=7))
    assert again.written == 0 and again.skipped_already_sent == len(agents)

    other = tmp_path / "lookback-2"
    warehouse2 = _warehouse(centre, other)
    two = send_feedback(warehouse2, _settings(other, lookback=2), as_of=december)
    assert two.first_sends == 2 * len(agents) and two.beyond_lookback == ["2026-09"]
    assert sorted(p.name for p in (other / "outbox").iterdir()) == ["2026-10", "2026-11"]


def test_weekly_feedback_sends_the_closed_week_and_holds_back_the_open_one(centre, tmp_path):
    warehouse = _warehouse(centre, tmp_path)
    settings = _settings(tmp_path, feedback_periods=["week"])
    # Week 45 (2-8 Nov) closes on 12 Nov; week 44 (26 Oct - 1 Nov, across two months) closed on 5 Nov.
    summary = send_feedback(warehouse, settings, as_of=NOVEMBER_OPEN)
    assert [h.period for h in summary.held_back] == ["2026-W45"]
    assert summary.held_back[0].closes_on == date(2026, 11, 12)
    assert summary.beyond_lookback == ["2026-W40"]  # the September contact's week
    sent_weeks = {p.parent.name for p in summary.eml_paths}
    assert sent_weeks == {"2026-W44"}
    english, russian = centre.english_agent, centre.russian_agent
    week_contacts = {cid for (cid,) in _sql(warehouse, "SELECT contact_id FROM marts.fct_contact_scores "
                                                       "WHERE period_week = '2026-W44' AND agent_id = ?", [english])}
    other_contacts = {cid for (cid,) in _sql(warehouse, "SELECT contact_id FROM marts.fct_contact_scores "
                                                        "WHERE period_week <> '2026-W44' AND agent_id = ?", [english])}
    assert {c[:13] for c in week_contacts} >= {"chat-20261031", "chat-20261101"}  # October's day and November's
    english_email = _read_eml(tmp_path / "outbox" / "2026-W44" / f"{english}.eml")
    assert english_email["Subject"].startswith("Your quality feedback for week 44 of 2026 (26 Oct – 1 Nov):")
    text = _bodies(english_email)[1]
    assert week_contacts and all(c in text for c in week_contacts)
    assert other_contacts and not any(c in text for c in other_contacts)
    russian_email = _read_eml(tmp_path / "outbox" / "2026-W44" / f"{russian}.eml")
    assert russian_email["Subject"].startswith("Обратная связь по качеству за 26.10–01.11.2026 (неделя 44):")


# --- preliminary ------------------------------------------------------------------------------------

def test_an_open_period_asked_for_by_name_goes_out_marked_preliminary(inbox, centre, agents, email_of, locale_of,
                                                                       tmp_path):
    handler, port = inbox
    warehouse = _warehouse(centre, tmp_path)
    settings = _settings(tmp_path, port)
    summary = send_feedback(warehouse, settings, period="2026-11", as_of=NOVEMBER_OPEN)

    assert summary.first_sends == summary.sent == len(agents) and summary.preliminary == ["2026-11"]
    assert "PRELIMINARY: 2026-11 is still open" in str(summary)
    for agent_id, address in email_of.items():
        (msg,) = handler.for_agent(address)
        html, text = _bodies(msg)
        assert msg["X-ContactQA-Preliminary"] == "yes"
        if locale_of[agent_id] == "ru":
            assert msg["Subject"].startswith("ПРЕДВАРИТЕЛЬНО: Обратная связь по качеству за ноябрь 2026")
            assert text.startswith("ПРЕДВАРИТЕЛЬНО — период «ноябрь 2026» ещё не закрыт: он закроется 04.12.2026.")
            assert "<strong>ПРЕДВАРИТЕЛЬНО</strong>" in html
        else:
            assert msg["Subject"].startswith("PRELIMINARY: Your quality feedback for November 2026")
            assert text.startswith("PRELIMINARY — November 2026 is still open: it closes on 2026-12-04.")
            assert "<strong>PRELIMINARY</strong>" in html
    assert _sql(warehouse, "SELECT DISTINCT is_preliminary FROM delivery.sent_feedback") == [(True,)]

    # November closes with nothing changed: the preliminary email stands, nothing new goes out.
    closed = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    november = [p for p in closed.eml_paths if p.parent.name == "2026-11"]
    assert november == [] and closed.skipped_already_sent == len(agents) and closed.revisions == 0

    # A late evaluation after all: that agent's final email is revision 2, and says it is final.
    agent_id = centre.english_agent
    _late_evaluation(centre, warehouse, agent_id=agent_id, period="2026-11", evaluator_id="E02",
                     evaluation_id="EV-77", as_of=NOVEMBER_CLOSED)
    final = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    assert final.revisions == 1 and final.first_sends == 0 and final.revised == [f"{agent_id} 2026-11 r2"]
    msg = handler.for_agent(email_of[agent_id])[-1]
    assert "revision 2" in msg["Subject"] and not msg["Subject"].startswith("PRELIMINARY")
    assert "The period has closed: this is your final feedback for it." in _bodies(msg)[1]
    assert _sql(warehouse, "SELECT revision, is_preliminary FROM delivery.sent_feedback WHERE agent_id = ? "
                           "ORDER BY revision", [agent_id]) == [(1, True), (2, False)]


# --- revisions ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["english", "russian"])
def test_a_changed_result_sends_revision_2_to_that_agent_only(inbox, centre, agents, email_of, locale_of, tmp_path,
                                                               reader):
    handler, port = inbox
    agent_id = centre.english_agent if reader == "english" else centre.russian_agent
    assert locale_of[agent_id] == ("en" if reader == "english" else "ru")
    warehouse = _warehouse(centre, tmp_path)
    settings = _settings(tmp_path, port)
    send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    (first,) = handler.for_agent(email_of[agent_id])

    score_before = _month_score(warehouse, agent_id, "2026-11")
    contact = _late_evaluation(centre, warehouse, agent_id=agent_id, period="2026-11", evaluator_id="E01",
                               evaluation_id="EV-900", as_of=NOVEMBER_CLOSED)
    score_after = _month_score(warehouse, agent_id, "2026-11")
    assert score_after != score_before

    summary = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    assert summary.revisions == summary.sent == 1 and summary.first_sends == 0
    assert summary.revised == [f"{agent_id} 2026-11 r2"] and f"revisions: {agent_id} 2026-11 r2" in str(summary)
    assert summary.skipped_already_sent == len(agents) - 1 and summary.failed == []
    assert len(handler.envelopes) == len(agents) + 1
    revision = handler.envelopes[-1][1]
    assert revision["To"].addresses[0].addr_spec == email_of[agent_id]
    html, text = _bodies(revision)
    if reader == "russian":
        assert "редакция 2" in revision["Subject"]
        assert text.startswith("РЕДАКЦИЯ 2 — заменяет редакцию 1 от ")
        before, after = (f"{s:.1f}".replace(".", ",") + "\u00a0%" for s in (score_before, score_after))
        assert f"- ваша оценка: {before} → {after}" in text
        assert (f"- контакт {contact}: CLOSING теперь «не выполнено» (оценщик E01), было «выполнено» (AutoQA)"
                in text)
        assert f"- контакт {contact}: добавлена оценка EV-900" in text
    else:
        assert "revision 2" in revision["Subject"]
        assert text.startswith("REVISION 2 — this replaces revision 1 of ")
        assert f"- your score {score_before:.1f}% → {score_after:.1f}%" in text
        assert f"- contact {contact}: CLOSING now fail (evaluator E01), was pass (AutoQA)" in text
        assert f"- contact {contact}: evaluation EV-900 added" in text
    assert f"{contact}: CLOSING" in html  # the same list heads the HTML part
    assert revision["Message-ID"] != first["Message-ID"] and ".r2." in revision["Message-ID"]
    assert revision["In-Reply-To"] == first["Message-ID"] and revision["X-ContactQA-Revision"] == "2"

    outbox = tmp_path / "outbox" / "2026-11"
    assert (outbox / f"{agent_id}.eml").exists() and (outbox / f"{agent_id}.r2.eml").exists()
    assert sorted(p.name for p in outbox.glob("*.r2.eml")) == [f"{agent_id}.r2.eml"]
    rows = _sql(warehouse, "SELECT revision, message_id, changes_json FROM delivery.sent_feedback "
                           "WHERE agent_id = ? ORDER BY revision", [agent_id])
    assert [r[0] for r in rows] == [1, 2] and rows[1][1] == revision["Message-ID"]
    changes = json.loads(rows[1][2])
    assert {"kind": "criterion", "contact_id": contact, "criterion_id": "CLOSING",
            "from": {"result": "pass", "source": "auto", "points_earned": 10.0, "points_possible": 10.0,
                     "evaluator_id": None},
            "to": {"result": "fail", "source": "manual", "points_earned": 0.0, "points_possible": 10.0,
                   "evaluator_id": "E01"}} in changes

    again = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    assert again.written == 0 and again.skipped_already_sent == len(agents)


def test_corrections_to_an_older_closed_period_still_go_out(centre, agents, tmp_path):
    """Periods already in the ledger are always re-checked, however far behind the lookback."""
    warehouse = _warehouse(centre, tmp_path)
    settings = _settings(tmp_path)
    send_feedback(warehouse, settings, period="2026-10", as_of=NOVEMBER_OPEN)
    agent_id = centre.russian_agent
    _late_evaluation(centre, warehouse, agent_id=agent_id, period="2026-10", evaluator_id="E03",
                     evaluation_id="EV-31", as_of=NOVEMBER_CLOSED)
    summary = send_feedback(warehouse, settings, as_of=NOVEMBER_CLOSED)
    # October r2 for that agent, and all of November for the first time; September was never sent
    assert summary.revisions == 1 and summary.revised == [f"{agent_id} 2026-10 r2"]
    assert summary.first_sends == len(agents)
    assert (tmp_path / "outbox" / "2026-10" / f"{agent_id}.r2.eml").exists()
    assert summary.beyond_lookback == ["2026-09"]


def test_dry_run_counts_what_would_go_out_and_records_nothing(centre, agents, tmp_path):
    warehouse = _warehouse(centre, tmp_path)
    dry = send_feedback(warehouse, _settings(tmp_path), as_of=NOVEMBER_CLOSED, dry_run=True)
    assert dry.planned == dry.first_sends == len(agents) and dry.written == 0
    assert not (tmp_path / "outbox").exists()
    assert _sql(warehouse, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'delivery'") == [(0,)]


# --- the ledger from the previous version -----------------------------------------------------------------

OLD_LEDGER = """
CREATE SCHEMA delivery;
CREATE TABLE delivery.sent_feedback (
    agent_id VARCHAR NOT NULL, period VARCHAR NOT NULL, message_id VARCHAR NOT NULL, recipients VARCHAR NOT NULL,
    sent_at TIMESTAMP NOT NULL, eml_path VARCHAR, transport VARCHAR, PRIMARY KEY (agent_id, period));
"""


def test_an_old_shape_ledger_migrates_in_place_and_keeps_its_history(centre, agents, tmp_path):
    warehouse = _warehouse(centre, tmp_path)
    sent_at = datetime(2026, 12, 1, 6, 0)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(OLD_LEDGER)
        # the old version emailed every period in the marts, the open one included
        for period in ("2026-10", "2026-11"):
            for agent in agents:
                agent_id = agent["agent_id"]
                con.execute("INSERT INTO delivery.sent_feedback VALUES (?, ?, ?, ?, ?, ?, 'smtp')",
                            [agent_id, period, f"<old-{agent_id}-{period}@x>", agent["email"], sent_at,
                             f"/old/{period}/{agent_id}.eml"])
        # a key the marts no longer have (the old version only knew months)
        con.execute("INSERT INTO delivery.sent_feedback VALUES (?, '2026-W30', '<old-w@x>', 'a@x', ?, NULL, "
                    "'outbox')", [agents[0]["agent_id"], sent_at])

    # A dry run cannot migrate (read-only) but already reads the old rows as revision 1.
    dry = send_feedback(warehouse, _settings(tmp_path), as_of=NOVEMBER_CLOSED, dry_run=True)
    assert dry.planned == 0 and dry.baselined == 2 * len(agents)
    assert "revision" not in [c for (c,) in _sql(warehouse, "SELECT column_name FROM information_schema.columns "
                                                            "WHERE table_name = 'sent_feedback'")]

    summary = send_feedback(warehouse, _settings(tmp_path), as_of=NOVEMBER_CLOSED)
    # Both months were emailed by the old version: not again, and no "revision 2" that could not say what changed
    assert summary.written == 0 and summary.baselined == 2 * len(agents) and summary.failed == []
    rows = _sql(warehouse, """SELECT agent_id, period, period_type, revision, message_id, sent_at, eml_path, transport,
                                     is_preliminary, content_hash IS NOT NULL FROM delivery.sent_feedback
                              ORDER BY agent_id, period""")
    assert len(rows) == 2 * len(agents) + 1
    first = agents[0]["agent_id"]
    assert rows[1] == (first, "2026-11", "month", 1, f"<old-{first}-2026-11@x>", sent_at, f"/old/2026-11/{first}.eml",
                       "smtp", None, True)
    assert rows[2][:4] == (first, "2026-W30", "week", 1) and rows[2][9] is False  # no marts rows: untouched
    columns = [c for (c,) in _sql(warehouse, "SELECT column_name FROM information_schema.columns WHERE "
                                             "table_schema = 'delivery' AND table_name = 'sent_feedback' "
                                             "ORDER BY ordinal_position")]
    assert columns == ["agent_id", "period", "period_type", "revision", "message_id", "recipients", "sent_at",
                       "eml_path", "transport", "is_preliminary", "content_hash", "snapshot_json", "changes_json"]
    with duckdb.connect(str(warehouse)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO delivery.sent_feedback (agent_id, period, period_type, revision, message_id, "
                    "recipients, sent_at) VALUES (?, '2026-11', 'month', 1, 'x', 'y', now())", [first])

    # From the adopted baseline on, a correction is an ordinary revision 2.
    agent_id = centre.russian_agent
    contact = _late_evaluation(centre, warehouse, agent_id=agent_id, period="2026-11", evaluator_id="E01",
                               evaluation_id="EV-5", as_of=NOVEMBER_CLOSED)
    after = send_feedback(warehouse, _settings(tmp_path), as_of=NOVEMBER_CLOSED)
    assert after.revisions == 1 and after.written == 1
    msg = _read_eml(tmp_path / "outbox" / "2026-11" / f"{agent_id}.r2.eml")
    assert msg["In-Reply-To"] == f"<old-{agent_id}-2026-11@x>"
    assert f"контакт {contact}: CLOSING теперь «не выполнено» (оценщик E01)" in _bodies(msg)[1]


# --- the command line -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--period", "November"], "is not a period: use a month like 2026-11 or an ISO week like 2026-W45"),
    (["--period", "2025-W53"], "2025 has no ISO week 53"),
    (["--as-of", "04.12.2026"], "is not a date like 2026-12-04"),
])
def test_send_feedback_refuses_bad_periods_and_dates(args, message):
    from contactqa.cli import app

    result = CliRunner().invoke(app, ["send-feedback", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split())


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_send_feedback_command_reports_what_went_out_and_what_waits(prefect_harness, centre, agents, tmp_path):
    from contactqa.cli import app

    warehouse = _warehouse(centre, tmp_path)
    project = tmp_path / "contactqa.yml"
    project.write_text(f"warehouse: {warehouse}\noutput_dir: {tmp_path / 'output'}\ntimezone: {TIMEZONE}\n"
                       "close_after_days: 3\n", encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(app, ["send-feedback", "--config", str(project), "--as-of", "2026-11-30", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    out = " ".join(dry.output.split())
    # October (closed) goes out to every agent; November waits
    assert f"Feedback as of 2026-11-30: {len(agents)} first email(s) (revision 1) and 0 revision(s) would go out" in out
    assert "1 open period(s) held back: 2026-11 (closes 2026-12-04)" in out
    assert not (tmp_path / "output").exists()

    sent = runner.invoke(app, ["send-feedback", "--config", str(project), "--as-of", "2026-11-30"])
    assert sent.exit_code == 0, sent.output
    # no SMTP server in this project: written to the outbox, and the headline says it was not sent
    assert (f"{len(agents)} first email(s) (revision 1) and 0 revision(s) written to the outbox (no SMTP server "
            "configured: not sent); 0 unchanged" in " ".join(sent.output.split()))
    assert len(list((tmp_path / "output" / "outbox" / "2026-10").glob("*.eml"))) == len(agents)

    early = runner.invoke(app, ["send-feedback", "--config", str(project), "--as-of", "2026-11-30",
                                "--period", "2026-11"])
    out = " ".join(early.output.split())
    assert early.exit_code == 0, early.output
    assert "PRELIMINARY 2026-11 is still open" in out and "0 open periods held back" in out
    assert len(list((tmp_path / "output" / "outbox" / "2026-11").glob("*.eml"))) == len(agents)
