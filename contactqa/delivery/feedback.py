"""Per-agent feedback emails: one per agent per CLOSED period, in the agent's language,
and a numbered revision whenever what it said has changed since.

Which periods a run emails: by default only closed ones (a period closes `close_after_days`
after its last local day, see contactqa.periods) — every closed period already in the send
ledger (to catch corrections, whatever its type) and the latest `lookback` closed periods of
each configured type. Open periods are held back and named in the summary with the day they
close. An explicit period goes out even while open, marked PRELIMINARY in the subject, body
and ledger.

Each message holds only that agent's contacts. It is built with yagmail, written to
`outbox/<period>/<agent_id>.eml` (revision n > 1: `<agent_id>.r<n>.eml`), sent over SMTP when a
server is configured, and recorded in the send ledger (`delivery.sent_feedback`) only once it
was delivered, so a failed send is retried by the next run and a delivered one is never repeated.
Whether an agent gets anything is decided by the hash of what the email would say
(contactqa.delivery.revisions): unchanged -> nothing, changed -> revision n+1 saying what changed.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.header import Header
from email.message import Message
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yagmail

from contactqa.delivery.ledger import LedgerEntry, adopt_baseline, ensure_ledger, latest_entries, record_sent
from contactqa.delivery.revisions import build_snapshot, content_hash, describe_changes, snapshot_json
from contactqa.periods import PERIOD_TYPES, Period, PeriodError, parse_period, today
from contactqa.reporting.data import (
    Marts, agent_score_periods, agent_scores_for, check_identifier, period_close_dates, require_marts,
)
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
    timezone: str = "UTC"  # the centre's: "today", and the contact times the email shows
    close_after_days: int = 3  # a period is emailed once this many days have passed after its last day
    feedback_periods: list[str] = field(default_factory=lambda: ["month"])  # week and/or month
    lookback: int = 1  # per period type: how many of the latest closed periods may go out the first time


@dataclass
class FailedDelivery:
    agent_id: str
    period: str
    reason: str


@dataclass(frozen=True)
class HeldBack:
    """An open period a default run did not email."""

    period: str
    period_type: str
    closes_on: date  # the first local day a run will email it


@dataclass
class FeedbackSummary:
    outbox_dir: Path
    as_of: date | None = None  # the local day the run acted as of
    dry_run: bool = False
    written: int = 0  # .eml files written to the outbox (delivered or, without SMTP, the delivery itself)
    sent: int = 0  # accepted by the SMTP server
    first_sends: int = 0  # revision-1 emails delivered (a dry run: that would be)
    revisions: int = 0  # revision 2+ emails delivered (a dry run: that would be)
    revised: list[str] = field(default_factory=list)  # which: 'A001 2026-11 r2'
    skipped_already_sent: int = 0  # the latest revision in the ledger already says exactly this
    baselined: int = 0  # ledger rows from before revisions were tracked, given today's snapshot, not emailed
    held_back: list[HeldBack] = field(default_factory=list)
    preliminary: list[str] = field(default_factory=list)  # open periods emailed because they were asked for
    beyond_lookback: list[str] = field(default_factory=list)  # closed, never sent, older than the lookback
    failed: list[FailedDelivery] = field(default_factory=list)
    planned: int = 0  # dry run: messages that would go out
    warnings: list[str] = field(default_factory=list)
    eml_paths: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        text = (f"feedback: {self.first_sends} first email(s), {self.revisions} revision(s); "
                f"{self.written} written to {self.outbox_dir}, {self.sent} sent, "
                f"{self.skipped_already_sent} unchanged since sent, {len(self.failed)} failed")
        if self.dry_run:
            text += f", {self.planned} planned (dry run: nothing written or sent)"
        if self.revised:
            text += f"\n  revisions: {', '.join(self.revised)}"
        for held in self.held_back:
            text += f"\n  held back: {held.period} is open; it closes on {held.closes_on.isoformat()}"
        for period in self.preliminary:
            text += f"\n  PRELIMINARY: {period} is still open; its emails are marked preliminary"
        if self.beyond_lookback:
            text += f"\n  never sent, older than the lookback: {', '.join(self.beyond_lookback)}"
        for failure in self.failed:
            text += f"\n  FAILED {failure.agent_id} {failure.period}: {failure.reason}"
        for warning in self.warnings:
            text += f"\n  warning: {warning}"
        return text


@dataclass(frozen=True)
class Target:
    """A period this run emails."""

    period: Period
    closes_on: date
    is_preliminary: bool  # still open: only ever emailed because it was asked for by name


@dataclass
class PeriodPlan:
    targets: list[Target]
    held_back: list[HeldBack]
    beyond_lookback: list[str]


@dataclass
class Draft:
    """One agent's email for one period, before it is rendered: what it says and which revision it is."""

    agent: dict[str, Any]
    target: Target
    revision: int
    snapshot: dict[str, Any]
    content_hash: str
    changes: list[dict[str, Any]]  # empty for revision 1
    previous: LedgerEntry | None


