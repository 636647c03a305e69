"""Scorecard versions as the warehouse remembers them, and which one checks a contact.

Every AutoQA run registers the configured versions in `autoqa.scorecard_versions` with their full
definition. A version is immutable once stored: a changed rule under the same version would move
scores of contacts already reported without anyone noticing, so it is refused. Because the
definition is stored, a version that has left the config files can still re-check its own contacts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Mapping

import duckdb
from pydantic import ValidationError

from contactqa.config import ErrorCatalogue, Scorecard


class ScorecardVersionError(ValueError):
    """A scorecard version cannot be used as asked (changed under the same version, or unknown)."""


class ScorecardChangedError(ScorecardVersionError):
    """A stored version's definition differs from the configured scorecard with the same version."""

    def __init__(self, version: str, path: Path | None):
        self.version = version
        self.path = path
        where = str(path) if path else f"the scorecard with version {version!r}"
        super().__init__(
            f"{where}: version {version!r} is already stored in the warehouse with a different definition. "
            f"Contacts already checked with {version!r} would change their scores silently: "
            "give the changed scorecard a new `version` (and an `effective_from`), "
            "or undo the change to this file.")


class UnknownScorecardVersionError(ScorecardVersionError):
    """A version asked for by name that the warehouse does not hold."""

    def __init__(self, version: str, known: list[str]):
        self.version = version
        self.known = known
        listed = ", ".join(known) if known else "none yet (run `contactqa autoqa` first)"
        super().__init__(f"scorecard version {version!r} is not in the warehouse; known versions: {listed}")


@dataclass(frozen=True)
class StoredVersion:
    version: str
    effective_from: date | None
    registered_at: datetime
    scorecard: Scorecard


