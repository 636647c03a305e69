"""Per-agent feedback emails: one per agent per CLOSED period, in the agent's language,
and a numbered revision whenever what it said has changed since.

Which periods a run emails: by default only closed ones (a period closes `close_after_days`
after its last local day, see contactqa.periods) — every closed period already in the send
ledger (to catch corrections, whatever its type) and the latest `lookback` closed periods of
each configured type. Open periods are held back and named in the summary with the day they
close. An explicit period goes out even while open, marked PRELIMINARY in the subject, body
and ledger.

Each message holds only that agent's contacts. It is built with yagmail, written to
`outbox/<period>/<agent_id>.eml` (revision n > 1: `<agent_id>.r<n>.eml`) and, when a server is
configured, sent over SMTP (contactqa.delivery.smtp). The send ledger (contactqa.delivery.ledger)
tracks every recipient's copy: recorded before the message is handed over and again after, so a
copy the server deferred is tried again by the next run for that recipient only, one it refused
waits for `retry_failed`, and one that may or may not have arrived (the connection or the run
ended mid-transaction) is reported and never resent unless `resend_uncertain` — at most once, by
default. Without a server the .eml is only written, and the ledger says so: turning SMTP on later
sends what was only written (for the periods still due).
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

from contactqa.delivery.ledger import (
    PENDING, REFUSED, SENDING, SENT, UNCERTAIN, WRITTEN, LedgerEntry, Outcome, RecipientState, adopt_baseline,
    ensure_ledger, ledger_history, mark_copies, mark_interrupted, record_message, record_outcomes, supersede,
)
from contactqa.delivery.revisions import build_snapshot, content_hash, describe_changes, snapshot_json
from contactqa.delivery.smtp import SmtpTransport
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
    smtp_ca_file: Path | None = None  # a private CA's certificate (PEM); default: the system's trusted CAs
    smtp_allow_plaintext_login: bool = False  # a password over a connection without TLS: refused unless True
    smtp_retry_delays_s: tuple[float, ...] = (1.0, 2.0, 4.0)  # 4xx and connection failures: tried again after each
    smtp_max_connection_failures: int = 2  # in a row: the run then stops trying the server
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
    smtp: bool = False  # a server was configured (else the outbox is all there is)
    written: int = 0  # .eml files written to the outbox (with SMTP: the messages that went out)
    sent: int = 0  # messages the SMTP server accepted (for at least one recipient)
    outbox_only: int = 0  # written to the outbox and NOT sent: no SMTP server configured
    resent: int = 0  # of `sent`: copies held over from an earlier run (deferred, or asked for again)
    first_sends: int = 0  # revision-1 emails delivered (a dry run: that would be)
    revisions: int = 0  # revision 2+ emails delivered (a dry run: that would be)
    revised: list[str] = field(default_factory=list)  # which: 'A001 2026-11 r2'
    skipped_already_sent: int = 0  # the latest revision in the ledger already says exactly this
    baselined: int = 0  # ledger rows from before revisions were tracked, given today's snapshot, not emailed
    held_back: list[HeldBack] = field(default_factory=list)
    preliminary: list[str] = field(default_factory=list)  # open periods emailed because they were asked for
    beyond_lookback: list[str] = field(default_factory=list)  # closed, never sent, older than the lookback
    failed: list[FailedDelivery] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)  # found or left by this run: may or may not have arrived
    stopped: str | None = None  # why the run stopped trying the SMTP server
    planned: int = 0  # dry run: messages that would go out
    would_send: list[str] = field(default_factory=list)  # dry run: each of them, and to whom
    warnings: list[str] = field(default_factory=list)
    eml_paths: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.uncertain

    @property
    def notices(self) -> list[str]:
        """What a person should read beside the counts: uncertain copies first, then the warnings."""
        found = [f"UNCERTAIN {line}" for line in self.uncertain]
        if self.outbox_only:
            found.append(f"{self.outbox_only} email(s) written to the outbox only, NOT sent: no smtp server in the "
                         "routing file; once one is configured, the next run sends them")
        if self.stopped:
            found.append(self.stopped)
        return found + self.warnings

    def __str__(self) -> str:
        delivered = (f"{self.sent} sent" if self.smtp
                     else f"{self.outbox_only} written to the outbox only (not sent: no SMTP server configured)")
        text = (f"feedback: {self.first_sends} first email(s), {self.revisions} revision(s); "
                f"{self.written} written to {self.outbox_dir}, {delivered}, "
                f"{self.skipped_already_sent} unchanged since sent, {len(self.failed)} failed")
        if self.resent:
            text += f", {self.resent} held-over copies sent"
        if self.dry_run:
            text += f", {self.planned} planned (dry run: nothing written or sent)"
            text += "".join(f"\n  would send {line}" for line in self.would_send)
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
        for line in self.uncertain:
            text += f"\n  UNCERTAIN {line}"
        if self.stopped:
            text += f"\n  {self.stopped}"
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


@dataclass(frozen=True)
class RunOptions:
    """What this run may do beyond the default (at most once, nothing refused tried again)."""

    dry_run: bool = False
    retry_failed: bool = False  # send again the copies the server refused for good (5xx)
    resend_uncertain: bool = False  # send again the copies that may or may not have arrived
    found_uncertain: frozenset[tuple[str, str, int]] = frozenset()  # left `sending` by a killed run: reported already


def send_feedback(
    warehouse_path: Path,
    settings: DeliverySettings,
    *,
    period: str | None = None,
    as_of: date | None = None,
    marts_schema: str = "marts",
    dry_run: bool = False,
    retry_failed: bool = False,
    resend_uncertain: bool = False,
) -> FeedbackSummary:
    """Write (and with SMTP configured, send) each agent's feedback for the periods due.

    `period` None: the closed periods of `settings.feedback_periods` (see the module docstring).
    `period` '2026-11' or '2026-W45': that period only, even while open (then PRELIMINARY).
    `as_of`: act as if the centre's local date were this (re-runs, tests); default: today there.
    A copy the server deferred or could not take (4xx, connection) is tried again within the run and,
    failing that, by the next run; one it refused (5xx) is reported and tried again only with
    `retry_failed`; one that may or may not have arrived is reported and sent again only with
    `resend_uncertain`. The other agents still go out. `dry_run` builds every message (so template
    errors show) but writes, sends and records nothing.
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
    summary = FeedbackSummary(outbox_dir=Path(settings.outbox_dir), as_of=run_day, dry_run=dry_run,
                              smtp=bool(settings.smtp_host))
    mailer = _Mailer(settings)
    # Checks the TLS settings even in a dry run; it connects only when the first message goes out.
    transport = SmtpTransport(settings) if settings.smtp_host else None
    options = RunOptions(dry_run, retry_failed, resend_uncertain)
    try:
        # The connection stays open for the whole run: DuckDB's file lock then keeps a second
        # run from sending the same emails at the same time.
        with connect(warehouse_path, read_only=dry_run) as con:
            require_marts(con, warehouse_path, marts_schema)
            if not dry_run:
                ensure_ledger(con)
                found = mark_interrupted(con)
                options = RunOptions(dry_run, retry_failed, resend_uncertain,
                                     frozenset((a, p, r) for a, p, r, _ in found))
            history = ledger_history(con)
            _report_interrupted(history, options.found_uncertain, summary)
            available = _available_periods(con, marts_schema, settings, summary)
            followed = {key[1] for key, entries in history.items() if any(_followed(e, transport) for e in entries)}
            plan = plan_periods(available, followed, settings, run_day, explicit)
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
                    entries = history.get((agent["agent_id"], target.period.key), [])
                    _feedback_for_agent(con, marts_schema, agent, target, entries, settings, mailer, transport,
                                        summary, options)
    finally:
        if transport is not None:
            transport.close()
            summary.stopped = transport.stopped
    return summary