@dataclass
class BuiltMessage:
    draft: Draft
    message_id: str
    recipients: list[str]
    data: bytes  # the RFC 5322 message

    @property
    def agent_id(self) -> str:
        return self.draft.agent["agent_id"]

    @property
    def period(self) -> str:
        return self.draft.agent["period"]


def send_feedback(
    warehouse_path: Path,
    settings: DeliverySettings,
    *,
    period: str | None = None,
    as_of: date | None = None,
    marts_schema: str = "marts",
    dry_run: bool = False,
) -> FeedbackSummary:
    """Write (and with SMTP configured, send) each agent's feedback for the periods due.

    `period` None: the closed periods of `settings.feedback_periods` (see the module docstring).
    `period` '2026-11' or '2026-W45': that period only, even while open (then PRELIMINARY).
    `as_of`: act as if the centre's local date were this (re-runs, tests); default: today there.
    A failed send is reported in the summary and not recorded, so the next run retries it; the
    other agents still go out. `dry_run` builds every message (so template errors show) but
    writes, sends and records nothing.
    """
    warehouse_path = Path(warehouse_path)
    if not warehouse_path.exists():
        raise FileNotFoundError(f"warehouse not found: {warehouse_path}")
    check_identifier(marts_schema)
    explicit = parse_period(period) if period else None
    unknown_types = set(settings.feedback_periods) - set(PERIOD_TYPES)
    if unknown_types:
        raise PeriodError(f"feedback_periods: unknown period type(s) {sorted(unknown_types)} (week or month)")
    run_day = today(settings.timezone, as_of)
    summary = FeedbackSummary(outbox_dir=Path(settings.outbox_dir), as_of=run_day, dry_run=dry_run)
    mailer = _Mailer(settings)
    # The connection stays open for the whole run: DuckDB's file lock then keeps a second
    # run from sending the same emails at the same time.
    with connect(warehouse_path, read_only=dry_run) as con:
        require_marts(con, warehouse_path, marts_schema)
        if not dry_run:
            ensure_ledger(con)
        latest = latest_entries(con)
        available = _available_periods(con, marts_schema, settings, summary)
        plan = plan_periods(available, {p for _, p in latest}, settings, run_day, explicit)
        summary.held_back, summary.beyond_lookback = plan.held_back, plan.beyond_lookback
        for target in plan.targets:
            agents = agent_scores_for(con, marts_schema, target.period.key)
            if not agents:
                summary.warnings.append(f"no agent scores for period {target.period.key} "
                                        f"in {marts_schema}.fct_agent_scores")
                continue
            if target.is_preliminary:
                summary.preliminary.append(target.period.key)
            for agent in agents:
                previous = latest.get((agent["agent_id"], target.period.key))
                _feedback_for_agent(con, marts_schema, agent, target, previous, settings, mailer, summary, dry_run)
    mailer.close()
    return summary


