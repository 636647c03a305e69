"""Ingest one corpus file into a copy of a small base warehouse and report what happened."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup.cards@bank.kz,ru,1001\n"
             "A002,John Smith,john@bank.kz,Billing,sup.billing@bank.kz,en,1002\n")
BASE_CDR = ('"cards","77011234567","700","from-trunk","","PJSIP/trunk-0000001a","PJSIP/1001-0000001b","Queue",'
            '"cards","2026-11-02 10:00:00","2026-11-02 10:00:10","2026-11-02 10:05:10",310,300,"ANSWERED",'
            '"DOCUMENTATION","1762059600.1","card_blocked"\n')
TIMEZONE = {"asterisk_cdr": "Asia/Almaty", "freeswitch_cdr": "Asia/Almaty", "telegram": "Asia/Almaty"}


@dataclass
class Outcome:
    read: int
    loaded: int
    quarantined: int
    reasons: list[str]
    notes: list[str]
    warehouse: Path


def build_base(root: Path, with_reference_data: bool) -> Path:
    """A warehouse holding the directory and one CDR contact (1762059600.1), or nothing at all."""
    project_dir = root / ("base-full" if with_reference_data else "base-empty")
    (project_dir / "dir").mkdir(parents=True)
    (project_dir / "cdr").mkdir()
    (project_dir / "dir" / "agents.csv").write_text(DIRECTORY, encoding="utf-8")
    (project_dir / "cdr" / "Master.csv").write_text(BASE_CDR, encoding="utf-8")
    sources = [{"name": "directory", "type": "agent_directory", "location": "dir"},
               {"name": "asterisk", "type": "asterisk_cdr", "location": "cdr", "timezone": "Asia/Almaty"}]
    write_project_file(project_dir / "contactqa.yml", {"warehouse": "wh.duckdb",
                                                       "sources": sources if with_reference_data else []})
    project = load_project(project_dir / "contactqa.yml")
    for source in project.config.sources:
        ingest_source(project.warehouse_path, project, source, "base")
    if not with_reference_data:
        from contactqa.warehouse import connect
        with connect(project.warehouse_path):
            pass
    return project.warehouse_path


def ingest_case(case: str, base: Path, workdir: Path, *, data: bytes | None = None,
                options: dict | None = None) -> Outcome:
    """`options`: the source's options (cases.yml gives them per case, as a centre would configure them)."""
    source_type, filename = case.split("/", 1)
    workdir.mkdir(parents=True)
    warehouse = workdir / "wh.duckdb"
    shutil.copy(base, warehouse)
    (workdir / "in").mkdir()
    (workdir / "in" / Path(filename).name).write_bytes(data if data is not None else (CORPUS / case).read_bytes())
    source = {"name": "case", "type": source_type, "location": "in", "timezone": TIMEZONE.get(source_type, "UTC"),
              "options": options or {}}
    write_project_file(workdir / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": [source]})
    project = load_project(workdir / "contactqa.yml")
    summary = ingest_source(project.warehouse_path, project, project.config.sources[0], "case")
    [file] = summary.files
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = [r for (r,) in con.execute(
            "SELECT reasons FROM raw.quarantine WHERE run_id = 'case' ORDER BY record_locator").fetchall()]
    return Outcome(file.rows_read, file.rows_loaded, file.rows_quarantined, reasons, file.notes, warehouse)
