"""The send ledger: every feedback email, revision by revision, and where each copy of it got to.

`delivery.sent_feedback` has one row per agent × period × revision: what the email said
(`snapshot_json`, its `content_hash`), so the next run can tell whether the marts changed since —
and if they did, send revision n+1 saying what changed (`changes_json`). The primary key makes a
second row for the same revision impossible even if two runs raced.

`delivery.feedback_recipients` has one row per recipient of each revision (the agent, the
supervisor in CC) with where that copy is:

    written     written to the outbox only: no SMTP server was configured. Not sent; a run with
                SMTP configured sends it (once).
    pending     to be sent: not tried yet, deferred by the server (4xx) or the server could not be
                reached. The next run tries it again, for this recipient only.
    sending     the SMTP DATA phase began. The row says so BEFORE the message is handed over, so a
                run killed at that moment leaves it here, and the next run cannot know whether the
                server kept the message: it turns it into `uncertain`.
    sent        the server accepted it for this recipient.
    refused     the server refused it for good (5xx, its words in `smtp_response`); tried again
                only when asked (`--retry-failed`).
    uncertain   the connection ended after the message was handed over (or the run sending it was
                killed then): it may have arrived. Reported, never resent unless asked
                (`--resend-uncertain`): an agent getting the same email twice is worse than a line
                in the report a person acts on.
    superseded  a later revision replaced it before it reached this recipient.

A revision no recipient may have (every copy written, pending or refused) is replaced when the
email is drafted again: it keeps its revision number, since nobody saw it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

import duckdb

LEDGER_TABLE = "delivery.sent_feedback"
RECIPIENTS_TABLE = "delivery.feedback_recipients"

WRITTEN, PENDING, SENDING, SENT, REFUSED, UNCERTAIN, SUPERSEDED = (
    "written", "pending", "sending", "sent", "refused", "uncertain", "superseded")
MAY_HAVE_IT = frozenset({SENT, SENDING, UNCERTAIN})  # a copy that may be in the recipient's mailbox

_COLUMNS = """
    agent_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,       -- '2026-11' or '2026-W45'
    period_type VARCHAR NOT NULL,  -- month | week
    revision INTEGER NOT NULL,     -- 1 for the first email of the agent x period, then 2, 3 ...
    message_id VARCHAR NOT NULL,
    recipients VARCHAR NOT NULL,   -- comma-separated envelope recipients (To + Cc); each copy: feedback_recipients
    sent_at TIMESTAMP NOT NULL,    -- UTC: a server first accepted it, or it was written to the outbox (else: queued)
    eml_path VARCHAR,
    transport VARCHAR,             -- smtp | outbox (written to the outbox only, not sent)
    is_preliminary BOOLEAN,        -- sent while the period was still open; NULL: sent before this was tracked
    content_hash VARCHAR,          -- sha256 of snapshot_json; NULL: sent before revisions were tracked
    snapshot_json VARCHAR,         -- what the email said: headline figures, per contact score and criteria
    changes_json VARCHAR,          -- revision 2+: what changed since the previous revision
    PRIMARY KEY (agent_id, period, revision)
"""

_RECIPIENT_COLUMNS = """
    agent_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    recipient VARCHAR NOT NULL,
    status VARCHAR NOT NULL,       -- written | pending | sending | sent | refused | uncertain | superseded
    attempts INTEGER NOT NULL,     -- SMTP tries for this recipient, over every run
    smtp_code INTEGER,             -- the server's last reply code about it (NULL: no reply, e.g. no connection)
    smtp_response VARCHAR,         -- the server's words, or what went wrong with the connection
    updated_at TIMESTAMP NOT NULL, -- UTC
    PRIMARY KEY (agent_id, period, revision, recipient)
