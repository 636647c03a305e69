"""Per-agent feedback emails: one per agent per period, in the agent's language, sent once.

Each message holds only that agent's contacts. It is built with yagmail, written to
`outbox/<period>/<agent_id>.eml`, sent over SMTP when a server is configured, and
recorded in the send ledger (`delivery.sent_feedback`) only once it was delivered,
so a failed send is retried by the next run and a delivered one is never repeated.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.header import Header
from email.message import Message
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

import yagmail

from contactqa.delivery.ledger import already_sent, ensure_ledger, record_sent
from contactqa.reporting.data import Marts, check_identifier, require_marts, rows
from contactqa.reporting.templates import get_template, normalize_language
from contactqa.warehouse import connect

HTML_TEMPLATE = "feedback_email.html.j2"
TEXT_TEMPLATE = "feedback_email.txt.j2"
SUBJECT_TEMPLATE = "feedback_email.subject.j2"
FINDINGS_PER_EMAIL = 20
FOCUS_CRITERIA = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class DeliverySettings:
    outbox_dir: Path  # .eml files are always written here (a record of what was sent)
    sender: str = "qa@contactqa.local"
    smtp_host: str | None = None  # None -> outbox only, nothing sent over the network
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None  # read by the caller from an environment variable, never from a file
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    cc_supervisor: bool = True
    default_language: str = "en"
    sender_name: str = "Quality monitoring"
    templates_dir: Path | None = None  # a centre's own templates, searched before reports/
    smtp_timeout_s: float = 30.0


@dataclass
class FailedDelivery:
    agent_id: str
    period: str
    reason: str


@dataclass
class FeedbackSummary:
    outbox_dir: Path
    written: int = 0  # .eml files written to the outbox (delivered or, without SMTP, the delivery itself)
    sent: int = 0  # accepted by the SMTP server
    skipped_already_sent: int = 0  # in the ledger from an earlier run
    failed: list[FailedDelivery] = field(default_factory=list)
    planned: int = 0  # dry run: messages that would go out
    warnings: list[str] = field(default_factory=list)
    eml_paths: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        text = (f"feedback: {self.written} written to {self.outbox_dir}, {self.sent} sent, "
                f"{self.skipped_already_sent} already sent earlier, {len(self.failed)} failed")
        if self.planned:
            text += f", {self.planned} planned (dry run)"
        for failure in self.failed:
            text += f"\n  FAILED {failure.agent_id} {failure.period}: {failure.reason}"
        for warning in self.warnings:
            text += f"\n  warning: {warning}"
        return text


@dataclass
class BuiltMessage:
    agent_id: str
    period: str
    message_id: str
    recipients: list[str]
    data: bytes  # the RFC 5322 message


def send_feedback(
    warehouse_path: Path,
    settings: DeliverySettings,
    *,
    period: str | None = None,
    marts_schema: str = "marts",
    dry_run: bool = False,
) -> FeedbackSummary:
    """Write (and with SMTP configured, send) each agent's feedback for `period` (None: every period).

    Agents already in the send ledger for that period are skipped. A failed send is reported
    in the summary and not recorded, so the next run retries it; the other agents still go out.
    `dry_run` builds every message (so template errors show) but writes, sends and records nothing.
    """
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.exists():
        raise FileNotFoundError(f"warehouse not found: {warehouse_path}")
    check_identifier(marts_schema)
    outbox = Path(settings.outbox_dir)
    summary = FeedbackSummary(outbox_dir=outbox)
    mailer = _Mailer(settings)
    # The connection stays open for the whole run: DuckDB's file lock then keeps a second
    # run from sending the same emails at the same time.
    with connect(warehouse_path, read_only=dry_run) as con:
        require_marts(con, warehouse_path, marts_schema)
        if not dry_run:
            ensure_ledger(con)
        sent_before = set() if dry_run else already_sent(con, period)
        agents = rows(con, f"""
            SELECT * FROM {marts_schema}.fct_agent_scores
            WHERE (CAST(? AS VARCHAR) IS NULL OR period = ?) ORDER BY period, agent_id""", [period, period])
        if not agents:
            summary.warnings.append(f"no agent scores for period {period or '(any)'} in {marts_schema}.fct_agent_scores")
        for agent in agents:
            key = (agent["agent_id"], agent["period"])
            if key in sent_before:
                summary.skipped_already_sent += 1
                continue
            try:
                message = build_feedback_message(con, marts_schema, agent, settings, mailer)
            except Exception as exc:  # one agent's bad data must not stop the others
                summary.failed.append(FailedDelivery(*key, f"could not build the message: {exc}"))
                continue
            if dry_run:
                summary.planned += 1
                continue
            _deliver(con, message, settings, mailer, summary)
    mailer.close()
    return summary


def _deliver(con: Any, message: BuiltMessage, settings: DeliverySettings, mailer: "_Mailer",
             summary: FeedbackSummary) -> None:
    folder = Path(settings.outbox_dir) / _SAFE_NAME.sub("_", message.period)
    folder.mkdir(parents=True, exist_ok=True)
    eml_path = folder / f"{_SAFE_NAME.sub('_', message.agent_id)}.eml"
    pending = eml_path.with_suffix(".eml.sending")
    pending.write_bytes(message.data)
    transport = "outbox"
    if settings.smtp_host:
        transport = "smtp"
        try:
            refused = mailer.send(message)
        except Exception as exc:
            pending.unlink(missing_ok=True)
            summary.failed.append(FailedDelivery(message.agent_id, message.period, _describe(exc)))
            return
        summary.sent += 1
        if refused:
            summary.warnings.append(
                f"{message.agent_id} {message.period}: the server refused {', '.join(sorted(refused))}; "
                "the others received it, so it is recorded as sent")
    pending.replace(eml_path)
    summary.written += 1
    summary.eml_paths.append(eml_path)
    record_sent(con, agent_id=message.agent_id, period=message.period, message_id=message.message_id,
                recipients=message.recipients, eml_path=str(eml_path), transport=transport)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if exc.__class__.__name__ not in text else text


def feedback_context(con: Any, marts_schema: str, agent: dict[str, Any], language: str) -> dict[str, Any]:
    """Everything the feedback templates show, for ONE agent and ONE period."""
    marts = Marts(con, marts_schema, agent["period"], language)
    team = agent.get("team") or "—"
    team_avg = marts.team_averages().get((agent["period"], team), {})
    findings = marts.findings(agent_id=agent["agent_id"])
    focus: dict[str, dict[str, Any]] = {}
    for f in findings:
        entry = focus.setdefault(f["criterion_id"], {
            "criterion_id": f["criterion_id"], "title": f["criterion_title"], "count": 0,
            "regulation_ref": f["regulation_ref"], "is_critical": f["is_critical"] or f["severity"] == "critical",
            "error_code": f["error_code"], "error_title": f["error_title"],
            "clause_title": f["clause_title"], "clause_text": f["clause_text"]})
        entry["count"] += 1
    focus_list = sorted(focus.values(), key=lambda e: (not e["is_critical"], -e["count"], e["criterion_id"]))
    return {
        "agent": agent,
        "first_name": (agent.get("full_name") or "").split(" ")[0] or agent["agent_id"],
        "period": agent["period"],
        "team": team,
        "team_average": team_avg.get("score_pct"),
        "comparison": _comparison(agent, team_avg.get("score_pct")),
        "contacts": marts.agent_contacts(agent["agent_id"]),
        "findings": findings[:FINDINGS_PER_EMAIL],
        "findings_total": len(findings),
        "focus": focus_list[:FOCUS_CRITERIA],
    }


def _comparison(agent: dict[str, Any], team_avg: float | None) -> str:
    """above / below the team only when the agent's whole confidence interval is; else in_line."""
    score, low, high = agent.get("score_pct"), agent.get("score_ci_low_pct"), agent.get("score_ci_high_pct")
    if score is None or team_avg is None:
        return "unknown"
    low = score if low is None else low
    high = score if high is None else high
    if low > team_avg:
        return "above"
    if high < team_avg:
        return "below"
    return "in_line"


