"""The command line as a new user meets it: help, bad input, exit codes."""

import pytest
from typer.testing import CliRunner

from contactqa.cli import app

runner = CliRunner()
COMMANDS = ["generate", "demo", "run", "ingest", "autoqa", "rescore", "build", "report", "send-feedback",
            "validate-config", "measure-rules"]


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
    assert "scorecard" in result.output and "criteria" in result.output


def test_broken_config_exits_2_naming_file_and_key(tmp_path):
    bad = tmp_path / "contactqa.yml"
    bad.write_text("warehouse: x.duckdb\nsources:\n  - {name: cdr, type: asterix_cdr, location: x}\n")
    result = runner.invoke(app, ["validate-config", "--config", str(bad)])
    assert result.exit_code == 2
    assert str(bad) in result.output.replace("\n", "")
    assert "sources[0].type" in result.output


def test_bad_period_is_refused():
    result = runner.invoke(app, ["report", "--period", "November"])
    said = " ".join(result.output.split())  # rich wraps long lines at the terminal's width
    assert result.exit_code == 2 and "is not a period: use a month like 2026-11 or an ISO week like 2026-W45" in said


def test_rescore_and_as_of_refuse_malformed_dates():
    result = runner.invoke(app, ["rescore", "--period", "November"])
    assert result.exit_code == 2 and "is not a period" in result.output
    result = runner.invoke(app, ["autoqa", "--as-of", "2nd of December"])
    assert result.exit_code == 2 and "is not a date" in result.output


def test_generate_rejects_bad_options(tmp_path):
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--timezone", "Mars/Base"])
    assert result.exit_code == 2 and "Mars/Base" in result.output


@pytest.mark.slow
def test_demo_command_end_to_end(tmp_path):
    """The README's demo, as the console script a user runs, on a smaller centre."""
    import email
    import subprocess
    import sys
    from pathlib import Path

    import duckdb

    workdir = tmp_path / "demo"
    script = Path(sys.executable).parent / "contactqa"
    done = subprocess.run([str(script), "demo", "--workdir", str(workdir), "--agents", "4", "--days", "2",
                           "--contacts-per-agent-per-day", "5"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Demo done." in done.stdout
    reports = sorted((workdir / "output" / "reports").glob("*.html"))
    assert [r.name for r in reports] == ["monitoring-report-all-en.html", "monitoring-report-all-ru.html"]
    emls = sorted((workdir / "output" / "outbox").rglob("*.eml"))
    assert len(emls) == 4
    message = email.message_from_binary_file(emls[0].open("rb"))
    assert message["To"] and message["Subject"]
    with duckdb.connect(str(workdir / "warehouse" / "contactqa.duckdb"), read_only=True) as con:
        # one closed month (the demo's October) and its ISO week, per agent
        assert con.execute("SELECT count(*) FROM marts.fct_agent_scores WHERE period_type = 'month' AND is_closed")\
            .fetchone()[0] == 4
        # the demo's evaluators worked through their whole queue between the two runs
        picks, evaluated = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_evaluated) FROM marts.fct_monitoring_sample WHERE is_sampled"
        ).fetchone()
        assert picks > 0 and evaluated == picks
        assert con.execute("SELECT min(sample_evaluations) FROM marts.fct_agent_scores").fetchone()[0] > 0


@pytest.mark.slow
def test_ingest_under_a_changed_installation_key_exits_2_and_says_how_to_recover(tmp_path, monkeypatch):
    directory = tmp_path / "landing" / "directory"
    directory.mkdir(parents=True)
    (directory / "agents.csv").write_text("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
                                          "A001,Айгерим Нурланова,a@bank.kz,Карты,s@bank.kz,ru,1001\n", encoding="utf-8")
    project = tmp_path / "contactqa.yml"
    project.write_text("warehouse: wh.duckdb\nsources:\n"
                       "  - {name: directory, type: agent_directory, location: landing/directory, glob: '*.csv'}\n")
    monkeypatch.delenv("CONTACTQA_KEY", raising=False)
    monkeypatch.setenv("CONTACTQA_KEY_FILE", str(tmp_path / "key" / "key"))
    first = runner.invoke(app, ["ingest", "--config", str(project)])
    assert first.exit_code == 0, first.output
    monkeypatch.setenv("CONTACTQA_KEY", "k" * 64)  # another installation's key
    second = runner.invoke(app, ["ingest", "--config", str(project)])
    said = " ".join(second.output.split())
    assert second.exit_code == 2, second.output
    assert "the installation key changed" in said
    assert str(tmp_path / "key" / "key") in "".join(second.output.split())  # where to restore it from (rich may wrap it)


def test_measure_rules_on_a_centres_own_labelled_turns(tmp_path):
    import json

    turns = tmp_path / "turns.jsonl"
    rows = [
        {"lang": "ru", "agent_name": "Айгерим Садыкова", "text": "Здрасьте! Айгерим на связи.",
         "labels": {"greeting": True, "introduction": True}},
        {"lang": "ru", "agent_name": "Айгерим Садыкова", "text": "Одну минуту, проверяю.",
         "labels": {"greeting": False, "rude": False}},
        {"lang": "ru", "agent_name": "Айгерим Садыкова", "text": "Я вам уже, понимаете, третий раз это повторяю.",
         "labels": {"rude": True}},
    ]
    turns.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["measure-rules", str(turns), "--misses"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "| greeting | GREETING | ru | 1 | 1 | 1 | 0 | 1.00 | 1.00 |" in result.output
    assert "| rude | POLITENESS | ru | 1 | 1 | 1 | 0 | 1.00 | 1.00 |" in result.output

    turns.write_text(turns.read_text(encoding="utf-8") + "\nnot json\n", encoding="utf-8")
    bad = runner.invoke(app, ["measure-rules", str(turns)], terminal_width=200)
    assert bad.exit_code == 2 and "turns.jsonl, line 4: not an evaluation row" in " ".join(bad.output.split())
