"""Failing safely and clearly (issue 8): a wrong configuration stops every command before any work,
with exit 2 and the file, key and problem; a missing warehouse stops a reading stage with exit 1
instead of a new empty warehouse and an empty report."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from contactqa.cli import app
from tiny_project import make_tiny_project

runner = CliRunner()

# Every command that does work, with the arguments it needs besides --config.
COMMANDS = {
    "run": ["run", "--as-of", "2026-11-10"],
    "ingest": ["ingest"],
    "autoqa": ["autoqa"],
    "rescore": ["rescore", "--period", "2026-10"],
    "build": ["build"],
    "report": ["report"],
    "send-feedback": ["send-feedback", "--as-of", "2026-11-10"],
}
READING = ["autoqa", "rescore", "build", "report", "send-feedback"]


def said(result) -> str:
    """The output as one line: rich wraps long lines at the terminal's width (and folds long paths)."""
    return " ".join(result.output.split())


def mentions(result, text: str) -> bool:
    return text in said(result) or text in result.output.replace("\n", "")


def warehouse_of(config: Path) -> Path:
    return config.parent / "warehouse" / "contactqa.duckdb"


# --- item 12: configuration errors, in every command ----------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
def test_a_broken_file_stops_every_command_before_any_work(command, tmp_path):
    config = make_tiny_project(tmp_path, routing="sendr: qa@bank.kz\ncc_supervisor: true\n")
    result = runner.invoke(app, COMMANDS[command] + ["--config", str(config)])
    assert result.exit_code == 2, result.output
    assert mentions(result, str(tmp_path / "routing.yml"))
    assert "sendr: unknown key" in said(result)
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert not warehouse_of(config).exists(), "nothing may be ingested or built under a broken configuration"


def test_an_unknown_regulation_clause_stops_ingest(tmp_path):
    card = (Path(__file__).resolve().parents[2] / "config" / "scorecard.yml").read_text(encoding="utf-8")
    config = make_tiny_project(tmp_path, scorecard=card.replace('regulation: "SR-2.1"', 'regulation: "SR-2.9"'))
    result = runner.invoke(app, ["ingest", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert mentions(result, str(tmp_path / "scorecard.yml"))
    assert "clause 'SR-2.9' is not in" in said(result) and "known clauses: SR-2.1" in said(result)
    assert not warehouse_of(config).exists()


# --- item 13: defaults used are said -------------------------------------------------------------

def test_validate_config_says_which_defaults_it_used(tmp_path):
    config = make_tiny_project(tmp_path, sampling="quotas: {voice: 1}\n", routing="cc_supervisor: false\n")
    result = runner.invoke(app, ["validate-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "no seed given: the default seed 20261101 is used" in said(result)
    assert "no sender given: the default sender qa@contactqa.local is used" in said(result)


@pytest.mark.slow
def test_run_summary_says_which_defaults_it_used(tmp_path):
    config = make_tiny_project(tmp_path, sampling="quotas: {voice: 1}\n", routing="cc_supervisor: false\n")
    result = runner.invoke(app, ["run", "--config", str(config), "--as-of", "2026-11-10"])
    assert result.exit_code == 0, result.output
    summary = said(result).split("Warehouse")[-2]  # the defaults are said with the run's summary
    assert "no seed given: the default seed 20261101 is used" in summary
    assert "no sender given: the default sender qa@contactqa.local is used" in summary


# --- item 11: the warehouse missing when a stage reads it -------------------------------------------

@pytest.mark.parametrize("command", READING)
def test_a_reading_command_refuses_a_missing_warehouse_and_does_not_create_it(command, tmp_path):
    config = make_tiny_project(tmp_path)
    warehouse = warehouse_of(config)
    result = runner.invoke(app, COMMANDS[command] + ["--config", str(config)])
    assert result.exit_code == 1, result.output
    assert mentions(result, str(warehouse))
    assert "does not exist" in said(result) and "contactqa ingest" in said(result)
    assert not warehouse.exists()


def test_a_warehouse_without_landed_tables_is_refused(tmp_path):
    config = make_tiny_project(tmp_path)
    warehouse = warehouse_of(config)
    warehouse.parent.mkdir()
    duckdb.connect(str(warehouse)).close()  # an empty DuckDB file, e.g. one a BI tool created by mistake
    result = runner.invoke(app, ["build", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert mentions(result, str(warehouse)) and "has no landed data" in said(result)


def test_warehouse_deleted_between_stages_fails_the_run(tmp_path, monkeypatch):
    """Before: exit 0, a new empty warehouse, an empty report and the ingest counts printed as if all went well."""
    import flows.pipeline

    config = make_tiny_project(tmp_path)
    warehouse = warehouse_of(config)
    ingest_flow = flows.pipeline.ingest_flow

    def ingest_then_lose_the_warehouse(*args, **kwargs):
        summaries = ingest_flow(*args, **kwargs)
        for path in warehouse.parent.glob(warehouse.name + "*"):
            if not path.name.endswith(".lock"):
                path.unlink()  # someone cleans the folder up while the run goes on
        return summaries

    monkeypatch.setattr(flows.pipeline, "ingest_flow", ingest_then_lose_the_warehouse)
    result = runner.invoke(app, ["run", "--config", str(config), "--as-of", "2026-11-10"])
    assert result.exit_code == 1, result.output
    assert mentions(result, str(warehouse))
    assert "does not exist" in said(result) and "deleted or moved" in said(result)
    assert "Report" not in result.output and not (tmp_path / "output" / "reports").exists()
    assert not warehouse.exists(), "a stage that reads must not create an empty warehouse"
