"""Ingest: pull a source's new files, check every row, land the good ones, quarantine the rest.

Guarantees, per file: records read = rows loaded + rows quarantined; a file (by content hash)
lands exactly once, in one transaction with its ledger row, so a killed run re-run neither
loses nor doubles anything.

Personal data is masked here, on the way in, for every source (`_land_file`): free text of landed
rows, quarantined records and their reasons never reach the warehouse with a full card number,
IIN or phone; what an utterance disclosed is kept as `pii_kinds` for AutoQA. Customer keys are
made under the installation key, whose fingerprint the warehouse records (`_check_installation_key`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from contactqa.config import Project, Source
from contactqa.privacy import (
    KEY_ENV, InstallationKeyError, disclosures, key_fingerprint, key_file, key_location, mask_pii, masked_excerpt,
)
from contactqa.quality.suites import ROW, Suite, load_suite, validate_frame
from contactqa.quality.window import TimeWindow
from contactqa.sources import IngestContext, ParsedFile, parse_file
from contactqa.sources.base import option_problems, record_unit
from contactqa.sources.remote import is_remote, pull
from contactqa.warehouse import CANONICAL, connect

log = logging.getLogger(__name__)

# Pseudo-dataset of the transcript connector: one row per call, sets the contact's language.
TRANSCRIPT_COLUMNS = [("contact_id", "VARCHAR"), ("language", "VARCHAR"), ("source_file", "VARCHAR"),
                      ("record_locator", "VARCHAR")]


class SourceConfigError(ValueError):
    """A source's options are wrong (a bad regex, an unknown option): fix the project file, nothing was loaded."""


class CustomerKeyError(SourceConfigError):
    """The installation key is unusable, or is not the key this warehouse's customer keys were made with."""


class InvariantError(RuntimeError):
    """Rows read != loaded + quarantined for a file: a bug, never silently accepted."""


@dataclass
class FileOutcome:
    """One file of a run. Rows are the file's records (a CDR's call legs, a chat export's messages);
    `landed` counts the rows written per dataset (the calls those legs made)."""

    source: str
    source_file: str
    file_hash: str
    status: str  # loaded | quarantined (no record loaded) | already_ingested
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    landed: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)  # reason (without row details) -> rows quarantined
    examples: dict[str, str] = field(default_factory=dict)  # reason -> its first row: locator and reason in full
    encoding: str | None = None  # how its text was decoded; None for a binary file (XLSX, WAV)
    encoding_detected: bool = True
    bytes_replaced: int = 0  # undecodable bytes replaced with U+FFFD


@dataclass
class SourceSummary:
    source: str
    source_type: str = ""
    record_unit: str = "row"  # what one record is: "call leg", "message", "row"
    contact_unit: str | None = None  # what a contact of the source is: "call", "conversation"
    files_seen: int = 0
    files_new: int = 0
    files_quarantined: int = 0  # new files of which no record loaded
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    bytes_replaced: int = 0
    landed: dict[str, int] = field(default_factory=dict)
    reasons: Counter = field(default_factory=Counter)  # reason -> rows quarantined with it
    examples: dict[str, str] = field(default_factory=dict)  # reason -> "file locator: the reason in full"
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def top_reasons(self) -> list[tuple[str, int]]:
        """Every reason with the rows quarantined with it, commonest first (a row may have several)."""
        return self.reasons.most_common()


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(project: Project, source: Source) -> list[tuple[Path, str]]:
    """The source's files in name order (daily exports then load oldest first), as (local path, name).

    A remote location (sftp://, https://, s3://) is pulled into a cache beside the warehouse first;
    its files are then known by their URL (without credentials), so quarantine rows point at them.
    """
    if is_remote(source.location):
        pulled = pull(source.name, source.location, source.glob, project.warehouse_path.parent / "remote_cache")
        return [(f.local_path, f.remote_uri) for f in pulled]
    folder = project.resolve(source.location)
    if not folder.is_dir():
        raise FileNotFoundError(f"source {source.name!r}: folder {folder} does not exist "
                                f"(check `location` in {project.path})")
    return [(p, str(p)) for p in sorted(folder.glob(source.glob)) if p.is_file()]


