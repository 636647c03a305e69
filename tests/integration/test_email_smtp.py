"""Feedback emails through a real SMTP server (aiosmtpd on 127.0.0.1), sent exactly once."""

from __future__ import annotations

import email
import email.policy
import socket
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller

from contactqa.delivery import DeliverySettings, send_feedback
from contactqa.reporting.example import AGENTS, create_example_marts

AGENT_BY_EMAIL = {a[2]: a for a in AGENTS}


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
def warehouse(tmp_path) -> Path:
    return create_example_marts(tmp_path / "warehouse.duckdb")


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


def test_each_agent_gets_exactly_one_message_with_only_their_contacts(inbox, warehouse, tmp_path):
    handler, port = inbox
    summary = send_feedback(warehouse, _settings(tmp_path, port), period="2026-11")

    assert summary.failed == [] and summary.sent == len(AGENTS) and summary.written == len(AGENTS)
    assert len(handler.envelopes) == len(AGENTS)
    contacts = _contacts_by_agent(warehouse, "2026-11")
    for agent_id, name, address, team, supervisor, locale, _ in AGENTS:
        messages = handler.for_agent(address)
        assert len(messages) == 1, address
        msg = messages[0]
        rcpts = next(r for r, m in handler.envelopes if m is msg)
        assert sorted(rcpts) == sorted([address, supervisor])
        assert msg["Cc"] == supervisor
        assert msg["To"].addresses[0].display_name == name
        html, text = _bodies(msg)
        for own in contacts[agent_id]:
            assert own in html and own in text
        for other_agent, others in contacts.items():
            if other_agent != agent_id:
                assert not any(c in html or c in text for c in others), (agent_id, other_agent)
        # no other agent's name either
        assert not any(a[1] in html for a in AGENTS if a[0] != agent_id)
        if locale == "ru":
            assert msg["Subject"].startswith("Обратная связь по качеству за ноябрь 2026")
            assert "здравствуйте" in text and "Ваша оценка" in html
        else:
            assert msg["Subject"].startswith("Your quality feedback for November 2026")
            assert "Your score" in html
        assert msg["Message-ID"]


def test_personal_data_is_masked_and_markup_escaped(inbox, warehouse, tmp_path):
    handler, port = inbox
    send_feedback(warehouse, _settings(tmp_path, port), period="2026-11")
    everything = ""
    for _, msg in handler.envelopes:
        html, text = _bodies(msg)
        everything += html + text
        assert "<script>" not in html
    assert "4400 4300 1234 5678" not in everything and "900101300123" not in everything
    assert "234-56-78" not in everything and "support@bank.kz" not in everything
    daniyar = handler.for_agent("daniyar.s@contactqa.local")[0]  # A002 disclosed a card (see example data)
    html, text = _bodies(daniyar)
    assert "**** **** **** 5678" in html and "**** **** **** 5678" in text
    assert "SR-4.2" in html  # the regulation clause of the failed criterion
    james = handler.for_agent("james.o@contactqa.local")[0]
    assert "&lt;script&gt;" in _bodies(james)[0]
    assert "<script>alert('x')</script>" in _bodies(james)[1]  # plain text needs no escaping


def test_rerunning_sends_nothing_twice(inbox, warehouse, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    first = send_feedback(warehouse, settings, period="2026-11")
    second = send_feedback(warehouse, settings, period="2026-11")
    assert first.sent == len(AGENTS)
    assert second.sent == 0 and second.written == 0 and second.skipped_already_sent == len(AGENTS)
    assert len(handler.envelopes) == len(AGENTS)
    # every period at once: only October's messages are new
    third = send_feedback(warehouse, settings)
    assert third.sent == len(AGENTS) and third.skipped_already_sent == len(AGENTS)
    assert len(handler.envelopes) == 2 * len(AGENTS)
    con = duckdb.connect(str(warehouse), read_only=True)
    ledger = con.execute("SELECT agent_id, period, recipients, eml_path FROM delivery.sent_feedback").fetchall()
    con.close()
    assert len(ledger) == 2 * len(AGENTS) and all(Path(row[3]).exists() for row in ledger)


def test_a_failed_send_is_reported_not_recorded_and_retried(inbox, warehouse, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    handler.reject = {"olga.k@contactqa.local"}
    first = send_feedback(warehouse, settings, period="2026-11")
    assert [(f.agent_id, f.period) for f in first.failed] == [("A004", "2026-11")]
    assert "554" in first.failed[0].reason
    assert first.sent == len(AGENTS) - 1
    assert not (tmp_path / "outbox" / "2026-11" / "A004.eml").exists()

    handler.reject = set()
    second = send_feedback(warehouse, settings, period="2026-11")
    assert second.sent == 1 and second.skipped_already_sent == len(AGENTS) - 1 and second.failed == []
    assert len(handler.for_agent("olga.k@contactqa.local")) == 1


def test_unreachable_server_fails_every_agent_without_crashing(warehouse, tmp_path):
    summary = send_feedback(warehouse, _settings(tmp_path, _free_port()), period="2026-11")
    assert summary.sent == 0 and len(summary.failed) == len(AGENTS)
    assert "Connection refused" in summary.failed[0].reason or "Errno" in summary.failed[0].reason


def test_outbox_only_writes_eml_files_and_sends_nothing(inbox, warehouse, tmp_path):
    handler, _ = inbox
    summary = send_feedback(warehouse, _settings(tmp_path, None), period="2026-11")
    assert summary.sent == 0 and summary.written == len(AGENTS) and not summary.failed
    assert handler.envelopes == []
    files = sorted((tmp_path / "outbox" / "2026-11").glob("*.eml"))
    assert [f.stem for f in files] == [a[0] for a in AGENTS]
    for path, agent in zip(files, AGENTS):
        with path.open("rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        assert msg["To"].addresses[0].addr_spec == agent[2]
        assert msg["Cc"] == agent[4]
        assert msg["From"].addresses[0].addr_spec == "qa@contactqa.local"
        assert msg["Date"] and msg["Message-ID"]
        assert msg.get_body(("plain",)).get_content_type() == "text/plain"
        assert "<html" not in msg.get_body(("plain",)).get_content()  # a real text alternative
        assert msg.get_body(("html",)).get_content().lstrip().startswith("<!DOCTYPE html>")
        assert "ноябрь 2026" in msg["Subject"] or "November 2026" in msg["Subject"]
        assert path.read_bytes().isascii()  # headers and bodies are transfer-encoded (RFC 5322)
    again = send_feedback(warehouse, _settings(tmp_path, None), period="2026-11")
    assert again.written == 0 and again.skipped_already_sent == len(AGENTS)


def test_without_cc_and_dry_run(inbox, warehouse, tmp_path):
    handler, port = inbox
    settings = _settings(tmp_path, port)
    settings.cc_supervisor = False
    dry = send_feedback(warehouse, settings, period="2026-11", dry_run=True)
    assert dry.planned == len(AGENTS) and dry.sent == 0 and handler.envelopes == []
    assert not (tmp_path / "outbox").exists()
    send_feedback(warehouse, settings, period="2026-11")
    assert all(rcpts == [m["To"].addresses[0].addr_spec] for rcpts, m in handler.envelopes)
    assert all(m["Cc"] is None for _, m in handler.envelopes)
