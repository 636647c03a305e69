"""The send ledger: every feedback email that went out, revision by revision.

One row per agent × period × revision, written only after the message was delivered (to the
SMTP server, or to the outbox when no server is configured). Each row keeps what the email
said (`snapshot_json`, and its `content_hash`), so the next run can tell whether the marts
changed since — and if they did, send revision n+1 saying what changed (`changes_json`).
The primary key makes a second row for the same revision impossible even if two runs raced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import duckdb

LEDGER_TABLE = "delivery.sent_feedback"

_COLUMNS = """
    agent_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,       -- '2026-11' or '2026-W45'
    period_type VARCHAR NOT NULL,  -- month | week
    revision INTEGER NOT NULL,     -- 1 for the first email of the agent x period, then 2, 3 ...
    message_id VARCHAR NOT NULL,
    recipients VARCHAR NOT NULL,   -- comma-separated envelope recipients (To + Cc)
    sent_at TIMESTAMP NOT NULL,    -- UTC
    eml_path VARCHAR,
    transport VARCHAR,             -- smtp | outbox
    is_preliminary BOOLEAN,        -- sent while the period was still open; NULL: sent before this was tracked
    content_hash VARCHAR,          -- sha256 of snapshot_json; NULL: sent before revisions were tracked
    snapshot_json VARCHAR,         -- what the email said: headline figures, per contact score and criteria
    changes_json VARCHAR,          -- revision 2+: what changed since the previous revision
    PRIMARY KEY (agent_id, period, revision)
"""


@dataclass(frozen=True)
class LedgerEntry:
    """The latest revision sent to one agent for one period."""

    agent_id: str
    period: str
    period_type: str
    revision: int
    message_id: str
    sent_at: datetime  # UTC
    is_preliminary: bool | None
    content_hash: str | None
    snapshot: dict[str, Any] | None


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger, or bring one written by an earlier version up to the revision shape."""
    con.execute("CREATE SCHEMA IF NOT EXISTS delivery")
    columns = _ledger_columns(con)
    if not columns:
        con.execute(f"CREATE TABLE {LEDGER_TABLE} ({_COLUMNS})")
    elif "revision" not in columns:
        _migrate_to_revisions(con)


def _ledger_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'delivery' "
        "AND table_name = 'sent_feedback'").fetchall()}


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


def latest_entries(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], LedgerEntry]:
    """(agent_id, period) -> the latest revision sent. Reads an old-shape ledger too (a dry run
    cannot migrate it: its connection is read-only), as revision 1 with no snapshot."""
    columns = _ledger_columns(con)
    if not columns:
        return {}
    if "revision" not in columns:
        found = con.execute(f"""
            SELECT agent_id, period, CASE WHEN period LIKE '%-W%' THEN 'week' ELSE 'month' END, 1,
                   message_id, sent_at, NULL, NULL, NULL FROM {LEDGER_TABLE}""").fetchall()
    else:
        found = con.execute(f"""
            SELECT agent_id, period, period_type, revision, message_id, sent_at, is_preliminary, content_hash,
                   snapshot_json
            FROM {LEDGER_TABLE}
            QUALIFY row_number() OVER (PARTITION BY agent_id, period ORDER BY revision DESC) = 1""").fetchall()
    return {(r[0], r[1]): LedgerEntry(*r[:8], snapshot=json.loads(r[8]) if r[8] else None) for r in found}


def record_sent(
    con: duckdb.DuckDBPyConnection, *, agent_id: str, period: str, period_type: str, revision: int,
    message_id: str, recipients: list[str], eml_path: str, transport: str, is_preliminary: bool,
    content_hash: str, snapshot_json: str, changes_json: str | None,
) -> None:
    con.execute(
        f"""INSERT INTO {LEDGER_TABLE} (agent_id, period, period_type, revision, message_id, recipients, sent_at,
                eml_path, transport, is_preliminary, content_hash, snapshot_json, changes_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [agent_id, period, period_type, revision, message_id, ",".join(recipients), _utc_now(), eml_path,
         transport, is_preliminary, content_hash, snapshot_json, changes_json],
    )


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