def _followed(entry: LedgerEntry, transport: SmtpTransport | None) -> bool:
    """A period with this in the ledger is checked by every run, however old: for revisions, and for
    copies still to deliver. With SMTP, one only ever written to the outbox is not: it was never sent,
    so it goes out like any period never sent (within the lookback, or asked for by name)."""
    return transport is None or any(r.status != WRITTEN for r in entry.recipients)


def _report_interrupted(history: dict[tuple[str, str], list[LedgerEntry]], found: frozenset[tuple[str, str, int]],
                        summary: FeedbackSummary) -> None:
    for entries in history.values():
        for entry in entries:
            if (entry.agent_id, entry.period, entry.revision) in found:
                copies = ", ".join(r.recipient for r in entry.with_status(UNCERTAIN))
                summary.uncertain.append(
                    f"{_label(entry)} to {copies}: the run sending it ended (killed or crashed) while the server had "
                    f"it, before it confirmed; it may or may not have arrived. {_UNCERTAIN_ADVICE}")


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


_UNCERTAIN_ADVICE = ("Not sent again: ask the recipient or check the server's log, or rerun with --resend-uncertain "
                     "to send it again")


def _label(entry: LedgerEntry) -> str:
    return f"{entry.agent_id} {entry.period} r{entry.revision}"