def _available_periods(con: Any, marts_schema: str, settings: DeliverySettings,
                       summary: FeedbackSummary) -> list[Period]:
    periods = [parse_period(key) for _, key in agent_score_periods(con, marts_schema)]
    # The marts computed their closing dates when they were built; this run judges by its own
    # as_of and the project's close_after_days, and says so if the two disagree.
    built = period_close_dates(con, marts_schema)
    for found in periods:
        marts_close = built.get(found.key)
        if marts_close is not None and marts_close != found.closes_on(settings.close_after_days):
            summary.warnings.append(
                f"{found.key}: {marts_schema}.dim_periods says it closes on {marts_close}, the project's "
                f"close_after_days={settings.close_after_days} says {found.closes_on(settings.close_after_days)}; "
                "using the project's (rebuild the marts to make them agree)")
    return periods


def plan_periods(available: list[Period], sent_periods: set[str], settings: DeliverySettings, as_of: date,
                 explicit: Period | None = None) -> PeriodPlan:
    """Which periods a run emails, and which open ones it holds back (see the module docstring)."""
    days = settings.close_after_days
    if explicit is not None:
        closed = explicit.is_closed(as_of, days)
        return PeriodPlan([Target(explicit, explicit.closes_on(days), not closed)], [], [])
    # A period an agent already had an email for is followed whatever its type: a week asked for by
    # name must get its revision too when the figures behind it change, or the change would go unsaid.
    wanted = sorted({p for p in available if p.type in settings.feedback_periods or p.key in sent_periods})
    closed = [p for p in wanted if p.is_closed(as_of, days)]
    held_back = sorted((HeldBack(p.key, p.type, p.closes_on(days)) for p in wanted if not p.is_closed(as_of, days)),
                       key=lambda h: (h.closes_on, h.period))  # the one that goes out first, first
    chosen = {p for p in closed if p.key in sent_periods}
    for period_type in settings.feedback_periods:
        chosen.update([p for p in closed if p.type == period_type][-settings.lookback:])
    beyond = [p.key for p in closed if p not in chosen]
    targets = [Target(p, p.closes_on(days), False) for p in sorted(chosen, key=lambda p: (p.starts_on, p.type))]
    return PeriodPlan(targets, held_back, beyond)


def _feedback_for_agent(con: Any, marts_schema: str, agent: dict[str, Any], target: Target,
                        previous: LedgerEntry | None, settings: DeliverySettings, mailer: "_Mailer",
                        summary: FeedbackSummary, dry_run: bool) -> None:
    key = (agent["agent_id"], agent["period"])
    try:
        draft = draft_feedback(con, marts_schema, agent, target, previous)
    except Exception as exc:  # one agent's bad data must not stop the others
        summary.failed.append(FailedDelivery(*key, f"could not read what the email would say: {exc}"))
        return
    if draft is None:
        summary.skipped_already_sent += 1
        return
    if previous is not None and previous.content_hash is None:
        # Sent before revisions were tracked: nothing to compare with (see ledger.adopt_baseline).
        if not dry_run:
            adopt_baseline(con, agent_id=key[0], period=key[1], revision=previous.revision,
                           content_hash=draft.content_hash, snapshot_json=snapshot_json(draft.snapshot))
        summary.baselined += 1
        return
    try:
        message = build_feedback_message(con, marts_schema, draft, settings, mailer)
    except Exception as exc:
        summary.failed.append(FailedDelivery(*key, f"could not build the message: {exc}"))
        return
    if dry_run:
        summary.planned += 1
        _count_revision(summary, draft)
        return
    _deliver(con, message, settings, mailer, summary)


def draft_feedback(con: Any, marts_schema: str, agent: dict[str, Any], target: Target,
                   previous: LedgerEntry | None) -> Draft | None:
    """The next revision of the agent's email for the period, or None when the latest one sent
    already says exactly this."""
    marts = Marts(con, marts_schema, agent["period"], "en", period_type=target.period.type)
    snapshot = build_snapshot(agent, marts.agent_contacts(agent["agent_id"]),
                              marts.agent_criterion_results(agent["agent_id"]))
    digest = content_hash(snapshot)
    if previous is not None and previous.content_hash == digest:
        return None
    revision = previous.revision + 1 if previous else 1
    changes = describe_changes(previous.snapshot, snapshot) if previous else []
    return Draft(agent, target, revision, snapshot, digest, changes, previous)


