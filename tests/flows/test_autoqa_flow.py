"""`contactqa autoqa --as-of` and `contactqa rescore` through the Prefect flows, as a user runs them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from contactqa.cli import app
from contactqa.config import DEFAULT_CONFIG_DIR, DEFAULT_PROJECT_FILE, load_project, write_project_file
from contactqa.warehouse import column_names, connect

pytestmark = pytest.mark.slow  # the Prefect test server

runner = CliRunner()
V1 = load_project(DEFAULT_PROJECT_FILE).scorecard()
# Asia/Almaty local starts: as of 2026-12-02, week W45 (C1, C2) is closed, C3 and C4 are open
CONTACTS = {"C1": datetime(2026, 11, 2, 10), "C2": datetime(2026, 11, 3, 11), "C3": datetime(2026, 11, 30, 12),
            "C4": datetime(2026, 12, 1, 9)}


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    names = column_names(table)
    con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                    [[row.get(name) for name in names] for row in rows])


def land_contacts(warehouse: Path) -> None:
    with connect(warehouse) as con:
        insert(con, "agents", [dict(agent_id="A1", full_name="Айгерим Нурланова")])
        insert(con, "contacts", [dict(contact_id=c, channel="voice", agent_id="A1", topic="card_blocked",
                                      direction="inbound", started_at=at - timedelta(hours=5), disposition="answered",
                                      customer_key=f"K-{c}") for c, at in CONTACTS.items()])
        insert(con, "utterances", [dict(contact_id=c, seq=1, speaker="agent", offset_ms=0, end_offset_ms=2000,
                                        text="Добрый день, меня зовут Айгерим") for c in CONTACTS])


def write_scorecard(path: Path, version: str, effective_from: date, weight_bump: float = 0) -> Path:
    data = V1.model_dump(mode="json")
    data.update(version=version, effective_from=effective_from.isoformat())
    data["sections"][0]["criteria"][0]["weight"] += weight_bump
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def project_file(root: Path, scorecards: list[str]) -> Path:
    default = load_project(DEFAULT_PROJECT_FILE)
    path = root / "contactqa.yml"
    write_project_file(path, {
        "warehouse": "wh/contactqa.duckdb", "output_dir": "out", "timezone": "Asia/Almaty", "close_after_days": 3,
        "scorecard": scorecards, "error_catalogue": str(DEFAULT_CONFIG_DIR / "error_catalogue.yml"),
        "regulations_dir": str(default.resolve(default.config.regulations_dir)),
        "kb_dir": str(default.resolve(default.config.kb_dir))})
    return path


def checks(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT contact_id, scorecard_version, check_reason FROM autoqa.contact_checks "
                           "ORDER BY checked_at, contact_id").fetchall()


def test_autoqa_as_of_and_rescore_from_the_command_line(tmp_path: Path) -> None:
    write_scorecard(tmp_path / "scorecard-v1.yml", "v1", date(2026, 1, 1))
    config = project_file(tmp_path, ["scorecard-v1.yml"])
    warehouse = load_project(config).warehouse_path
    land_contacts(warehouse)

    first = runner.invoke(app, ["autoqa", "--config", str(config), "--as-of", "2026-12-02"])
    assert first.exit_code == 0, first.output
    assert "4 contacts checked (new 4)" in first.output and "v1 (4)" in first.output

    # a second version from 1 Nov: the closed week W45 keeps v1, the open days move to v2
    write_scorecard(tmp_path / "scorecard-v2.yml", "v2", date(2026, 11, 1))
    config = project_file(tmp_path, ["scorecard-v1.yml", "scorecard-v2.yml"])
    second = runner.invoke(app, ["autoqa", "--config", str(config), "--as-of", "2026-12-02"])
    assert second.exit_code == 0, second.output
    assert "2 contacts checked (version_changed 2)" in second.output and "2 unchanged" in second.output

    rescored = runner.invoke(app, ["rescore", "--config", str(config), "--period", "2026-W45",
                                   "--scorecard-version", "v2", "--reason", "v2 for the whole month"])
    assert rescored.exit_code == 0, rescored.output
    assert "2 contact(s) of 2026-W45" in rescored.output and "contactqa build" in rescored.output
    assert "send-feedback" in rescored.output
    assert checks(warehouse)[-2:] == [("C1", "v2", "rescore"), ("C2", "v2", "rescore")]

    unknown = runner.invoke(app, ["rescore", "--config", str(config), "--period", "2026-11",
                                  "--scorecard-version", "v9"])
    assert unknown.exit_code == 2 and "known versions: v1, v2" in unknown.output

    # v1 edited in place: refused, naming the file
    write_scorecard(tmp_path / "scorecard-v1.yml", "v1", date(2026, 1, 1), weight_bump=5)
    refused = runner.invoke(app, ["autoqa", "--config", str(config)])
    assert refused.exit_code == 2
    flat = refused.output.replace("\n", "")
    assert "scorecard-v1.yml" in flat and "give the changed scorecard a new `version`" in flat
