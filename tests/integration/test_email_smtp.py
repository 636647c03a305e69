"""Feedback emails through a real SMTP server (aiosmtpd on 127.0.0.1), sent exactly once.

The warehouse is the small centre the real pipeline built (pipeline_warehouse.py), copied per test.
Periods, preliminary emails and revisions: test_feedback_periods.py.
"""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import date
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from markupsafe import escape

from contactqa.delivery import DeliverySettings, send_feedback
from pipeline_warehouse import CARD, IIN, MAILBOX, MARKUP

CLOSED = date(2026, 12, 10)  # September, October and November 2026 are all closed by then


class Inbox:
    """Collects what the SMTP server accepted; can be told to reject messages to some addresses."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[list[str], email.message.EmailMessage]] = []
        self.reject: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        if self.reject & set(envelope.rcpt_tos):
            return "554 5.7.1 Message rejected by policy"
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.envelopes.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def for_agent(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.envelopes if address in m["To"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
def warehouse(pipeline_centre, tmp_path) -> Path:
    return pipeline_centre.copy_to(tmp_path / "warehouse")


@pytest.fixture
def agents(pipeline_centre) -> list[dict]:
    return pipeline_centre.agents()


def _settings(tmp_path: Path, port: int | None) -> DeliverySettings:
    return DeliverySettings(
        outbox_dir=tmp_path / "outbox", smtp_host="127.0.0.1" if port else None, smtp_port=port or 587,
        smtp_starttls=False, smtp_ssl=False,
    )


def _contacts_by_agent(warehouse: Path, period: str) -> dict[str, set[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    found: dict[str, set[str]] = {}
    for agent_id, contact_id in con.execute(
            "SELECT agent_id, contact_id FROM marts.fct_contact_scores WHERE period = ?", [period]).fetchall():
        found.setdefault(agent_id, set()).add(contact_id)
    con.close()
    return found


def _bodies(msg: email.message.EmailMessage) -> tuple[str, str]:
    return msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content()


def test_each_agent_gets_exactly_one_message_with_only_their_contacts(inbox, warehouse, agents, tmp_path):
    handler, port = inbox
    summary = send_feedback(warehouse, _settings(tmp_path, port), period="2026-11", as_of=CLOSED)

    assert summary.failed == [] and summary.sent == len(agents) and summary.written == len(agents)
    assert len(handler.envelopes) == len(agents)
    contacts = _contacts_by_agent(warehouse, "2026-11")
    assert {a["locale"] for a in agents} == {"en", "ru"}
    for agent in agents:
        address, supervisor = agent["email"], agent["supervisor_email"]
        messages = handler.for_agent(address)
        assert len(messages) == 1, address
        msg = messages[0]
        rcpts = next(r for r, m in handler.envelopes if m is msg)
        assert sorted(rcpts) == sorted([address, supervisor])
        assert msg["Cc"] == supervisor
        assert msg["To"].addresses[0].display_name == agent["full_name"]
        html, text = _bodies(msg)
        for own in contacts[agent["agent_id"]]:
            assert own in html and own in text
        for other_agent, others in contacts.items():
            if other_agent != agent["agent_id"]:
                assert not any(c in html or c in text for c in others), (agent["agent_id"], other_agent)
        # no other agent's name either
        for other in agents:
            if other is not agent:
                assert other["full_name"] not in text and str(escape(other["full_name"])) not in html
        if agent["locale"] == "ru":
            assert msg["Subject"].startswith("Обратная связь по качеству за ноябрь 2026")
            assert "здравствуйте" in text and "Ваша оценка" in html
        else:
            assert msg["Subject"].startswith("Your quality feedback for November 2026")
            assert "Your score" in html
        assert msg["Message-ID"]


def test_personal_data_is_masked_and_markup_escaped(inbox, pipeline_centre, warehouse, agents, tmp_path):
    handler, port = inbox
    send_feedback(warehouse, _settings(tmp_path, port), period="2026-11", as_of=CLOSED)
    address = {a["agent_id"]: a["email"] for a in agents}
    everything = ""
    for _, msg in handler.envelopes:
        html, text = _bodies(msg)
        everything += html + text
        assert "<script>" not in html
    assert CARD not in everything and IIN not in everything
    assert "234-56-78" not in everything and MAILBOX not in everything
    # the Russian-locale agent read out a card, an IIN and a phone (see pipeline_warehouse.py)
    discloser = handler.for_agent(address[pipeline_centre.russian_agent])[0]
    html, text = _bodies(discloser)
    assert "**** **** **** 5671" in html and "**** **** **** 5671" in text
    assert "+7 (***) ***-**-78" in text
    assert "SR-4.2" in html  # the regulation clause of the failed criterion
    markup = handler.for_agent(address[pipeline_centre.english_agent])[0]
    assert "&lt;script&gt;" in _bodies(markup)[0]
    assert MARKUP in _bodies(markup)[1]  # plain text needs no escaping
    assert "s***@bank.kz" in _bodies(markup)[1]


def test_rerunning_sends_nothing_twice(inbox, warehouse, agents, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    first = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    second = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert first.sent == len(agents)
    assert second.sent == 0 and second.written == 0 and second.skipped_already_sent == len(agents)
    assert len(handler.envelopes) == len(agents)
    # the default run re-checks November (unchanged: nothing) and leaves the months older than the lookback
    third = send_feedback(warehouse, settings, as_of=CLOSED)
    assert third.sent == 0 and third.skipped_already_sent == len(agents)
    assert third.beyond_lookback == ["2026-09", "2026-10"]
    # October asked for by name: only its messages are new
    fourth = send_feedback(warehouse, settings, period="2026-10", as_of=CLOSED)
    assert fourth.sent == len(agents) and fourth.skipped_already_sent == 0
    assert len(handler.envelopes) == 2 * len(agents)
    con = duckdb.connect(str(warehouse), read_only=True)
    ledger = con.execute("SELECT agent_id, period, recipients, eml_path FROM delivery.sent_feedback").fetchall()
    con.close()
    assert len(ledger) == 2 * len(agents) and all(Path(row[3]).exists() for row in ledger)


def test_a_failed_send_is_reported_not_recorded_and_retried(inbox, pipeline_centre, warehouse, agents, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    refused = next(a for a in agents if a["agent_id"] == pipeline_centre.russian_agent)
    handler.reject = {refused["email"]}
    first = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert [(f.agent_id, f.period) for f in first.failed] == [(refused["agent_id"], "2026-11")]
    assert "554" in first.failed[0].reason
    assert first.sent == len(agents) - 1
    assert not (tmp_path / "outbox" / "2026-11" / f"{refused['agent_id']}.eml").exists()

    handler.reject = set()
    # 554 is permanent: the next run reports it and leaves it until asked (see test_email_delivery.py)
    held = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert held.sent == 0 and held.failed == [] and "--retry-failed" in held.warnings[0]
    second = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED, retry_failed=True)
    assert second.sent == 1 and second.skipped_already_sent == len(agents) - 1 and second.failed == []
    assert len(handler.for_agent(refused["email"])) == 1


def test_unreachable_server_fails_every_agent_without_crashing(warehouse, agents, tmp_path):
    summary = send_feedback(warehouse, _settings(tmp_path, _free_port()), period="2026-11", as_of=CLOSED)
    assert summary.sent == 0 and len(summary.failed) == len(agents)
    assert "Connection refused" in summary.failed[0].reason or "Errno" in summary.failed[0].reason


def test_outbox_only_writes_eml_files_and_sends_nothing(inbox, warehouse, agents, tmp_path):
    handler, _ = inbox
    summary = send_feedback(warehouse, _settings(tmp_path, None), period="2026-11", as_of=CLOSED)
    assert summary.sent == 0 and summary.written == len(agents) and not summary.failed
    assert handler.envelopes == []
    files = sorted((tmp_path / "outbox" / "2026-11").glob("*.eml"))
    assert [f.stem for f in files] == [a["agent_id"] for a in agents]
    for path, agent in zip(files, agents):
        with path.open("rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        assert msg["To"].addresses[0].addr_spec == agent["email"]
        assert msg["Cc"] == agent["supervisor_email"]
        assert msg["From"].addresses[0].addr_spec == "qa@contactqa.local"
        assert msg["Date"] and msg["Message-ID"]
        assert msg.get_body(("plain",)).get_content_type() == "text/plain"
        assert "<html" not in msg.get_body(("plain",)).get_content()  # a real text alternative
        assert msg.get_body(("html",)).get_content().lstrip().startswith("<!DOCTYPE html>")
        assert "ноябрь 2026" in msg["Subject"] or "November 2026" in msg["Subject"]
        assert path.read_bytes().isascii()  # headers and bodies are transfer-encoded (RFC 5322)
    again = send_feedback(warehouse, _settings(tmp_path, None), period="2026-11", as_of=CLOSED)
    assert again.written == 0 and again.skipped_already_sent == len(agents)


def test_without_cc_and_dry_run(inbox, warehouse, agents, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    settings.cc_supervisor = False
    dry = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED, dry_run=True)
    assert dry.planned == len(agents) and dry.sent == 0 and handler.envelopes == []
    assert not (tmp_path / "outbox").exists()
    send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert len(handler.envelopes) == len(agents)
    assert all(rcpts == [m["To"].addresses[0].addr_spec] for rcpts, m in handler.envelopes)
    assert all(m["Cc"] is None for _, m in handler.envelopes)