def _columns(dataset: str) -> list[tuple[str, str]]:
    return TRANSCRIPT_COLUMNS if dataset == "transcripts" else CANONICAL[dataset]


def _context(con: duckdb.DuckDBPyConnection, source: Source, window: TimeWindow) -> IngestContext:
    agents = con.execute("SELECT agent_id, extension, full_name FROM raw.agents").fetchall()
    return IngestContext(
        timezone=source.timezone, options=dict(source.options), encoding=source.encoding,
        agents_by_extension={ext: agent for agent, ext, _ in agents if ext},
        agents_by_name={name.casefold(): agent for agent, _, name in agents if name},
        agent_ids=frozenset(agent for agent, _, _ in agents), window=window,
    )


@dataclass
class _Row:
    file_index: int
    dataset: str
    values: dict[str, Any]
    reasons: list[str] = field(default_factory=list)


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def _frame(dataset: str, rows: list[_Row]) -> pd.DataFrame:
    names = [name for name, _ in _columns(dataset)]
    frame = pd.DataFrame([r.values for r in rows], columns=names)
    for name, kind in _columns(dataset):
        if kind in ("TIMESTAMP", "DATE"):
            frame[name] = pd.to_datetime(frame[name])
        elif kind in ("DOUBLE", "BIGINT", "INTEGER"):
            frame[name] = pd.to_numeric(frame[name])
    frame.insert(0, ROW, range(len(rows)))
    return frame


def _check_keys(con: duckdb.DuckDBPyConnection, suite: Suite, dataset: str, frame: pd.DataFrame,
                rows: list[_Row]) -> None:
    """Duplicates (within the batch and against what is loaded) and references to known entities."""
    if suite.unique_key:
        seen: dict[tuple, int] = {}
        for i, row in enumerate(rows):
            key = tuple(row.values.get(k) for k in suite.unique_key)
            if key in seen:
                first = rows[seen[key]].values
                row.reasons.append(f"duplicate key ({'/'.join(suite.unique_key)} = {'/'.join(map(str, key))}): "
                                   f"first seen in {first['source_file']} {first['record_locator']}")
            else:
                seen[key] = i
        table = "raw.contacts" if dataset == "transcripts" else f"raw.{dataset}"
        existing_filter = ("WHERE contact_id IN (SELECT DISTINCT contact_id FROM raw.utterances)"
                           if dataset == "transcripts" else "")
        on = " AND ".join(f't."{k}" IS NOT DISTINCT FROM b."{k}"' for k in suite.unique_key)
        con.register("_batch", frame)
        hits = con.execute(
            f"SELECT b.{ROW}, t.source_file, t.record_locator FROM _batch b "
            f"JOIN (SELECT * FROM {table} {existing_filter}) t ON {on}").fetchall()
        for index, other_file, other_locator in hits:
            values = "/".join(str(rows[index].values.get(k)) for k in suite.unique_key)
            rows[index].reasons.append(f"duplicate key ({'/'.join(suite.unique_key)} = {values}): already loaded "
                                       f"from {other_file} {other_locator}")
        con.unregister("_batch")
    for ref in suite.references:
        con.register("_batch", frame)
        missing = con.execute(
            f"SELECT b.{ROW}, b.{ref.column} FROM _batch b WHERE b.{ref.column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {ref.table} t WHERE t.{ref.key} = b.{ref.column})").fetchall()
        con.unregister("_batch")
        for index, value in missing:
            rows[index].reasons.append(ref.reason(value))


def _validate(con: duckdb.DuckDBPyConnection, rows_by_dataset: dict[str, list[_Row]], window: TimeWindow) -> None:
    for dataset, rows in rows_by_dataset.items():
        suite = load_suite(dataset)
        frame = _frame(dataset, rows)
        for index, reasons in validate_frame(suite, frame, window=window).items():
            rows[index].reasons.extend(reasons)
        _check_keys(con, suite, dataset, frame, rows)


