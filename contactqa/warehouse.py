"""The one place that opens the DuckDB warehouse and knows its landed tables.

Landed (canonical) data lives in the `raw` schema, AutoQA output in `autoqa`;
dbt builds `staging`/`marts` on top. All timestamps are UTC, stored as naive
TIMESTAMP columns (DuckDB's TIMESTAMP has no zone; the convention is UTC).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

# Canonical tables: name -> ordered (column, type). Connectors produce rows with
# exactly these columns; GX suites in expectations/ check them before they land.
CANONICAL: dict[str, list[tuple[str, str]]] = {
    "contacts": [
        ("contact_id", "VARCHAR"),
        ("channel", "VARCHAR"),  # voice | chat | email
        ("source_system", "VARCHAR"),  # asterisk | telegram | chat_jsonl | ...
        ("agent_id", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("topic", "VARCHAR"),
        ("direction", "VARCHAR"),  # inbound | outbound
        ("language", "VARCHAR"),
        ("started_at", "TIMESTAMP"),
        ("answered_at", "TIMESTAMP"),
        ("ended_at", "TIMESTAMP"),
        ("duration_s", "DOUBLE"),
        ("talk_s", "DOUBLE"),
        ("hold_s", "DOUBLE"),
        ("disposition", "VARCHAR"),
        ("csat", "INTEGER"),
        ("customer_key", "VARCHAR"),  # salted hash, never the raw phone or handle
        ("recording_uri", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
    ],
    "utterances": [
        ("contact_id", "VARCHAR"),
        ("seq", "INTEGER"),
        ("speaker", "VARCHAR"),  # agent | customer | system | bot
        ("offset_ms", "BIGINT"),
        ("end_offset_ms", "BIGINT"),
        ("text", "VARCHAR"),  # masked at ingest (contactqa.privacy.mask_pii): no full card, IIN or phone
        ("message_id", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
        # What the original text disclosed in full, comma-joined: card_number, national_id (NULL: nothing).
        # Last, so a warehouse from before it gains the column in the same place (see _UPGRADES).
        ("pii_kinds", "VARCHAR"),
    ],
    "agents": [
        ("agent_id", "VARCHAR"),
        ("full_name", "VARCHAR"),
        ("email", "VARCHAR"),
        ("team", "VARCHAR"),
        ("supervisor_email", "VARCHAR"),
        ("locale", "VARCHAR"),
        ("extension", "VARCHAR"),
        ("active_from", "DATE"),
        ("active_to", "DATE"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
    ],
    "agent_actions": [
        ("contact_id", "VARCHAR"),
        ("agent_id", "VARCHAR"),
        ("at", "TIMESTAMP"),
        ("action", "VARCHAR"),
        ("detail", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
    ],
    # Measurements of a call's audio (voice activity detection on the recording) or of an analytics
    # product (Amazon Contact Lens ConversationCharacteristics): one row per contact x metrics source.
    "call_metrics": [
        ("contact_id", "VARCHAR"),
        ("metrics_source", "VARCHAR"),  # vad | contact_lens
        ("recording_uri", "VARCHAR"),
        ("sample_rate_hz", "INTEGER"),
        ("audio_channels", "INTEGER"),
        ("duration_s", "DOUBLE"),
        ("agent_talk_s", "DOUBLE"),
        ("customer_talk_s", "DOUBLE"),
        ("total_talk_s", "DOUBLE"),
        ("longest_silence_s", "DOUBLE"),
        ("longest_silence_at_ms", "BIGINT"),
        ("non_talk_s", "DOUBLE"),
        ("overtalk_s", "DOUBLE"),
        ("interruptions", "INTEGER"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
    ],
    "evaluations": [
        ("evaluation_id", "VARCHAR"),
        ("contact_id", "VARCHAR"),
        ("evaluator_id", "VARCHAR"),
        ("criterion_id", "VARCHAR"),
        ("result", "VARCHAR"),  # pass | fail | na
        ("points", "DOUBLE"),
        ("comment", "VARCHAR"),
        ("evaluated_at", "TIMESTAMP"),
        ("calibration_session_id", "VARCHAR"),
        ("is_reference", "BOOLEAN"),
        ("source_file", "VARCHAR"),
        ("record_locator", "VARCHAR"),
    ],
}

# Natural key of each canonical table: a second row with the same key is a duplicate.
KEYS: dict[str, tuple[str, ...]] = {
    "contacts": ("contact_id",),
    "utterances": ("contact_id", "seq"),
    "agents": ("agent_id",),
    "agent_actions": ("contact_id", "at", "action"),
    "call_metrics": ("contact_id", "metrics_source"),
    "evaluations": ("evaluation_id", "criterion_id"),
}

_SERVICE_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS autoqa;
CREATE TABLE IF NOT EXISTS raw.quarantine (
    run_id VARCHAR, source VARCHAR, dataset VARCHAR, source_file VARCHAR,
    record_locator VARCHAR, raw_record VARCHAR, reasons VARCHAR, quarantined_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS raw.ingest_ledger (
    file_hash VARCHAR PRIMARY KEY, source VARCHAR, source_file VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    status VARCHAR, message VARCHAR, run_id VARCHAR, ingested_at TIMESTAMP
);
-- Facts about this installation, key -> value. customer_key_fingerprint: the first 8 hex of the sha256
-- of the key customer keys are made with (never the key): ingest refuses to run under another key.
CREATE TABLE IF NOT EXISTS raw.installation (
    key VARCHAR PRIMARY KEY, value VARCHAR, recorded_at TIMESTAMP, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.ingest_runs (
    run_id VARCHAR, source VARCHAR, files_seen BIGINT, files_new BIGINT,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    top_reasons VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP
);
-- Append-only history: a check adds its findings under its run_id and never deletes older ones.
CREATE TABLE IF NOT EXISTS autoqa.findings (
    contact_id VARCHAR, criterion_id VARCHAR, rule_id VARCHAR, rule_type VARCHAR,
    result VARCHAR, evidence_quote VARCHAR, evidence_speaker VARCHAR,
    evidence_offset_ms BIGINT, evidence_detail VARCHAR, regulation_ref VARCHAR,
    scorecard_version VARCHAR, run_id VARCHAR, evaluated_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS autoqa.scorecard_criteria (
    scorecard_version VARCHAR, section_id VARCHAR, section_title VARCHAR,
    criterion_id VARCHAR, title_en VARCHAR, title_ru VARCHAR, weight DOUBLE,
    is_critical BOOLEAN, channels VARCHAR, is_manual BOOLEAN, rule_type VARCHAR,
    error_code VARCHAR, regulation_ref VARCHAR
);
CREATE TABLE IF NOT EXISTS autoqa.error_catalogue (
    error_code VARCHAR, title_en VARCHAR, title_ru VARCHAR, error_group VARCHAR, severity VARCHAR
);
-- Every scorecard version AutoQA has used, with its full definition: a version never changes once
-- stored, and a version that left the config files can still re-check its own contacts.
CREATE TABLE IF NOT EXISTS autoqa.scorecard_versions (
    scorecard_version VARCHAR PRIMARY KEY, name VARCHAR, effective_from DATE, critical_effect VARCHAR,
    definition_json VARCHAR, definition_hash VARCHAR, registered_at TIMESTAMP
);
-- Append-only: one row per contact each time AutoQA checks it. A contact's current check is its
-- latest row (checked_at, then run_id); its current findings are those with that check's run_id.
CREATE TABLE IF NOT EXISTS autoqa.contact_checks (
    contact_id VARCHAR, scorecard_version VARCHAR, content_hash VARCHAR, run_id VARCHAR,
    checked_at TIMESTAMP, check_reason VARCHAR, rescore_id VARCHAR
);
CREATE TABLE IF NOT EXISTS autoqa.rescores (
    rescore_id VARCHAR, period VARCHAR, scorecard_version VARCHAR, reason VARCHAR,
    contacts_rescored BIGINT, requested_at TIMESTAMP, run_id VARCHAR
);
"""