def _count_revision(summary: FeedbackSummary, draft: Draft) -> None:
    if draft.revision == 1:
        summary.first_sends += 1
    else:
        summary.revisions += 1
        summary.revised.append(f"{draft.agent['agent_id']} {draft.agent['period']} r{draft.revision}")


def _eml_path(outbox: Path, draft: Draft) -> Path:
    folder = outbox / _SAFE_NAME.sub("_", draft.agent["period"])
    suffix = "" if draft.revision == 1 else f".r{draft.revision}"
    return folder / f"{_SAFE_NAME.sub('_', draft.agent['agent_id'])}{suffix}.eml"


def _deliver(con: Any, message: BuiltMessage, settings: DeliverySettings, mailer: "_Mailer",
             summary: FeedbackSummary) -> None:
    draft = message.draft
    eml_path = _eml_path(Path(settings.outbox_dir), draft)
    eml_path.parent.mkdir(parents=True, exist_ok=True)
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
    _count_revision(summary, draft)
    record_sent(con, agent_id=message.agent_id, period=message.period, period_type=draft.target.period.type,
                revision=draft.revision, message_id=message.message_id, recipients=message.recipients,
                eml_path=str(eml_path), transport=transport, is_preliminary=draft.target.is_preliminary,
                content_hash=draft.content_hash, snapshot_json=snapshot_json(draft.snapshot),
                changes_json=json.dumps(draft.changes, ensure_ascii=False) if draft.changes else None)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if exc.__class__.__name__ not in text else text


def feedback_context(con: Any, marts_schema: str, draft: Draft, language: str, tz: str) -> dict[str, Any]:
    """Everything the feedback templates show, for ONE agent and ONE period."""
    agent, period = draft.agent, draft.target.period
    marts = Marts(con, marts_schema, period.key, language, period_type=period.type)
    team = agent.get("team") or "—"
    team_avg = marts.team_averages().get((period.key, team), {})
    contacts = [_with_local_time(c, c["started_at"], tz) for c in marts.agent_contacts(agent["agent_id"])]
    findings = [_with_local_time(f, f.get("contact_started_at"), tz) for f in marts.findings(agent_id=agent["agent_id"])]
    focus: dict[str, dict[str, Any]] = {}
    for f in findings:
        entry = focus.setdefault(f["criterion_id"], {
            "criterion_id": f["criterion_id"], "title": f["criterion_title"], "count": 0,
            "regulation_ref": f["regulation_ref"], "is_critical": f["is_critical"] or f["severity"] == "critical",
            "error_code": f["error_code"], "error_title": f["error_title"],
            "clause_title": f["clause_title"], "clause_text": f["clause_text"]})
        entry["count"] += 1
    focus_list = sorted(focus.values(), key=lambda e: (not e["is_critical"], -e["count"], e["criterion_id"]))
    previous = draft.previous
    return {
        "agent": agent,
        "first_name": (agent.get("full_name") or "").split(" ")[0] or agent["agent_id"],
        "period": period.key,
        "period_type": period.type,
        "is_preliminary": draft.target.is_preliminary,
        "closes_on": draft.target.closes_on,
        "revision": draft.revision,
        "changes": draft.changes,
        "previous_revision": previous.revision if previous else None,
        "previous_sent_at": _local_time(previous.sent_at, tz)[0] if previous else None,
        "previous_was_preliminary": bool(previous and previous.is_preliminary),
        "sample_needs_more": _sample_needs_more(agent),
        "team": team,
        "team_average": team_avg.get("score_pct"),
        "comparison": _comparison(agent, team_avg.get("score_pct")),
        "contacts": contacts,
        "zone": " / ".join(dict.fromkeys(c["zone"] for c in contacts)) or _local_time(None, tz)[1],
        "findings": findings[:FINDINGS_PER_EMAIL],
        "findings_total": len(findings),
        "focus": focus_list[:FOCUS_CRITERIA],
    }