def _propagate(parsed: ParsedFile, rows_by_dataset: dict[str, list[_Row]], file_index: int) -> None:
    """Primary records and the rows derived from them stand or fall together, by contact_id."""
    primary = [r for r in rows_by_dataset.get(parsed.primary, []) if r.file_index == file_index]
    derived = [r for ds, rows in rows_by_dataset.items() if ds != parsed.primary
               for r in rows if r.file_index == file_index]
    if not derived:
        return
    failed_derived: dict[str, list[str]] = {}
    for row in derived:
        if row.reasons:
            failed_derived.setdefault(row.values["contact_id"], []).extend(row.reasons)
    for row in primary:
        reasons = failed_derived.get(row.values.get("contact_id"))
        if reasons and not row.reasons:
            row.reasons.extend(f"contact {row.values['contact_id']}: {r}" for r in dict.fromkeys(reasons))
    surviving = {r.values.get("contact_id") for r in primary if not r.reasons}
    for row in derived:
        if not row.reasons and row.values.get("contact_id") not in surviving:
            row.reasons.append("its contact's records were quarantined")


# Free text a person typed or said, per dataset: masked before it lands. Keys, codes and names are not
# free text (agents' e-mail addresses are needed to send them feedback).
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "utterances": ("text",),
    "agent_actions": ("detail",),
    "evaluations": ("comment",),
}
QUARANTINED_RECORD_LIMIT = 10_000  # characters of a quarantined record kept (masked first, then cut)


def _protected(dataset: str, values: dict[str, Any]) -> dict[str, Any]:
    """The row as it may be stored: free text masked; for an utterance, what its original disclosed."""
    columns = FREE_TEXT.get(dataset)
    if not columns:
        return values
    row = dict(values)
    if dataset == "utterances":
        row["pii_kinds"] = ",".join(disclosures(row.get("text"))) or None
    for column in columns:
        if isinstance(row.get(column), str):
            row[column] = mask_pii(row[column])
    return row


