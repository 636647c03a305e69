"""Every source sample in the README ingests cleanly: the documentation stays true."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source

README = Path(__file__).resolve().parents[2] / "README.md"
SAMPLE = re.compile(r"\*\*`(?P<type>[a-z_]+)`\*\*[^\n]*\n(?:(?!\*\*`)[^\n]*\n)*?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
EXTENSION = {"json": ".json", "": ".csv"}
TIMEZONE = "Asia/Almaty"


def samples() -> dict[str, tuple[str, str]]:
    found = {m["type"]: (m["lang"], m["body"]) for m in SAMPLE.finditer(README.read_text(encoding="utf-8"))}
    return {t: v for t, v in found.items() if v[0] != "yaml"}


def test_every_documented_file_source_has_a_sample():
    assert set(samples()) >= {"agent_directory", "asterisk_cdr", "asterisk_cdr_custom", "freeswitch_cdr",
                              "transcripts", "contact_lens", "chat_jsonl", "chat_csv", "telegram",
                              "agent_actions", "evaluations"}


def ingest(root: Path, source_type: str, body: str, suffix: str) -> tuple[int, int, int, list[str]]:
    folder = root / source_type
    folder.mkdir(parents=True)
    (folder / f"sample{suffix}").write_text(body, encoding="utf-8")
    write_project_file(root / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": [
        {"name": "sample", "type": source_type, "location": source_type, "timezone": TIMEZONE}]})
    project = load_project(root / "contactqa.yml")
    summary = ingest_source(project.warehouse_path, project, project.config.sources[0], "readme")
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        reasons = [r for (r,) in con.execute("SELECT reasons FROM raw.quarantine").fetchall()]
    return summary.rows_read, summary.rows_loaded, summary.rows_quarantined, reasons


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A warehouse with the README's directory and CDR samples landed."""
    root = tmp_path_factory.mktemp("base")
    found = samples()
    for source_type in ("agent_directory", "asterisk_cdr"):
        read, loaded, quarantined, reasons = ingest(root, source_type, found[source_type][1], ".csv")
        assert read == loaded > 0 and not reasons, reasons
    return root / "wh.duckdb"


@pytest.mark.parametrize("source_type", sorted(set(samples()) - {"agent_directory", "asterisk_cdr"}))
def test_sample_ingests_without_quarantine(source_type, base, tmp_path):
    lang, body = samples()[source_type]
    shutil.copy(base, tmp_path / "wh.duckdb")
    suffix = ".jsonl" if source_type == "chat_jsonl" else EXTENSION[lang]
    read, loaded, quarantined, reasons = ingest(tmp_path, source_type, body, suffix)
    assert reasons == [] and read == loaded > 0
