"""Email delivery when the network or the server does not cooperate (issue 8, "Email delivery").

Real SMTP servers on 127.0.0.1 (aiosmtpd: STARTTLS with certificates made here, AUTH, refusals,
dropped connections, a DATA reply held while the sending process is killed) and a TCP listener
that never answers; real DuckDB (the pipeline-built centre, copied per test); no mocks.
Timeouts and retry delays are short so the whole file runs in seconds once the centre is built.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from contactqa.config import ConfigError, load_project, write_project_file
from contactqa.delivery import DeliverySettings, send_feedback
from processes import kill_if_alive

CLOSED = date(2026, 12, 10)  # September, October and November 2026 are all closed by then
FAST = {"smtp_timeout_s": 2.0, "smtp_retry_delays_s": (0.05, 0.05, 0.05)}
REPO = Path(__file__).resolve().parents[2]


# --- the servers ---------------------------------------------------------------------------------

class Mailroom:
    """An SMTP server's handler: stores what it accepts, and can refuse, defer, drop or hold."""

    def __init__(self) -> None:
        self.stored: list[tuple[list[str], email.message.EmailMessage]] = []
        self.refuse: dict[str, str] = {}  # address -> the reply every RCPT TO it gets
        self.replies: dict[str, list[str]] = {}  # address -> replies its next RCPTs get, in turn
        self.drop_after_storing = 0  # the next n messages: stored, then the connection drops before the reply
        self.hold: threading.Event | None = None  # the reply to DATA waits for it (the message is stored)
        self.holding = threading.Event()  # set once a DATA is waiting
        self.logins: list[tuple[str, str, str]] = []  # (mechanism, user, password) AUTH received

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        if self.replies.get(address):
            return self.replies[address].pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.stored.append((list(envelope.rcpt_tos), msg))  # committed before the reply, as real servers do
        if self.hold is not None:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait)
        if self.drop_after_storing:
            self.drop_after_storing -= 1
            server.transport.abort()  # stored, but the client never hears so
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((mechanism, auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    def copies(self, address: str) -> list[email.message.EmailMessage]:
        """The messages delivered to this envelope recipient."""
        return [msg for rcpts, msg in self.stored if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_server():
    """start_server(mailroom, **aiosmtpd SMTP options) -> port; every server stops after the test."""
    started: list[tuple[Controller, Mailroom]] = []

    def start(mailroom: Mailroom, **options) -> int:
        controller = Controller(mailroom, hostname="127.0.0.1", port=_free_port(), **options)
        controller.start()
        started.append((controller, mailroom))
        return controller.port

    yield start
    for controller, mailroom in started:
        if mailroom.hold is not None:
            mailroom.hold.set()
        controller.stop()


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never says a word; yields (port, connections accepted)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    done.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


# --- certificates ------------------------------------------------------------------------------------

def _certificate(common_name: str, folder: Path, *, issuer: tuple | None = None, ca: bool = False) -> tuple:
    """A certificate for `common_name` (also its DNS name), signed by `issuer` (key, cert) or by itself;
    written as <name>.pem and <name>.key. Returns (key, cert, cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    signer_key, signer = issuer or (key, None)
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(signer.subject if signer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
    cert = builder.sign(signer_key, hashes.SHA256())
    cert_path, key_path = folder / f"{common_name}.pem", folder / f"{common_name}.key"
    folder.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return key, cert, cert_path, key_path


def _server_tls(cert_path: Path, key_path: Path):
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


# --- the centre and the ledger ---------------------------------------------------------------------

@pytest.fixture
def warehouse(pipeline_centre, tmp_path) -> Path:
    return pipeline_centre.copy_to(tmp_path / "warehouse")


@pytest.fixture
def agents(pipeline_centre) -> list[dict]:
    return pipeline_centre.agents()


def _settings(tmp_path: Path, port: int | None, **changes) -> DeliverySettings:
    values = {"outbox_dir": tmp_path / "outbox", "smtp_host": "127.0.0.1" if port else None,
              "smtp_port": port or 587, "smtp_starttls": False, **FAST, **changes}
    return DeliverySettings(**values)


def _copies_in_ledger(warehouse: Path) -> dict[tuple[str, str], tuple]:
    """(agent_id, recipient) -> (revision, status, attempts, smtp_code, smtp_response) for November."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("""SELECT agent_id, recipient, revision, status, attempts, smtp_code, smtp_response
                              FROM delivery.feedback_recipients WHERE period = '2026-11'""").fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def _team_of(agents: list[dict], supervisor: str) -> list[dict]:
    return [a for a in agents if a["supervisor_email"] == supervisor]


# --- 1. TLS: the chain, the host name, and no password in clear text ------------------------------------

@pytest.mark.parametrize("problem", ["untrusted", "wrong name"])
def test_starttls_refuses_a_certificate_it_cannot_verify_and_never_sends_the_password(
        problem, start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    _, _, cert, key = _certificate("other.example", tmp_path / "certs")  # self-signed, for another host
    port = start_server(mailroom, tls_context=_server_tls(cert, key), require_starttls=True,
                        authenticator=mailroom.authenticate)
    # "untrusted": nothing vouches for it. "wrong name": trusted (given as the CA file), but not for localhost.
    settings = _settings(tmp_path, port, smtp_host="localhost", smtp_starttls=True, smtp_user="qa-bot@bank.kz",
                         smtp_password="s3cret", smtp_ca_file=cert if problem == "wrong name" else None)
    started = time.monotonic()
    summary = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)

    assert mailroom.logins == [] and mailroom.stored == []  # the password never left
    assert summary.sent == 0 and len(summary.failed) == len(agents) and not summary.ok
    reason = summary.failed[0].reason
    said = "self-signed certificate" if problem == "untrusted" else "Hostname mismatch"
    assert f"the TLS certificate of localhost:{port} could not be verified: {said}" in reason, reason
    assert "smtp.ca_file" in reason
    assert "stopped sending" in summary.stopped  # no point trying the same certificate for every agent
    assert time.monotonic() - started < 10
    # nothing reached anyone: every copy stays pending for the next run, and the outbox holds nothing sent
    assert {status for _, status, *_ in _copies_in_ledger(warehouse).values()} == {"pending"}
    assert list((tmp_path / "outbox").rglob("*.eml")) == []


def test_starttls_with_the_private_ca_from_routing_and_the_right_name_goes_through(
        start_server, warehouse, agents, tmp_path, monkeypatch):
    mailroom = Mailroom()
    certs = tmp_path / "project" / "certs"
    ca_key, ca_cert, ca_path, _ = _certificate("Bank Private CA", certs, ca=True)
    _, _, cert, key = _certificate("localhost", certs, issuer=(ca_key, ca_cert))
    port = start_server(mailroom, tls_context=_server_tls(cert, key), require_starttls=True,
                        authenticator=mailroom.authenticate)
    (tmp_path / "project" / "routing.yml").write_text(
        f"smtp:\n  host: localhost\n  port: {port}\n  user: qa-bot@bank.kz\n  starttls: true\n"
        f"  ca_file: certs/{ca_path.name}\n", encoding="utf-8")
    write_project_file(tmp_path / "project" / "contactqa.yml",
                       {"warehouse": str(warehouse), "output_dir": str(tmp_path / "output"), "routing": "routing.yml"})
    monkeypatch.setenv("CONTACTQA_SMTP_PASSWORD", "s3cret")
    settings = load_project(tmp_path / "project" / "contactqa.yml").delivery_settings()
    assert settings.smtp_ca_file == ca_path  # relative to the project file

    summary = send_feedback(warehouse, dataclasses.replace(settings, **FAST), period="2026-11", as_of=CLOSED)
    assert summary.failed == [] and summary.sent == len(agents)
    assert [(user, password) for _, user, password in mailroom.logins] == [("qa-bot@bank.kz", "s3cret")]
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)


def test_implicit_tls_is_verified_the_same_way(start_server, warehouse, agents, tmp_path):
    certs = tmp_path / "certs"
    ca_key, ca_cert, ca_path, _ = _certificate("Bank Private CA", certs, ca=True)
    _, _, good_cert, good_key = _certificate("localhost", certs, issuer=(ca_key, ca_cert))
    _, _, bad_cert, bad_key = _certificate("other.example", certs, issuer=(ca_key, ca_cert))
    impostor, genuine = Mailroom(), Mailroom()
    # aiosmtpd does not count a TLS-wrapped listener as TLS for AUTH: it is one here, so allow AUTH
    bad_port = start_server(impostor, ssl_context=_server_tls(bad_cert, bad_key), authenticator=impostor.authenticate,
                            auth_require_tls=False)
    good_port = start_server(genuine, ssl_context=_server_tls(good_cert, good_key), authenticator=genuine.authenticate,
                             auth_require_tls=False)
    tls = {"smtp_host": "localhost", "smtp_ssl": True, "smtp_user": "qa-bot@bank.kz", "smtp_password": "s3cret",
           "smtp_ca_file": ca_path}

    refused = send_feedback(warehouse, _settings(tmp_path, bad_port, **tls), period="2026-11", as_of=CLOSED)
    assert f"the TLS certificate of localhost:{bad_port} could not be verified: Hostname mismatch" in (
        refused.failed[0].reason)
    assert impostor.logins == [] and impostor.stored == [] and refused.sent == 0

    sent = send_feedback(warehouse, _settings(tmp_path, good_port, **tls), period="2026-11", as_of=CLOSED)
    assert sent.ok and sent.sent == len(agents) and len(genuine.logins) == 1


def test_a_password_is_never_sent_without_tls_unless_that_is_allowed(start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    port = start_server(mailroom, authenticator=mailroom.authenticate, auth_require_tls=False)
    plain = _settings(tmp_path, port, smtp_user="qa-bot@bank.kz", smtp_password="s3cret")
    with pytest.raises(ValueError, match="without TLS, sending the password in clear text"):
        send_feedback(warehouse, plain, period="2026-11", as_of=CLOSED)
    assert mailroom.logins == []

    (tmp_path / "routing.yml").write_text(f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  user: qa-bot@bank.kz\n"
                                          "  starttls: false\n", encoding="utf-8")
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": str(warehouse), "routing": "routing.yml"})
    with pytest.raises(ConfigError, match="allow_plaintext_login: true"):
        load_project(tmp_path / "contactqa.yml").delivery_settings()

    allowed = dataclasses.replace(plain, smtp_allow_plaintext_login=True)
    summary = send_feedback(warehouse, allowed, period="2026-11", as_of=CLOSED)
    assert summary.failed == [] and summary.sent == len(agents)
    assert [(user, password) for _, user, password in mailroom.logins] == [("qa-bot@bank.kz", "s3cret")]


# --- 2 and 6. Each recipient's copy: refused for good, deferred, retried ------------------------------

def test_a_recipient_refused_for_good_is_reported_in_the_servers_words_and_waits_for_retry_failed(
        start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    port = start_server(mailroom)
    settings = _settings(tmp_path, port)
    supervisor = agents[0]["supervisor_email"]
    team = _team_of(agents, supervisor)
    mailroom.refuse[supervisor] = "550 5.1.1 <%s>: Recipient address rejected: User unknown" % supervisor

    first = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert not first.ok and first.sent == len(agents)  # the agents themselves all got theirs
    assert sorted(f.agent_id for f in first.failed) == sorted(a["agent_id"] for a in team)
    reason = first.failed[0].reason
    assert f"127.0.0.1:{port} refused {supervisor}: 550 5.1.1 <{supervisor}>: Recipient address rejected" in reason
    assert "permanent: not retried until --retry-failed" in reason and "r1 delivered to " in reason
    assert mailroom.copies(supervisor) == [] and all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    ledger = _copies_in_ledger(warehouse)
    for agent in team:
        revision, status, attempts, code, said = ledger[(agent["agent_id"], supervisor)]
        assert (status, attempts, code) == ("refused", 1, 550) and "User unknown" in said
        assert ledger[(agent["agent_id"], agent["email"])][1] == "sent"

    del mailroom.refuse[supervisor]  # the address is fixed on the server's side
    second = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert second.ok and second.sent == 0 and mailroom.copies(supervisor) == []
    assert len(second.warnings) == len(team) and all("--retry-failed" in w for w in second.warnings)

    third = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED, retry_failed=True)
    assert third.ok and third.sent == third.resent == len(team)
    assert len(mailroom.copies(supervisor)) == len(team)
    assert all(rcpts == [supervisor] for rcpts, _ in mailroom.stored[len(agents):])  # the supervisor only
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    first_copy = next(m for rcpts, m in mailroom.stored if team[0]["email"] in rcpts)
    late_copy = next(m for rcpts, m in mailroom.stored if rcpts == [supervisor] and m["To"] == first_copy["To"])
    assert late_copy.as_bytes() == first_copy.as_bytes()  # exactly what the agent got
    assert {status for _, status, *_ in _copies_in_ledger(warehouse).values()} == {"sent"}


def test_a_temporary_refusal_is_tried_again_within_the_run_for_that_recipient_only(
        start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    port = start_server(mailroom)
    supervisor = agents[0]["supervisor_email"]
    mailroom.replies[supervisor] = ["451 4.7.1 Greylisted, try again later"] * 2

    summary = send_feedback(warehouse, _settings(tmp_path, port), period="2026-11", as_of=CLOSED)
    assert summary.ok and summary.sent == len(agents)
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    assert len(mailroom.copies(supervisor)) == len(_team_of(agents, supervisor))
    first = _team_of(agents, supervisor)[0]
    assert [rcpts for rcpts, m in mailroom.stored if m["To"].addresses[0].addr_spec == first["email"]] == [
        [first["email"]], [supervisor]]  # the agent's copy at once, the supervisor's on the third try
    assert _copies_in_ledger(warehouse)[(first["agent_id"], supervisor)][1:3] == ("sent", 3)


def test_a_temporary_refusal_that_lasts_is_left_for_the_next_run_for_that_recipient_only(
        start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    port = start_server(mailroom)
    settings = _settings(tmp_path, port)
    supervisor = agents[0]["supervisor_email"]
    team = _team_of(agents, supervisor)
    mailroom.refuse[supervisor] = "452 4.2.2 Mailbox full"

    first = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert not first.ok and sorted(f.agent_id for f in first.failed) == sorted(a["agent_id"] for a in team)
    assert "452 4.2.2 Mailbox full" in first.failed[0].reason and "the next run tries again" in first.failed[0].reason
    ledger = _copies_in_ledger(warehouse)
    # four tries (three retries) for the first message; the next one to the same mailbox is not kept waiting
    assert [ledger[(a["agent_id"], supervisor)][1:4] for a in team] == [("pending", 4, 452), ("pending", 1, 452)]

    del mailroom.refuse[supervisor]
    second = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert second.ok and second.resent == len(team) and second.first_sends == 0
    assert len(mailroom.copies(supervisor)) == len(team)
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    assert all(rcpts == [supervisor] for rcpts, _ in mailroom.stored[len(agents):])


# --- 3. At most once: a dropped connection, a killed run -----------------------------------------------

def test_a_connection_dropped_after_the_server_stored_the_message_is_uncertain_and_not_sent_twice(
        start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    port = start_server(mailroom)
    settings = _settings(tmp_path, port)
    mailroom.drop_after_storing = 1
    first_agent = agents[0]

    dropped = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert len(mailroom.copies(first_agent["email"])) == 1  # yagmail's own retry made this two
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    assert not dropped.ok and dropped.failed == [] and dropped.sent == len(agents) - 1
    (line,) = dropped.uncertain
    assert line.startswith(f"{first_agent['agent_id']} 2026-11 r1 to {first_agent['email']}")
    assert f"the connection to 127.0.0.1:{port} ended after the message was handed over" in line
    assert "--resend-uncertain" in line
    assert _copies_in_ledger(warehouse)[(first_agent["agent_id"], first_agent["email"])][1] == "uncertain"

    again = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert again.ok and again.sent == 0 and len(mailroom.copies(first_agent["email"])) == 1
    assert any("still uncertain" in w and first_agent["agent_id"] in w for w in again.warnings)

    resent = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED, resend_uncertain=True)
    assert resent.ok and resent.resent == 1 and len(mailroom.copies(first_agent["email"])) == 2
    assert _copies_in_ledger(warehouse)[(first_agent["agent_id"], first_agent["email"])][1] == "sent"


SENDER = """
import sys
from datetime import date
from pathlib import Path

from contactqa.delivery import DeliverySettings, send_feedback

warehouse, outbox, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = DeliverySettings(outbox_dir=Path(outbox), smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
send_feedback(Path(warehouse), settings, period="2026-11", as_of=date(2026, 12, 10))
"""


def test_a_run_killed_while_the_server_holds_the_message_leaves_it_uncertain_not_resent(
        start_server, warehouse, agents, tmp_path):
    mailroom = Mailroom()
    mailroom.hold = threading.Event()
    port = start_server(mailroom)
    sender = subprocess.Popen([sys.executable, "-c", SENDER, str(warehouse), str(tmp_path / "outbox"), str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert mailroom.holding.wait(90), sender.stderr.read().decode() if sender.poll() is not None else "no DATA"
        os.kill(sender.pid, signal.SIGKILL)  # the message is with the server; its reply never comes
        assert sender.wait(30) == -signal.SIGKILL
    finally:
        kill_if_alive(sender.pid)
    mailroom.hold.set()
    first_agent = agents[0]
    assert len(mailroom.stored) == 1 and len(mailroom.copies(first_agent["email"])) == 1
    assert {status for _, status, *_ in _copies_in_ledger(warehouse).values()} == {"sending"}

    settings = _settings(tmp_path, port)
    after = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    (line,) = after.uncertain
    assert line.startswith(f"{first_agent['agent_id']} 2026-11 r1 to ") and "killed or crashed" in line
    assert not after.ok and after.failed == [] and after.sent == len(agents) - 1  # the others go out as usual
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    assert _copies_in_ledger(warehouse)[(first_agent["agent_id"], first_agent["email"])][1] == "uncertain"

    later = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)
    assert later.ok and later.sent == 0 and len(mailroom.copies(first_agent["email"])) == 1

    resent = send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED, resend_uncertain=True)
    assert resent.ok and resent.resent == 1 and len(mailroom.copies(first_agent["email"])) == 2


# --- 4. Written to the outbox is not sent -----------------------------------------------------------

def test_emails_only_written_to_the_outbox_are_sent_once_smtp_is_configured(start_server, warehouse, agents,
                                                                               tmp_path):
    outbox_only = send_feedback(warehouse, _settings(tmp_path, None), as_of=CLOSED)
    assert outbox_only.written == outbox_only.outbox_only == len(agents) and outbox_only.sent == 0
    assert f"{len(agents)} written to the outbox only (not sent: no SMTP server configured)" in str(outbox_only)
    assert any("NOT sent" in notice for notice in outbox_only.notices)
    send_feedback(warehouse, _settings(tmp_path, None), period="2026-10", as_of=CLOSED)  # October, by name
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT DISTINCT status FROM delivery.feedback_recipients").fetchall() == [("written",)]

    mailroom = Mailroom()
    settings = _settings(tmp_path, start_server(mailroom))
    sent = send_feedback(warehouse, settings, as_of=CLOSED)
    # November (within the lookback) goes out now; October, only ever written, waits like any period never sent
    assert sent.ok and sent.sent == sent.first_sends == len(agents) and sent.outbox_only == 0
    assert sent.beyond_lookback == ["2026-09", "2026-10"]
    assert {m["X-ContactQA-Period"] for _, m in mailroom.stored} == {"2026-11"}
    assert all(len(mailroom.copies(a["email"])) == 1 for a in agents)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("""SELECT DISTINCT f.transport, r.status FROM delivery.sent_feedback f
                              JOIN delivery.feedback_recipients r USING (agent_id, period, revision)
                              WHERE period = '2026-11'""").fetchall() == [("smtp", "sent")]

    again = send_feedback(warehouse, settings, as_of=CLOSED)
    assert again.sent == 0 and again.skipped_already_sent == len(agents) and len(mailroom.stored) == len(agents)


# --- 5. A server that never answers, or refuses the connection ----------------------------------------------

def test_a_server_that_never_answers_costs_two_timeouts_not_one_per_agent(silent_listener, start_server,
                                                                          warehouse, agents, tmp_path):
    port, connections = silent_listener
    started = time.monotonic()
    summary = send_feedback(warehouse, _settings(tmp_path, port, smtp_timeout_s=0.3), period="2026-11",
                            as_of=CLOSED)
    took = time.monotonic() - started

    assert took < 3, took  # before: the full timeout for every agent, and yagmail's retries on top
    assert len(connections) == 2  # then the run stops trying the server
    assert summary.sent == 0 and len(summary.failed) == len(agents) and not summary.ok
    assert f"no answer from 127.0.0.1:{port} within 0.3 s" in summary.failed[0].reason
    assert all(f"127.0.0.1:{port}" in f.reason for f in summary.failed)
    assert f"2 connection failures in a row to 127.0.0.1:{port}" in summary.stopped
    assert "not attempted" in summary.failed[-1].reason

    # everything is still owed: the next run, with the server back, sends each message once
    mailroom = Mailroom()
    back = send_feedback(warehouse, _settings(tmp_path, start_server(mailroom)), period="2026-11", as_of=CLOSED)
    assert back.ok and back.sent == len(agents) and all(len(mailroom.copies(a["email"])) == 1 for a in agents)


def test_a_refused_connection_names_host_and_port_and_stops_the_run(warehouse, agents, tmp_path):
    port = _free_port()
    started = time.monotonic()
    summary = send_feedback(warehouse, _settings(tmp_path, port), period="2026-11", as_of=CLOSED)
    assert time.monotonic() - started < 3
    assert f"could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused" in summary.failed[0].reason
    assert len(summary.failed) == len(agents) and "stopped sending after 2 connection failures" in summary.stopped


# --- 6. Dry run ------------------------------------------------------------------------------------------

def test_dry_run_sends_writes_and_records_nothing_and_says_what_would_go_out(start_server, warehouse, agents,
                                                                           tmp_path):
    mailroom = Mailroom()
    settings = _settings(tmp_path, start_server(mailroom))
    supervisor = agents[0]["supervisor_email"]
    mailroom.refuse[supervisor] = "451 4.3.0 Try later"
    send_feedback(warehouse, settings, period="2026-11", as_of=CLOSED)  # leaves the supervisor's copies owed
    del mailroom.refuse[supervisor]
    before_files = sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "outbox").rglob("*"))
    before_ledger = _copies_in_ledger(warehouse)
    stored = len(mailroom.stored)

    dry = send_feedback(warehouse, settings, as_of=CLOSED, dry_run=True)
    assert len(mailroom.stored) == stored and _copies_in_ledger(warehouse) == before_ledger
    assert sorted((p, p.stat().st_mtime_ns) for p in (tmp_path / "outbox").rglob("*")) == before_files
    team = _team_of(agents, supervisor)
    assert dry.planned == len(team) and sorted(dry.would_send) == sorted(
        f"{a['agent_id']} 2026-11 r1 to {supervisor} (held over from an earlier run)" for a in team)
    assert "would send" in str(dry)

    fresh = send_feedback(warehouse, settings, period="2026-10", as_of=CLOSED, dry_run=True)
    assert sorted(fresh.would_send) == sorted(
        f"{a['agent_id']} 2026-10 r1 to {a['email']}, {a['supervisor_email']}" for a in agents)
    assert len(mailroom.stored) == stored


# --- the command ------------------------------------------------------------------------------------------

def test_send_feedback_command_offers_retry_failed_and_resend_uncertain():
    from contactqa.cli import app

    result = CliRunner().invoke(app, ["send-feedback", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--retry-failed" in result.output and "--resend-uncertain" in result.output and "--dry-run" in result.output


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_send_feedback_command_exits_1_on_a_refusal_and_retry_failed_sends_it(prefect_harness, start_server,
                                                                              warehouse, agents, tmp_path):
    from contactqa.cli import app

    mailroom = Mailroom()
    port = start_server(mailroom)
    supervisor = agents[0]["supervisor_email"]
    mailroom.refuse[supervisor] = "550 5.7.1 Relaying denied"
    (tmp_path / "routing.yml").write_text(f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  starttls: false\n",
                                          encoding="utf-8")
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": str(warehouse), "output_dir": str(tmp_path / "out"),
                                                    "routing": "routing.yml"})
    command = ["send-feedback", "--config", str(tmp_path / "contactqa.yml"), "--period", "2026-11",
               "--as-of", CLOSED.isoformat()]
    runner = CliRunner()
    env = {"COLUMNS": "400"}

    dry = runner.invoke(app, [*command, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert (f"would send {agents[0]['agent_id']} 2026-11 r1 to {agents[0]['email']}, {supervisor}"
            in " ".join(dry.output.split()))
    assert mailroom.stored == []

    refused = runner.invoke(app, command, env=env)
    assert refused.exit_code == 1, refused.output
    assert "550 5.7.1 Relaying denied" in " ".join(refused.output.split())

    held = runner.invoke(app, command, env=env)
    assert held.exit_code == 0, held.output
    assert "--retry-failed" in " ".join(held.output.split()) and mailroom.copies(supervisor) == []

    del mailroom.refuse[supervisor]
    retried = runner.invoke(app, [*command, "--retry-failed"], env=env)
    assert retried.exit_code == 0, retried.output
    assert len(mailroom.copies(supervisor)) == len(_team_of(agents, supervisor))