def _feedback_for_agent(con: Any, marts_schema: str, agent: dict[str, Any], target: Target,
                        entries: list[LedgerEntry], settings: DeliverySettings, mailer: "_Mailer",
                        transport: SmtpTransport | None, summary: FeedbackSummary, options: RunOptions) -> None:
    key = (agent["agent_id"], agent["period"])
    # What the agent may already have: without SMTP the outbox is the delivery; with it, only what a
    # server took (or may have taken) counts — a revision that reached no one is drafted afresh.
    reached = [e for e in entries if e.may_have_reached(outbox_counts=transport is None)]
    previous = reached[-1] if reached else None
    try:
        draft = draft_feedback(con, marts_schema, agent, target, previous)
    except Exception as exc:  # one agent's bad data must not stop the others
        summary.failed.append(FailedDelivery(*key, f"could not read what the email would say: {exc}"))
        return
    if draft is None:
        _follow_up(con, previous, transport, summary, options)  # type: ignore[arg-type]
        return
    if previous is not None and previous.content_hash is None:
        # Sent before revisions were tracked: nothing to compare with (see ledger.adopt_baseline).
        if not options.dry_run:
            adopt_baseline(con, agent_id=key[0], period=key[1], revision=previous.revision,
                           content_hash=draft.content_hash, snapshot_json=snapshot_json(draft.snapshot))
        summary.baselined += 1
        return
    try:
        message = build_feedback_message(con, marts_schema, draft, settings, mailer)
    except Exception as exc:
        summary.failed.append(FailedDelivery(*key, f"could not build the message: {exc}"))
        return
    # Drafted again over a revision that reached no one: an address the server refused for good stays
    # refused (not retried until asked), whatever happens to the other recipients' copies.
    latest = entries[-1] if entries else None
    refused: list[RecipientState] = []
    if transport is not None and latest is not None and latest is not previous and not options.retry_failed:
        refused = [r for r in latest.with_status(REFUSED) if r.recipient in message.recipients]
        if refused:
            summary.warnings.append(_not_retried(latest, refused))
    if len(refused) == len(set(message.recipients)):
        return
    if options.dry_run:
        summary.planned += 1
        to = [r for r in message.recipients if r not in {c.recipient for c in refused}]
        summary.would_send.append(f"{key[0]} {key[1]} r{draft.revision} to {', '.join(to)}")
        _count_revision(summary, draft)
        return
    _deliver(con, message, previous, settings, transport, summary, refused)


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


def _deliver(con: Any, message: BuiltMessage, previous: LedgerEntry | None, settings: DeliverySettings,
             transport: SmtpTransport | None, summary: FeedbackSummary, refused: list[RecipientState]) -> None:
    """A new revision: written to the outbox, recorded (every copy pending), then handed to the server."""
    draft = message.draft
    eml_path = _eml_path(Path(settings.outbox_dir), draft)
    _write_atomically(eml_path, message.data)  # a resend to one recipient must be exactly what the others got
    record_message(con, agent_id=message.agent_id, period=message.period, period_type=draft.target.period.type,
                   revision=draft.revision, message_id=message.message_id, recipients=message.recipients,
                   eml_path=str(eml_path), transport="smtp" if transport else "outbox",
                   is_preliminary=draft.target.is_preliminary, content_hash=draft.content_hash,
                   snapshot_json=snapshot_json(draft.snapshot),
                   changes_json=json.dumps(draft.changes, ensure_ascii=False) if draft.changes else None,
                   status=PENDING if transport else WRITTEN)
    if transport is None:
        summary.written += 1
        summary.outbox_only += 1
        summary.eml_paths.append(eml_path)
        _count_revision(summary, draft)
        return
    if previous is not None:
        supersede(con, message.agent_id, message.period, previous.revision)  # this revision replaces it
    if refused:
        record_outcomes(con, message.agent_id, message.period, draft.revision,
                        {r.recipient: Outcome(REFUSED, r.smtp_code, r.smtp_response) for r in refused})
    owed = [r for r in message.recipients if r not in {c.recipient for c in refused}]
    outcomes = _hand_over(con, message.agent_id, message.period, draft.revision, owed, message.data, transport)
    if any(o.status in (SENT, UNCERTAIN) for o in outcomes.values()):
        summary.written += 1
        summary.eml_paths.append(eml_path)
    else:  # no one has it: the outbox keeps only what went out (the next attempt writes it again)
        eml_path.unlink(missing_ok=True)
    if any(o.status == SENT for o in outcomes.values()):
        _count_revision(summary, draft)
    _account(summary, message.agent_id, message.period, draft.revision, outcomes, held_over=False)


