"""The command line as a new user meets it: help, bad input, exit codes."""

import pytest
from typer.testing import CliRunner

from contactqa.cli import app

runner = CliRunner()
COMMANDS = ["generate", "demo", "run", "ingest", "autoqa", "build", "report", "send-feedback", "validate-config"]


def test_top_level_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_explains_itself(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 5


def test_validate_config_on_the_default_project():
    result = runner.invoke(app, ["validate-config"])
    assert result.exit_code == 0, result.output
    assert "scorecard" in result.output and "9 criteria" in result.output


def test_broken_config_exits_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "contactqa.yml"
    bad.write_text("warehouse: x.duckdb\nsources:\n  - {name: cdr, type: asterix_cdr, location: x}\n")
    result = runner.invoke(app, ["validate-config", "--config", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.output.replace("\n", "")
    assert "sources[0].type" in result.output


def test_bad_period_is_refused():
    result = runner.invoke(app, ["report", "--period", "November"])
    assert result.exit_code == 2 and "is not a month like 2026-11" in result.output


def test_generate_rejects_bad_options(tmp_path):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--timezone", "Mars/Base"])
    assert result.exit_code == 2 and "Mars/Base" in result.output