def _insert(con: duckdb.DuckDBPyConnection, dataset: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = _columns(dataset)
    frame = pd.DataFrame(rows, columns=[name for name, _ in columns])
    con.register("_good", frame)
    if dataset == "transcripts":
        con.execute("UPDATE raw.contacts c SET language = g.language FROM _good g "
                    "WHERE c.contact_id = g.contact_id AND g.language IS NOT NULL")
    else:
        names = ", ".join(f'"{name}"' for name, _ in columns)
        select = ", ".join(f'CAST("{name}" AS {kind})' for name, kind in columns)
        con.execute(f"INSERT INTO raw.{dataset} ({names}) SELECT {select} FROM _good")
    con.unregister("_good")


def _land_file(con: duckdb.DuckDBPyConnection, run_id: str, source: Source, outcome: FileOutcome,
               parsed: ParsedFile, rows_by_dataset: dict[str, list[_Row]], file_index: int) -> None:
    """Land one file's good rows and quarantine the rest, in one transaction with its ledger row.

    The one place rows and quarantine records are written, so personal data is masked here: rows
    through `_protected`, quarantined records and reasons masked (then cut)."""
    quarantine: list[tuple] = []
    rows_per_reason: Counter = Counter()  # reason without its row's details -> records quarantined with it
    now = datetime.now(timezone.utc).replace(tzinfo=None)

    def quarantined(dataset: str, locator: str | None, raw: str, reasons: list[str], records: int = 1) -> None:
        """`records`: how many of the file's records the row stands for (a call's legs)."""
        masked = [mask_pii(reason) for reason in reasons]
        quarantine.append((run_id, source.name, dataset, parsed.source_file, locator,
                           masked_excerpt(raw, QUARANTINED_RECORD_LIMIT), "; ".join(masked), now))
        for reason in masked:
            head = reason_head(reason)
            outcome.examples.setdefault(head, f"{parsed.source_file} {locator}: {reason}")
        for head in dict.fromkeys(reason_head(reason) for reason in masked):  # once per record, however often
            rows_per_reason[head] += records
        outcome.rows_quarantined += records

    for reject in parsed.rejects:
        quarantined(parsed.primary, reject.locator, reject.raw, [reject.reason])
    loaded_primary = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for dataset, rows in rows_by_dataset.items():
            mine = [r for r in rows if r.file_index == file_index]
            good = [_protected(dataset, r.values) for r in mine if not r.reasons]
            _insert(con, dataset, good)
            if good:
                outcome.landed[dataset] = len(good)
            if dataset == parsed.primary:
                loaded_primary = sum(parsed.records_in(values) for values in good)
                for r in mine:
                    if r.reasons:  # legs folded into a quarantined call are quarantined records too
                        quarantined(dataset, r.values.get("record_locator"),
                                    json.dumps(r.values, ensure_ascii=False, default=_json_default),
                                    r.reasons, parsed.records_in(r.values))
        if quarantine:
            con.executemany("INSERT INTO raw.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", quarantine)
        outcome.rows_read = parsed.records_read
        outcome.rows_loaded = loaded_primary
        if outcome.rows_read != outcome.rows_loaded + outcome.rows_quarantined:
            raise InvariantError(f"{parsed.source_file}: read {outcome.rows_read} rows but loaded "
                                 f"{outcome.rows_loaded} and quarantined {outcome.rows_quarantined}")
        outcome.status = "loaded" if loaded_primary or not quarantine else "quarantined"
        outcome.reasons = dict(rows_per_reason)
        outcome.encoding, outcome.encoding_detected, outcome.bytes_replaced = (
            parsed.encoding, parsed.encoding_detected, parsed.bytes_replaced)
        con.execute("INSERT INTO raw.ingest_ledger (file_hash, source, source_file, rows_read, rows_loaded, "
                    "rows_quarantined, status, message, run_id, ingested_at, encoding, bytes_replaced) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            outcome.file_hash, source.name, parsed.source_file, outcome.rows_read, outcome.rows_loaded,
            outcome.rows_quarantined, outcome.status, _ledger_message(parsed), run_id, now,
            parsed.encoding, parsed.bytes_replaced if parsed.encoding else None])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _ledger_message(parsed: ParsedFile) -> str | None:
    """The ledger's word on a file: how its text was decoded (encoding, bytes replaced), then its notes."""
    parts = []
    if parsed.encoding:
        how = "detected" if parsed.encoding_detected else "configured"
        parts.append(f"encoding: {parsed.encoding} ({how}), bytes replaced: {parsed.bytes_replaced}")
    return mask_pii("; ".join(parts + parsed.notes)) or None


def reason_head(reason: str) -> str:
    """A reason without its row's details (values, locators, the contact it came through): what the
    summary counts rows by."""
    reason = re.sub(r"^contact \S+: ", "", reason)
    return re.split(r" \[|: | \(| — ", reason, maxsplit=1)[0]