def canonical_ddl() -> str:
    statements = []
    for table, columns in CANONICAL.items():
        cols = ",\n    ".join(f'"{name}" {kind}' for name, kind in columns)
        statements.append(f"CREATE TABLE IF NOT EXISTS raw.{table} (\n    {cols}\n);")
    return "\n".join(statements)


# Columns added to landed tables since they were first created: a warehouse from an earlier version gains them.
_UPGRADES = """
ALTER TABLE raw.utterances ADD COLUMN IF NOT EXISTS pii_kinds VARCHAR;
-- How a file's text was decoded, and how many bytes could not be (replaced with U+FFFD); NULL: binary file.
ALTER TABLE raw.ingest_ledger ADD COLUMN IF NOT EXISTS encoding VARCHAR;
ALTER TABLE raw.ingest_ledger ADD COLUMN IF NOT EXISTS bytes_replaced BIGINT;
ALTER TABLE raw.ingest_runs ADD COLUMN IF NOT EXISTS files_quarantined BIGINT;
ALTER TABLE raw.ingest_runs ADD COLUMN IF NOT EXISTS bytes_replaced BIGINT;
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_SERVICE_DDL)
    con.execute(canonical_ddl())
    con.execute(_UPGRADES)


@contextmanager
def connect(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, create the landed schema if it is new, close it afterwards."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()


class WarehouseError(RuntimeError):
    """The warehouse a stage reads is not there, or holds no landed data; the message says what to do."""


# Every stage after ingest reads these; ingest creates them with the warehouse.
LANDED_TABLES = ("raw.ingest_ledger", "raw.contacts")


def require_warehouse(path: str | Path, stage: str) -> None:
    """Refuse to read a warehouse that is not there. `connect` would create an empty one, and the stage
    would then report nothing as if all were well (a file deleted mid-run gave an empty report, exit 0)."""
    path = Path(path)
    what_to_do = ("run `contactqa ingest` (or `contactqa run`) to land the exports into a new one, or point "
                  "`warehouse:` in the project file (or CONTACTQA_WAREHOUSE) at where it is")
    if not path.is_file():
        raise WarehouseError(f"the warehouse {path} does not exist (not ingested into yet, or deleted or moved), "
                             f"so {stage} cannot go on: {what_to_do}")
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            present = {f"{schema}.{table}" for schema, table in
                       con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    except duckdb.Error as exc:
        raise WarehouseError(f"the warehouse {path} cannot be opened for {stage}: {exc}") from None
    missing = [table for table in LANDED_TABLES if table not in present]
    if missing:
        raise WarehouseError(f"the warehouse {path} has no landed data ({', '.join(missing)} missing: it is not "
                             f"a contactqa warehouse, or was replaced by an empty file), so {stage} cannot go on: "
                             f"{what_to_do}")


def column_names(table: str) -> list[str]:
    return [name for name, _ in CANONICAL[table]]