def _sample_needs_more(agent: dict[str, Any]) -> int:
    """How many more human evaluations the sample needs before its score can be relied on (0: none)."""
    if agent.get("is_sample_sufficient"):
        return 0
    needed, done = agent.get("evaluations_needed"), agent.get("sample_evaluations") or 0
    return max(int(needed) - int(done), 0) if needed is not None else 0


def _with_local_time(row: dict[str, Any], utc: datetime | None, tz: str) -> dict[str, Any]:
    row["started_local"], row["zone"] = _local_time(utc, tz)
    return row


def _local_time(utc: datetime | None, tz: str) -> tuple[datetime | None, str]:
    """A stored UTC time in the centre's zone, and how to name the zone: 'Asia/Almaty, UTC+05:00'.

    The offset is the one in force at that moment, so a month that crosses a daylight-saving
    change names both offsets rather than mislabelling half the contacts."""
    zone = ZoneInfo(tz)
    moment = (utc or datetime.now(timezone.utc).replace(tzinfo=None))
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(zone)
    offset = moment.strftime("%z")
    name = "UTC" if tz in ("UTC", "Etc/UTC") else f"{tz}, UTC{offset[:3]}:{offset[3:]}"
    return (moment if utc is not None else None), name


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
    con: Any, marts_schema: str, draft: Draft, settings: DeliverySettings, mailer: "_Mailer",
) -> BuiltMessage:
    agent = draft.agent
    if not agent.get("email"):
        raise ValueError(f"agent {agent['agent_id']} has no email address in the directory")
    language = normalize_language(agent.get("locale") or settings.default_language)
    html_template, used = get_template(HTML_TEMPLATE, language, settings.templates_dir)
    text_template, _ = get_template(TEXT_TEMPLATE, used, settings.templates_dir)
    subject_template, _ = get_template(SUBJECT_TEMPLATE, used, settings.templates_dir)
    context = feedback_context(con, marts_schema, draft, used, settings.timezone)
    context.update(language=used, sender=settings.sender)
    subject = " ".join(subject_template.render(context).split())
    html = html_template.render(context)
    text = text_template.render(context)

    to = {agent["email"]: formataddr((agent.get("full_name") or "", agent["email"]))}
    cc = None
    supervisor = agent.get("supervisor_email")
    if settings.cc_supervisor and supervisor and supervisor.lower() != agent["email"].lower():
        cc = [supervisor]
    message_id = _message_id(agent["agent_id"], agent["period"], draft.revision, settings.sender)
    headers = {"X-ContactQA-Agent": agent["agent_id"], "X-ContactQA-Period": agent["period"],
               "X-ContactQA-Revision": str(draft.revision),
               "X-ContactQA-Preliminary": "yes" if draft.target.is_preliminary else "no",
               "Content-Language": used}
    if draft.previous is not None:
        # Mail clients thread the revision under the email it corrects.
        headers.update({"In-Reply-To": draft.previous.message_id, "References": draft.previous.message_id})
    recipients, data = mailer.prepare(to=to, cc=cc, subject=subject, html=html, text=text, message_id=message_id,
                                      headers=headers)
    return BuiltMessage(draft, message_id, recipients, data)


def _message_id(agent_id: str, period: str, revision: int, sender: str) -> str:
    # The same agent, period and revision always get the same Message-ID: if a crash ever made a
    # message go out twice, mail clients and servers show it once; a revision is a new message.
    domain = sender.rsplit("@", 1)[-1] or "contactqa.local"
    digest = hashlib.sha256(f"{agent_id}\x1f{period}\x1f{revision}".encode()).hexdigest()[:16]
    return f"<feedback.{_SAFE_NAME.sub('_', period)}.r{revision}.{digest}@{domain}>"


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