def ingest_source(warehouse_path: Path, project: Project, source: Source, run_id: str) -> SourceSummary:
    """Ingest every file of `source` that the ledger has not seen; returns the source's summary."""
    unit, contact_unit = record_unit(source.type)
    summary = SourceSummary(source.name, source.type, unit, contact_unit)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    problems = option_problems(source.type, dict(source.options))
    if problems:  # before any file is read, so nothing is ledgered under options that cannot work
        raise SourceConfigError(f"source {source.name!r} ({source.type}) in {project.path}: options: "
                                f"{'; '.join(problems)}")
    window = TimeWindow.for_run(source.options, started)
    files = discover(project, source)
    summary.files_seen = len(files)
    with connect(warehouse_path) as con:
        _check_installation_key(con, run_id)
        known = {h for (h,) in con.execute("SELECT file_hash FROM raw.ingest_ledger").fetchall()}
        new: list[tuple[Path, str, str]] = []
        for path, name in files:
            digest = file_hash(path)
            if digest in known:
                summary.files.append(FileOutcome(source.name, name, digest, "already_ingested"))
                continue
            known.add(digest)  # the same content twice in one drop lands once
            new.append((path, name, digest))
        summary.files_new = len(new)
        context = _context(con, source, window)
        try:
            parsed_files = [parse_file(source.type, path, name, context) for path, name, _ in new]
        except ValueError as exc:  # connectors raise it only for invalid options, never for bad records
            raise SourceConfigError(f"source {source.name!r} in {project.path}: {exc}") from None
        rows_by_dataset: dict[str, list[_Row]] = {}
        for i, parsed in enumerate(parsed_files):
            for dataset, rows in parsed.tables.items():
                rows_by_dataset.setdefault(dataset, []).extend(_Row(i, dataset, values) for values in rows)
        _validate(con, rows_by_dataset, window)
        for i, ((path, name, digest), parsed) in enumerate(zip(new, parsed_files)):
            _propagate(parsed, rows_by_dataset, i)
            if parsed.records_read == 0 and not parsed.rejects:
                parsed.notes.append("the file is empty: no records")
            outcome = FileOutcome(source.name, name, digest, "loaded", notes=list(parsed.notes))
            _land_file(con, run_id, source, outcome, parsed, rows_by_dataset, i)
            summary.files.append(outcome)
            summary.rows_read += outcome.rows_read
            summary.rows_loaded += outcome.rows_loaded
            summary.rows_quarantined += outcome.rows_quarantined
            summary.files_quarantined += outcome.status == "quarantined"
            summary.bytes_replaced += outcome.bytes_replaced
            summary.reasons.update(outcome.reasons)
            for head, example in outcome.examples.items():
                summary.examples.setdefault(head, example)
            for dataset, rows in outcome.landed.items():
                summary.landed[dataset] = summary.landed.get(dataset, 0) + rows
        top = "; ".join(f"{r} ({n} row{'s' if n != 1 else ''})" for r, n in summary.top_reasons[:5])
        con.execute("INSERT INTO raw.ingest_runs (run_id, source, files_seen, files_new, rows_read, rows_loaded, "
                    "rows_quarantined, top_reasons, started_at, finished_at, files_quarantined, bytes_replaced) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_id, source.name, summary.files_seen, summary.files_new, summary.rows_read, summary.rows_loaded,
            summary.rows_quarantined, top or None, started, datetime.now(timezone.utc).replace(tzinfo=None),
            summary.files_quarantined, summary.bytes_replaced])
    return summary


KEY_FINGERPRINT = "customer_key_fingerprint"


def _check_installation_key(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record the installation key's fingerprint on first use; refuse to run under a different key.

    Customer keys made under another key would join none of the stored ones: every repeat-contact
    and frequency check, and the sampling plan's exclusions, would silently stop matching."""
    try:
        current = key_fingerprint()
    except InstallationKeyError as exc:
        raise CustomerKeyError(str(exc)) from None
    recorded = con.execute("SELECT value FROM raw.installation WHERE key = ?", [KEY_FINGERPRINT]).fetchone()
    if recorded is None:
        if con.execute("SELECT count(*) FROM raw.contacts WHERE customer_key IS NOT NULL").fetchone()[0]:
            log.warning("this warehouse holds customer keys made by an earlier version (a salted hash; "
                        "CONTACTQA_KEY_SALT is no longer used): they do not join the keys made from now on under "
                        "the installation key %s (%s)", current, key_location())
        con.execute("INSERT OR IGNORE INTO raw.installation VALUES (?, ?, ?, ?)",
                    [KEY_FINGERPRINT, current, datetime.now(timezone.utc).replace(tzinfo=None), run_id])
        recorded = con.execute("SELECT value FROM raw.installation WHERE key = ?", [KEY_FINGERPRINT]).fetchone()
    if recorded[0] != current:
        raise CustomerKeyError(
            f"the installation key changed: this warehouse's customer keys were made with the key whose fingerprint "
            f"is {recorded[0]}, but the key in use ({key_location()}) has fingerprint {current}. Customer keys made "
            f"now would not join the stored ones, so nothing was loaded. Restore the original key (from your backup "
            f"of {key_file()}, or set {KEY_ENV} to it) and run ingest again.")