"""


@dataclass(frozen=True)
class RecipientState:
    recipient: str
    status: str
    attempts: int = 0
    smtp_code: int | None = None
    smtp_response: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """One revision of one agent's email for one period, and where each copy of it is."""

    agent_id: str
    period: str
    period_type: str
    revision: int
    message_id: str
    sent_at: datetime  # UTC
    is_preliminary: bool | None
    content_hash: str | None
    snapshot: dict[str, Any] | None
    eml_path: str | None = None
    transport: str | None = None
    recipients: tuple[RecipientState, ...] = ()

    def with_status(self, *statuses: str) -> list[RecipientState]:
        return [r for r in self.recipients if r.status in statuses]

    def may_have_reached(self, *, outbox_counts: bool) -> bool:
        """Someone may have this revision: a copy sent or possibly sent — or, for a run without SMTP,
        written to the outbox (there the outbox is all there is)."""
        reached = MAY_HAVE_IT | ({WRITTEN} if outbox_counts else set())
        return any(r.status in reached for r in self.recipients)


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's copy in one delivery."""

    status: str  # sent | pending | refused | uncertain
    smtp_code: int | None = None
    smtp_response: str | None = None
    attempts: int = 0


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger, or bring one written by an earlier version up to the current shape."""
    con.execute("CREATE SCHEMA IF NOT EXISTS delivery")
    columns = _ledger_columns(con)
    if not columns:
        con.execute(f"CREATE TABLE {LEDGER_TABLE} ({_COLUMNS})")
    elif "revision" not in columns:
        _migrate_to_revisions(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {RECIPIENTS_TABLE} ({_RECIPIENT_COLUMNS})")
    # Rows from before recipients were tracked: an smtp row was accepted by the server; an outbox row
    # was only ever written (that version counted it as sent — turning SMTP on sent nothing).
    con.execute(f"""
        INSERT INTO {RECIPIENTS_TABLE}
        SELECT agent_id, period, revision, recipient,
               CASE WHEN transport = 'outbox' THEN '{WRITTEN}' ELSE '{SENT}' END,
               CASE WHEN transport = 'outbox' THEN 0 ELSE 1 END, NULL, NULL, sent_at
        FROM (SELECT *, trim(unnest(string_split(recipients, ','))) AS recipient FROM {LEDGER_TABLE}) m
        WHERE recipient <> '' AND NOT EXISTS (
            SELECT 1 FROM {RECIPIENTS_TABLE} r
            WHERE r.agent_id = m.agent_id AND r.period = m.period AND r.revision = m.revision)""")


def _ledger_columns(con: duckdb.DuckDBPyConnection, table: str = "sent_feedback") -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'delivery' "
        "AND table_name = ?", [table]).fetchall()}


def _migrate_to_revisions(con: duckdb.DuckDBPyConnection) -> None:
    # The old table's primary key was (agent_id, period) and DuckDB cannot change a primary key
    # in place, so the rows move to a new table in one transaction: a crash leaves either shape whole.
    # Every old row was the one email of its agent x period, i.e. revision 1; what it said was not kept.
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE delivery.sent_feedback_revisions ({_COLUMNS})")
        con.execute(f"""
            INSERT INTO delivery.sent_feedback_revisions
            SELECT agent_id, period, CASE WHEN period LIKE '%-W%' THEN 'week' ELSE 'month' END, 1,
                   message_id, recipients, sent_at, eml_path, transport, NULL, NULL, NULL, NULL
            FROM {LEDGER_TABLE}""")
        con.execute(f"DROP TABLE {LEDGER_TABLE}")
        con.execute("ALTER TABLE delivery.sent_feedback_revisions RENAME TO sent_feedback")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def ledger_history(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[LedgerEntry]]:
    """(agent_id, period) -> every revision, oldest first, with its recipients. Reads the shapes earlier
    versions wrote too (a dry run cannot migrate them: its connection is read-only): no revisions ->
    revision 1 with no snapshot; no recipients table -> each recipient as its row's transport says."""
    columns = _ledger_columns(con)
    if not columns:
        return {}
    if "revision" not in columns:
        found = con.execute(f"""
            SELECT agent_id, period, CASE WHEN period LIKE '%-W%' THEN 'week' ELSE 'month' END, 1,
                   message_id, sent_at, NULL, NULL, NULL, eml_path, transport, recipients
            FROM {LEDGER_TABLE}""").fetchall()
    else:
        found = con.execute(f"""
            SELECT agent_id, period, period_type, revision, message_id, sent_at, is_preliminary, content_hash,
                   snapshot_json, eml_path, transport, recipients
            FROM {LEDGER_TABLE} ORDER BY agent_id, period, revision""").fetchall()
    states: dict[tuple[str, str, int], list[RecipientState]] = {}
    if _ledger_columns(con, "feedback_recipients"):
        for agent_id, period, revision, *state in con.execute(f"""
                SELECT agent_id, period, revision, recipient, status, attempts, smtp_code, smtp_response
                FROM {RECIPIENTS_TABLE} ORDER BY agent_id, period, revision, recipient""").fetchall():
            states.setdefault((agent_id, period, revision), []).append(RecipientState(*state))
    history: dict[tuple[str, str], list[LedgerEntry]] = {}
    for row in found:
        key = (row[0], row[1], row[3])
        recipients = states.get(key) or [
            RecipientState(r.strip(), WRITTEN if row[10] == "outbox" else SENT)
            for r in (row[11] or "").split(",") if r.strip()]
        entry = LedgerEntry(*row[:8], snapshot=json.loads(row[8]) if row[8] else None, eml_path=row[9],
                            transport=row[10], recipients=tuple(recipients))
        history.setdefault((row[0], row[1]), []).append(entry)
    return history