def build_feedback_message(
    con: Any, marts_schema: str, agent: dict[str, Any], settings: DeliverySettings, mailer: "_Mailer",
) -> BuiltMessage:
    if not agent.get("email"):
        raise ValueError(f"agent {agent['agent_id']} has no email address in the directory")
    language = normalize_language(agent.get("locale") or settings.default_language)
    html_template, used = get_template(HTML_TEMPLATE, language, settings.templates_dir)
    text_template, _ = get_template(TEXT_TEMPLATE, used, settings.templates_dir)
    subject_template, _ = get_template(SUBJECT_TEMPLATE, used, settings.templates_dir)
    context = feedback_context(con, marts_schema, agent, used)
    context.update(language=used, sender=settings.sender)
    subject = " ".join(subject_template.render(context).split())
    html = html_template.render(context)
    text = text_template.render(context)

    to = {agent["email"]: formataddr((agent.get("full_name") or "", agent["email"]))}
    cc = None
    supervisor = agent.get("supervisor_email")
    if settings.cc_supervisor and supervisor and supervisor.lower() != agent["email"].lower():
        cc = [supervisor]
    message_id = _message_id(agent["agent_id"], agent["period"], settings.sender)
    recipients, data = mailer.prepare(to=to, cc=cc, subject=subject, html=html, text=text, message_id=message_id,
                                      headers={"X-ContactQA-Agent": agent["agent_id"],
                                               "X-ContactQA-Period": agent["period"],
                                               "Content-Language": used})
    return BuiltMessage(agent["agent_id"], agent["period"], message_id, recipients, data)


