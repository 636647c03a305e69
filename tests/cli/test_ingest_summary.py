"""`contactqa ingest` as a person reads it (issue 9, item 12): rows per reason, legs and calls, full
names and reasons at any width, and exit 1 whenever something was quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from contactqa.cli import app
from contactqa.config import write_project_file

runner = CliRunner()
LONG_NAME = "asterisk-cdr-from-the-almaty-call-centre-pbx-number-two"
DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Aigerim Nurlanova,aigerim@bank.kz,Cards,sup@bank.kz,en,1001\n")
TRUNK = '"","77011234567","700","from-trunk","","PJSIP/trunk-00000001"'
CDR = "\n".join([
    # one call in two legs (linkedid 1762059600.10): 1001 did not pick up, then did
    f'{TRUNK},"PJSIP/1001-00000002","Queue","cards","2026-10-05 10:00:00","","2026-10-05 10:00:15",15,0,'
    '"NO ANSWER","DOCUMENTATION","1762059600.10","","","1762059600.10",1',
    f'{TRUNK},"PJSIP/1001-00000003","Queue","cards","2026-10-05 10:00:15","2026-10-05 10:00:20","2026-10-05 10:04:20",'
    '245,240,"ANSWERED","DOCUMENTATION","1762059600.11","","","1762059600.10",2',
    # a call of its own
    f'{TRUNK},"PJSIP/1001-00000005","Queue","cards","2026-10-05 11:00:00","2026-10-05 11:00:04","2026-10-05 11:02:04",'
    '124,120,"ANSWERED","DOCUMENTATION","1762063200.20","","","1762063200.20",1',
    # answered on an extension nobody in the directory has
    f'{TRUNK},"PJSIP/1999-00000007","Queue","cards","2026-10-05 12:00:00","2026-10-05 12:00:04","2026-10-05 12:02:04",'
    '124,120,"ANSWERED","DOCUMENTATION","1762066800.30","","","1762066800.30",1',
    # and another
    f'{TRUNK},"PJSIP/1999-00000009","Queue","cards","2026-10-05 13:00:00","2026-10-05 13:00:04","2026-10-05 13:02:04",'
    '124,120,"ANSWERED","DOCUMENTATION","1762070400.40","","","1762070400.40",1',
]) + "\n"


def project(root: Path, cdr: str | None = CDR, actions: str | None = None) -> Path:
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "agents.csv").write_text(DIRECTORY, encoding="utf-8")
    sources = [{"name": "directory", "type": "agent_directory", "location": "dir"}]
    if cdr is not None:
        (root / "cdr").mkdir()
        (root / "cdr" / "Master.csv").write_text(cdr, encoding="utf-8")
        sources.append({"name": LONG_NAME, "type": "asterisk_cdr", "location": "cdr"})
    if actions is not None:
        (root / "actions").mkdir()
        (root / "actions" / "actions.csv").write_text(actions, encoding="utf-8")
        sources.append({"name": "actions", "type": "agent_actions", "location": "actions"})
    write_project_file(root / "contactqa.yml", {"warehouse": "wh.duckdb", "timezone": "Asia/Almaty",
                                                "sources": sources})
    return root / "contactqa.yml"


@pytest.mark.slow
def test_summary_counts_rows_per_reason_legs_and_calls_and_cuts_nothing(tmp_path):
    # a whole file the connector cannot read: a header without the columns agent actions need
    config = project(tmp_path, actions="when;who;what\n2026-10-05;A001;call\n")
    result = runner.invoke(app, ["ingest", "--config", str(config)], terminal_width=80)
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output  # something was quarantined: a person should look
    # the full source name, legs and the calls they made (two legs of one call, then two calls)
    [cdr] = [line for line in lines if LONG_NAME in line]
    assert "read 5 call legs: 3 loaded (as 2 calls), 2 quarantined" in cdr
    # rows per reason (two calls, one reason each), with the reason in full
    reason = next(i for i, line in enumerate(lines) if "the agent is not in the agent directory" in line)
    assert lines[reason].split()[0] == "2"
    assert "quarantined call legs per reason" in lines[reason - 1]
    # and what to do about it, from its first row
    assert "line 4:" in lines[reason + 1] and "list it in the source's option queue_numbers" in lines[reason + 1]
    # a file quarantined whole is said, with its path in full
    assert any("quarantined whole" in line and str(tmp_path / "actions" / "actions.csv") in line for line in lines)
    assert "3 rows quarantined in 2 files" in result.output


def test_exit_codes_are_documented_in_help():
    result = runner.invoke(app, ["ingest", "--help"], terminal_width=200)
    said = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "Exit codes: 0 every new record loaded" in said and "1 a person should look" in said
    assert "2 the configuration is wrong" in said


@pytest.mark.slow
def test_a_clean_run_exits_0(tmp_path):
    config = project(tmp_path, cdr=CDR.splitlines()[0] + "\n" + CDR.splitlines()[1] + "\n")
    result = runner.invoke(app, ["ingest", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "read 2 call legs: 2 loaded (as 1 call), 0 quarantined" in result.output
    again = runner.invoke(app, ["ingest", "--config", str(config)])  # nothing new: still clean
    assert again.exit_code == 0, again.output