def latest_entries(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], LedgerEntry]:
    """(agent_id, period) -> the latest revision recorded."""
    return {key: entries[-1] for key, entries in ledger_history(con).items()}


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, str]]:
    """Copies a run left in `sending` (it was killed or crashed while the server had the message):
    now `uncertain`. Returns (agent_id, period, revision, recipient) of each. Only one run holds the
    warehouse at a time (DuckDB's file lock), so a `sending` row found at the start is never live."""
    return [tuple(row) for row in con.execute(f"""
        UPDATE {RECIPIENTS_TABLE} SET status = '{UNCERTAIN}', updated_at = ?,
               smtp_response = 'the run sending it ended before the server confirmed it (killed or crashed)'
        WHERE status = '{SENDING}'
        RETURNING agent_id, period, revision, recipient""", [_utc_now()]).fetchall()]


def record_message(
    con: duckdb.DuckDBPyConnection, *, agent_id: str, period: str, period_type: str, revision: int,
    message_id: str, recipients: list[str], eml_path: str, transport: str, is_preliminary: bool,
    content_hash: str, snapshot_json: str, changes_json: str | None, status: str,
) -> None:
    """Record a revision, every recipient in `status` (written, or pending before it is sent). A revision
    of the same or a higher number that no one may have is replaced; one that someone may have never is."""
    now = _utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        stale = con.execute(f"""
            SELECT revision, bool_or(status IN ('{SENT}', '{SENDING}', '{UNCERTAIN}'))
            FROM {RECIPIENTS_TABLE} WHERE agent_id = ? AND period = ? AND revision >= ?
            GROUP BY revision""", [agent_id, period, revision]).fetchall()
        if any(reached for _, reached in stale):
            raise RuntimeError(f"{agent_id} {period}: revision {revision} or later may already have reached "
                               "someone; it is never replaced")
        for table in (RECIPIENTS_TABLE, LEDGER_TABLE):
            con.execute(f"DELETE FROM {table} WHERE agent_id = ? AND period = ? AND revision >= ?",
                        [agent_id, period, revision])
        con.execute(
            f"""INSERT INTO {LEDGER_TABLE} (agent_id, period, period_type, revision, message_id, recipients,
                    sent_at, eml_path, transport, is_preliminary, content_hash, snapshot_json, changes_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [agent_id, period, period_type, revision, message_id, ",".join(recipients), now, eml_path,
             transport, is_preliminary, content_hash, snapshot_json, changes_json])
        for recipient in dict.fromkeys(recipients):
            con.execute(f"INSERT INTO {RECIPIENTS_TABLE} VALUES (?, ?, ?, ?, ?, 0, NULL, NULL, ?)",
                        [agent_id, period, revision, recipient, status, now])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def mark_copies(con: duckdb.DuckDBPyConnection, agent_id: str, period: str, revision: int,
                recipients: Iterable[str], status: str) -> None:
    """Move copies on during a delivery: `sending` just before the message is handed over (SMTP DATA),
    then `sent` (or `pending` again) the moment the server answers."""
    recipients = list(recipients)
    now = _utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        if status == SENT:
            _first_acceptance(con, agent_id, period, revision, now)
        con.execute(f"""UPDATE {RECIPIENTS_TABLE} SET status = ?, updated_at = ?
                        WHERE agent_id = ? AND period = ? AND revision = ? AND list_contains(?, recipient)""",
                    [status, now, agent_id, period, revision, recipients])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def record_outcomes(con: duckdb.DuckDBPyConnection, agent_id: str, period: str, revision: int,
                    outcomes: dict[str, Outcome]) -> None:
    """Each recipient's copy after a delivery, with the server's words and the tries it took."""
    now = _utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        if any(o.status == SENT for o in outcomes.values()):
            _first_acceptance(con, agent_id, period, revision, now)
        for recipient, outcome in outcomes.items():
            con.execute(f"""UPDATE {RECIPIENTS_TABLE}
                            SET status = ?, attempts = attempts + ?, smtp_code = ?, smtp_response = ?, updated_at = ?
                            WHERE agent_id = ? AND period = ? AND revision = ? AND recipient = ?""",
                        [outcome.status, outcome.attempts, outcome.smtp_code, outcome.smtp_response, now,
                         agent_id, period, revision, recipient])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _first_acceptance(con: duckdb.DuckDBPyConnection, agent_id: str, period: str, revision: int,
                      now: datetime) -> None:
    """sent_at becomes the moment a server first accepted the revision (it was the moment it was queued)."""
    con.execute(f"""UPDATE {LEDGER_TABLE} SET sent_at = ? WHERE agent_id = ? AND period = ? AND revision = ?
                    AND NOT EXISTS (SELECT 1 FROM {RECIPIENTS_TABLE} r WHERE r.agent_id = ? AND r.period = ?
                                    AND r.revision = ? AND r.status = '{SENT}')""",
                [now, agent_id, period, revision, agent_id, period, revision])


def supersede(con: duckdb.DuckDBPyConnection, agent_id: str, period: str, revision: int) -> None:
    """A newer revision replaces this one and those before it: their copies still outstanding will not be sent."""
    con.execute(f"""UPDATE {RECIPIENTS_TABLE} SET status = '{SUPERSEDED}', updated_at = ?
                    WHERE agent_id = ? AND period = ? AND revision <= ?
                      AND status IN ('{PENDING}', '{REFUSED}', '{UNCERTAIN}')""",
                [_utc_now(), agent_id, period, revision])


def adopt_baseline(
    con: duckdb.DuckDBPyConnection, *, agent_id: str, period: str, revision: int, content_hash: str,
    snapshot_json: str,
) -> None:
    """Give a row sent before revisions were tracked today's snapshot as its baseline.

    What that email said is unknown, so there is nothing to compare with: emailing every agent
    a "revision 2" for every past period on upgrade would say nothing and bury the real ones.
    The note in changes_json keeps it visible that this snapshot was taken later than the email.
    """
    note = json.dumps({"baseline_adopted_at": _utc_now().isoformat(timespec="seconds")})
    con.execute(
        f"""UPDATE {LEDGER_TABLE} SET content_hash = ?, snapshot_json = ?, changes_json = ?
            WHERE agent_id = ? AND period = ? AND revision = ? AND content_hash IS NULL""",
        [content_hash, snapshot_json, note, agent_id, period, revision],
    )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