def definition_json(scorecard: Scorecard) -> str:
    """The scorecard's definition as canonical JSON: equal definitions give equal text."""
    return json.dumps(scorecard.model_dump(mode="json"), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def definition_hash(definition: str) -> str:
    return hashlib.sha256(definition.encode("utf-8")).hexdigest()


def _criteria_rows(scorecard: Scorecard) -> list[tuple]:
    return [(scorecard.version, section.id, section.title.en, c.id, c.title.en, c.title.ru, c.weight, c.critical,
             ",".join(c.channels), c.rule.type == "manual", c.rule.type, c.error_code, c.regulation)
            for section in scorecard.sections for c in section.criteria]


def store_criteria(con: duckdb.DuckDBPyConnection, scorecard: Scorecard) -> None:
    """One version's criteria as rows, so dbt and BI read the same rules AutoQA used."""
    con.execute("DELETE FROM autoqa.scorecard_criteria WHERE scorecard_version = ?", [scorecard.version])
    con.executemany("INSERT INTO autoqa.scorecard_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _criteria_rows(scorecard))


def _catalogue_rows(catalogue: ErrorCatalogue) -> list[tuple]:
    return [(e.code, e.title.en, e.title.ru, e.group, e.severity) for e in catalogue.errors]


def store_catalogue(con: duckdb.DuckDBPyConnection, catalogue: ErrorCatalogue) -> None:
    """The error catalogue is not versioned: the current file replaces the table."""
    con.execute("DELETE FROM autoqa.error_catalogue")
    con.executemany("INSERT INTO autoqa.error_catalogue VALUES (?, ?, ?, ?, ?)", _catalogue_rows(catalogue))


def _catalogue_changed(con: duckdb.DuckDBPyConnection, catalogue: ErrorCatalogue) -> bool:
    stored = con.execute("SELECT * FROM autoqa.error_catalogue").fetchall()
    return sorted(stored, key=repr) != sorted(_catalogue_rows(catalogue), key=repr)


def store_scorecard(con: duckdb.DuckDBPyConnection, scorecard: Scorecard, catalogue: ErrorCatalogue) -> None:
    """The scorecard and error catalogue as tables (criteria replaced for this version only)."""
    store_criteria(con, scorecard)
    store_catalogue(con, catalogue)


def _same_definition(stored_json: str, scorecard: Scorecard) -> bool:
    # A newer contactqa may add a rule option with a default: the stored text then lacks a key the
    # configured one has, yet the rules behave the same. Read back with today's models, they agree.
    try:
        stored = Scorecard.model_validate(json.loads(stored_json))
    except (ValidationError, ValueError):
        return False
    return definition_json(stored) == definition_json(scorecard)


def register_scorecards(con: duckdb.DuckDBPyConnection, scorecards: list[Scorecard], catalogue: ErrorCatalogue,
                        now: datetime, scorecard_files: Mapping[str, Path] | None = None) -> list[str]:
    """Store every configured version not yet stored; refuse a stored version whose definition changed.

    Checks every version before writing anything, so a refused run leaves the warehouse as it was.
    Returns the versions registered by this call.
    """
    stored = dict(con.execute("SELECT scorecard_version, definition_json FROM autoqa.scorecard_versions").fetchall())
    new: list[tuple[Scorecard, str]] = []
    for scorecard in scorecards:
        definition = definition_json(scorecard)
        if scorecard.version not in stored:
            new.append((scorecard, definition))
        elif stored[scorecard.version] != definition and not _same_definition(stored[scorecard.version], scorecard):
            raise ScorecardChangedError(scorecard.version, (scorecard_files or {}).get(scorecard.version))
    catalogue_changed = _catalogue_changed(con, catalogue)
    if not new and not catalogue_changed:
        return []  # a run with nothing new writes nothing
    con.execute("BEGIN TRANSACTION")
    try:
        for scorecard, definition in new:
            con.execute("INSERT INTO autoqa.scorecard_versions VALUES (?, ?, ?, ?, ?, ?, ?)", [
                scorecard.version, scorecard.name, scorecard.effective_from, scorecard.critical_effect,
                definition, definition_hash(definition), now])
            store_criteria(con, scorecard)
        if catalogue_changed:
            store_catalogue(con, catalogue)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return [scorecard.version for scorecard, _ in new]


def stored_versions(con: duckdb.DuckDBPyConnection, configured: list[Scorecard] = ()) -> list[StoredVersion]:
    """Every stored version, oldest first (effective_from, then registration, then name).

    Configured versions are used as loaded (their definition equals the stored one, as registration
    checked); the others are rebuilt from the stored definition.
    """
    by_version = {s.version: s for s in configured}
    versions = []
    for version, effective_from, registered_at, definition in con.execute(
            "SELECT scorecard_version, effective_from, registered_at, definition_json FROM autoqa.scorecard_versions"
    ).fetchall():
        scorecard = by_version.get(version)
        if scorecard is None:
            try:
                scorecard = Scorecard.model_validate(json.loads(definition))
            except (ValidationError, ValueError) as exc:
                raise ScorecardVersionError(f"scorecard version {version!r} stored in autoqa.scorecard_versions "
                                            f"cannot be read by this contactqa: {exc}") from None
        versions.append(StoredVersion(version, effective_from, registered_at, scorecard))
    return sorted(versions, key=_order)


def _order(version: StoredVersion) -> tuple:
    return (version.effective_from or date.min, version.registered_at, version.version)


def version_in_force(day: date | None, versions: list[StoredVersion]) -> str:
    """The version that checks a contact started on this local day.

    The latest `effective_from` on or before the day (no date = from the beginning; on a tie the
    one registered last). A day before every version gets the earliest one, and a contact without
    a start time the newest, as a new contact would.
    """
    ordered = sorted(versions, key=_order)
    if not ordered:
        raise ScorecardVersionError("no scorecard version is stored: configure at least one scorecard")
    if day is None:
        return ordered[-1].version
    in_force = [v for v in ordered if (v.effective_from or date.min) <= day]
    if in_force:
        return in_force[-1].version
    earliest = ordered[0].effective_from
    return [v for v in ordered if v.effective_from == earliest][-1].version


def scorecard_files(paths: list[Path]) -> dict[str, Path]:
    """version -> the file it is configured in, so a refusal can name the file."""
    from contactqa.config import load_model

    return {load_model(Scorecard, path).version: path for path in paths}