def _follow_up(con: Any, entry: LedgerEntry, transport: SmtpTransport | None, summary: FeedbackSummary,
               options: RunOptions) -> None:
    """The email is unchanged since `entry`: send the copies of it still owed, exactly as the others got it."""
    if transport is None:
        summary.skipped_already_sent += 1
        return
    refused = entry.with_status(REFUSED)
    uncertain = entry.with_status(UNCERTAIN, SENDING)  # SENDING: a dry run reads what a killed run left
    owed = entry.with_status(PENDING)
    if options.retry_failed:
        owed += refused
    elif refused:
        summary.warnings.append(_not_retried(entry, refused))
    if options.resend_uncertain:
        owed += uncertain
    elif uncertain and (entry.agent_id, entry.period, entry.revision) not in options.found_uncertain:
        summary.warnings.append(f"{_label(entry)} to {', '.join(r.recipient for r in uncertain)} is still uncertain "
                                f"({uncertain[0].smtp_response or 'left mid-transaction'}). {_UNCERTAIN_ADVICE}")
    if not owed:
        if not refused and not uncertain:
            summary.skipped_already_sent += 1
        return
    recipients = [r.recipient for r in owed]
    if options.dry_run:
        summary.planned += 1
        summary.would_send.append(f"{_label(entry)} to {', '.join(recipients)} (held over from an earlier run)")
        return
    eml_path = Path(entry.eml_path) if entry.eml_path else None
    if eml_path is None or not eml_path.is_file():
        summary.failed.append(FailedDelivery(entry.agent_id, entry.period, (
            f"r{entry.revision} is still owed to {', '.join(recipients)}, but its outbox file {eml_path} is missing: "
            "it must go out exactly as the others received it")))
        return
    outcomes = _hand_over(con, entry.agent_id, entry.period, entry.revision, recipients, eml_path.read_bytes(),
                          transport)
    if options.resend_uncertain:  # found uncertain at the start, and now sent again as asked: settled
        summary.uncertain = [line for line in summary.uncertain if not line.startswith(f"{_label(entry)} to ")]
    _account(summary, entry.agent_id, entry.period, entry.revision, outcomes, held_over=True)


def _hand_over(con: Any, agent_id: str, period: str, revision: int, recipients: list[str], data: bytes,
               transport: SmtpTransport) -> dict[str, Outcome]:
    def mark(copies: list[str], status: str) -> None:
        mark_copies(con, agent_id, period, revision, copies, status)

    outcomes = transport.deliver(recipients, data, mark)
    record_outcomes(con, agent_id, period, revision, outcomes)
    return outcomes


def _account(summary: FeedbackSummary, agent_id: str, period: str, revision: int, outcomes: dict[str, Outcome],
             *, held_over: bool) -> None:
    """One line per message that did not reach everyone: what each server said, and what happens next."""
    by_status: dict[str, list[str]] = {}
    for recipient, outcome in outcomes.items():
        by_status.setdefault(outcome.status, []).append(recipient)
    if by_status.get(SENT):
        summary.sent += 1
        summary.resent += int(held_over)
    problems = [outcomes[r].smtp_response or "" for r in by_status.get(REFUSED, [])]
    if problems:
        problems[-1] += " (permanent: not retried until --retry-failed)"
    pending = [outcomes[r].smtp_response or "" for r in by_status.get(PENDING, [])]
    if pending:
        problems += list(dict.fromkeys(pending))
        problems[-1] += f" (not delivered to {', '.join(by_status[PENDING])}: the next run tries again)"
    if problems:
        reached = f"r{revision} delivered to {', '.join(by_status[SENT])}; " if by_status.get(SENT) else ""
        summary.failed.append(FailedDelivery(agent_id, period, reached + "; ".join(problems)))
    if by_status.get(UNCERTAIN):
        why = outcomes[by_status[UNCERTAIN][0]].smtp_response
        summary.uncertain.append(f"{agent_id} {period} r{revision} to {', '.join(by_status[UNCERTAIN])}: {why}; "
                                 f"it may or may not have arrived. {_UNCERTAIN_ADVICE}")


def _not_retried(entry: LedgerEntry, refused: list[RecipientState]) -> str:
    said = "; ".join(dict.fromkeys(r.smtp_response or "refused" for r in refused))
    return (f"{_label(entry)} to {', '.join(r.recipient for r in refused)}: refused earlier ({said}); "
            "not retried — correct the address, then rerun with --retry-failed")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


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
    """yagmail, building the messages (sending them is contactqa.delivery.smtp's job).

    yagmail puts the HTML source into its text/plain alternative; we replace that part with
    the rendered plain-text template (and the HTML part with the full page) before the
    message is written or sent, so what the outbox holds is exactly what was delivered.
    """

    def __init__(self, settings: DeliverySettings):
        self.settings = settings
        login = settings.smtp_user or settings.sender
        self.client = yagmail.SMTP(user={login: settings.sender_name}, host="localhost", smtp_skip_login=True)
        self.client.is_closed = True  # it never connects

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


def _replace_body(msg: Message, content_type: str, body: str) -> None:
    for part in msg.walk():
        if part.get_content_type() == content_type and not part.is_multipart():
            del part["Content-Transfer-Encoding"]
            part.set_payload(body, "utf-8")
            return
    raise ValueError(f"yagmail built no {content_type} part")
