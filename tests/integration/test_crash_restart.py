"""A run killed half way and started again loads each file exactly once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup@bank.kz,ru,1001\n")


def cdr_line(day: int, n: int) -> str:
    start = f"2026-11-0{day} 10:{n:02d}:00"
    end = f"2026-11-0{day} 10:{n:02d}:50"
    ext = "1999" if n == 3 else "1001"  # one unknown agent per file goes to quarantine
    return (f'"cards","7701{day}{n:06d}","700","from-trunk","","PJSIP/trunk-0000001a","PJSIP/{ext}-0000001b",'
            f'"Queue","cards","{start}","{start}","{end}",50,50,"ANSWERED","DOCUMENTATION","17620{day}{n:04d}.{n}",""')


def make_project(root: Path) -> Path:
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "agents.csv").write_text(DIRECTORY, encoding="utf-8")
    (root / "cdr").mkdir()
    for day in range(1, 6):
        lines = [cdr_line(day, n) for n in range(10)]
        (root / "cdr" / f"Master-2026-11-0{day}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_project_file(root / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": [
        {"name": "directory", "type": "agent_directory", "location": "dir"},
        {"name": "asterisk", "type": "asterisk_cdr", "location": "cdr", "timezone": "Asia/Almaty"}]})
    return root / "contactqa.yml"


CRASHING_RUN = """
import os, sys
import contactqa.ingest as ingest
from contactqa.config import load_project
mode = sys.argv[2]
calls = {"land": 0, "insert": 0}
original_land, original_insert = ingest._land_file, ingest._insert
def land(*args, **kwargs):
    original_land(*args, **kwargs)
    calls["land"] += 1
    if mode == "between-files" and calls["land"] == 2:
        os._exit(9)  # killed after the second file landed
def insert(con, dataset, rows):
    original_insert(con, dataset, rows)
    calls["insert"] += 1
    if mode == "mid-file" and calls["insert"] == 4:
        os._exit(9)  # killed inside a file's transaction, rows written but not committed
ingest._land_file, ingest._insert = land, insert
project = load_project(sys.argv[1])
for source in project.config.sources:
    ingest.ingest_source(project.warehouse_path, project, source, "crashed")
"""


def counts(project) -> tuple:
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute("""SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(DISTINCT contact_id) FROM raw.contacts),
                                     (SELECT count(*) FROM raw.quarantine), (SELECT count(*) FROM raw.ingest_ledger)""").fetchone()


def ingest_all(project, run_id: str) -> None:
    for source in project.config.sources:
        ingest_source(project.warehouse_path, project, source, run_id)


@pytest.fixture(scope="module")
def clean_counts(tmp_path_factory):
    project = load_project(make_project(tmp_path_factory.mktemp("clean")))
    ingest_all(project, "clean")
    return counts(project)


@pytest.mark.parametrize("mode", ["between-files", "mid-file"])
def test_killed_ingest_restarts_without_loss_or_duplicates(mode, tmp_path, clean_counts):
    config = make_project(tmp_path)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_RUN, str(config), mode], capture_output=True, text=True)
    assert crashed.returncode == 9, crashed.stderr
    project = load_project(config)
    partial = counts(project)
    assert partial[3] < clean_counts[3], "the crash should have happened before every file landed"
    ingest_all(project, "restart")
    assert counts(project) == clean_counts == (45, 45, 5, 6)