def _message_id(agent_id: str, period: str, sender: str) -> str:
    # The same agent and period always get the same Message-ID: if a crash ever made a
    # message go out twice, mail clients and servers show it once.
    domain = sender.rsplit("@", 1)[-1] or "contactqa.local"
    digest = hashlib.sha256(f"{agent_id}\x1f{period}".encode()).hexdigest()[:16]
    return f"<feedback.{_SAFE_NAME.sub('_', period)}.{digest}@{domain}>"


class _Mailer:
    """yagmail, used for building messages always and for SMTP only when a host is set.

    yagmail puts the HTML source into its text/plain alternative; we replace that part with
    the rendered plain-text template (and the HTML part with the full page) before the
    message is written or sent, so what the outbox holds is exactly what was delivered.
    """

    def __init__(self, settings: DeliverySettings):
        self.settings = settings
        if settings.smtp_host and settings.smtp_user and not settings.smtp_password:
            # yagmail would otherwise look in the keyring or prompt on the terminal
            raise ValueError(f"SMTP user {settings.smtp_user!r} is set but no password was given "
                             "(read it from an environment variable into DeliverySettings.smtp_password)")
        login = settings.smtp_user or settings.sender
        self.client = yagmail.SMTP(
            user={login: settings.sender_name},
            password=settings.smtp_password,
            host=settings.smtp_host or "localhost",
            port=settings.smtp_port,
            smtp_starttls=settings.smtp_starttls and not settings.smtp_ssl,
            smtp_ssl=settings.smtp_ssl,
            smtp_skip_login=not settings.smtp_user,
            timeout=settings.smtp_timeout_s,
        )
        self.connected = False

    def prepare(self, *, to: dict[str, str], cc: list[str] | None, subject: str, html: str, text: str,
                message_id: str, headers: dict[str, str]) -> tuple[list[str], bytes]:
        all_headers = {"Date": formatdate(usegmt=True), "Auto-Submitted": "auto-generated", **headers}
        if self.settings.smtp_user and self.settings.smtp_user != self.settings.sender:
            all_headers["Reply-To"] = self.settings.sender
        recipients, raw = self.client.prepare_send(
            to=to, cc=cc, subject=subject, contents=[html], headers=all_headers,
            prettify_html=False, message_id=message_id,
        )
        msg = email.message_from_string(raw)
        # yagmail leaves folding a non-ASCII subject to the compat32 generator, which starts it
        # on a continuation line (clients then show a leading space); encode it explicitly.
        msg.replace_header("Subject", Header(subject, "utf-8", header_name="Subject"))
        _replace_body(msg, "text/plain", text)
        _replace_body(msg, "text/html", html)
        return recipients, msg.as_bytes()

    def send(self, message: BuiltMessage) -> dict[str, Any]:
        """Deliver; returns the recipients the server refused (empty when all accepted)."""
        if not self.connected:
            self.client.login()
            self.connected = True
        try:
            # yagmail's own send path (with its reconnect-and-retry), fed the finished message
            # rather than re-rendered contents, so the .eml and the sent mail are identical.
            result = self.client._attempt_send(message.recipients, message.data.decode("ascii"))
        except Exception:
            self.close()
            raise
        if result is False:
            self.close()
            raise ConnectionError("the SMTP server kept disconnecting; will retry on the next run")
        return result or {}

    def close(self) -> None:
        if self.connected:
            self.client.close()
            self.client.is_closed = None
            self.connected = False


def _replace_body(msg: Message, content_type: str, body: str) -> None:
    for part in msg.walk():
        if part.get_content_type() == content_type and not part.is_multipart():
            del part["Content-Transfer-Encoding"]
            part.set_payload(body, "utf-8")
            return
    raise ValueError(f"yagmail built no {content_type} part")
