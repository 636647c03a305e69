"""The send ledger: which feedback email went out, so none goes out twice.

One row per agent × period, written only after the message was delivered (to the SMTP
server, or to the outbox when no server is configured). The primary key makes a second
row for the same agent and period impossible even if two runs raced.
"""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb

LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS delivery;
CREATE TABLE IF NOT EXISTS delivery.sent_feedback (
    agent_id VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL,
    recipients VARCHAR NOT NULL,   -- comma-separated envelope recipients (To + Cc)
    sent_at TIMESTAMP NOT NULL,    -- UTC
    eml_path VARCHAR,
    transport VARCHAR,             -- smtp | outbox
    PRIMARY KEY (agent_id, period)
);
"""


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(LEDGER_DDL)


def already_sent(con: duckdb.DuckDBPyConnection, period: str | None = None) -> set[tuple[str, str]]:
    found = con.execute(
        "SELECT agent_id, period FROM delivery.sent_feedback WHERE (CAST(? AS VARCHAR) IS NULL OR period = ?)",
        [period, period],
    ).fetchall()
    return {(a, p) for a, p in found}


def record_sent(
    con: duckdb.DuckDBPyConnection, *, agent_id: str, period: str, message_id: str, recipients: list[str],
    eml_path: str, transport: str,
) -> None:
    con.execute(
        "INSERT INTO delivery.sent_feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
        [agent_id, period, message_id, ",".join(recipients),
         datetime.now(timezone.utc).replace(tzinfo=None), eml_path, transport],
    )
