"""The monitoring cycle a QA team runs, night after night, through the real flows (GX, AutoQA, dbt,
jinja2, yagmail to the outbox), on a small synthetic centre with one week of October:

  2 Nov    October is open (it closes on 4 Nov): nothing is emailed, the report calls it preliminary
  5 Nov    October closed: one feedback email per agent
  5 Nov    the same run again: AutoQA checks nothing, no mart row changes, nothing is emailed
  6 Nov    a late evaluation of one agent's contact: revision 2 for that agent only
  30 Nov   a new scorecard version from 1 November and November's calls: October keeps its
           scores and version, November's contacts are checked by the new one
"""

from __future__ import annotations

import email
import email.policy
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from contactqa.config import DEFAULT_CONFIG_DIR, load_project, write_project_file
from contactqa.synth import GenerateOptions, generate
from flows.build import build_flow
from flows.pipeline import pipeline_flow

pytestmark = pytest.mark.slow

AGENTS = 4
QUOTAS = {"voice": 3, "chat": 2}
MARTS = ("dim_agents", "dim_periods", "fct_contact_scores", "fct_criterion_results", "fct_section_scores",
         "fct_agent_scores", "fct_score_estimates", "fct_monitoring_sample", "fct_sample_plan",
         "fct_error_summary", "fct_error_pareto", "fct_agent_top_errors", "fct_rule_agreement")


def _project(root: Path) -> Path:
    default = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml")
    data = default.config.model_dump(mode="json")
    data.update(warehouse="wh/contactqa.duckdb", output_dir="out")
    data["scorecard"] = [str(path) for path in default.scorecard_paths()]
    for key in ("error_catalogue", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(default.resolve(data[key]))
    plan = yaml.safe_load((DEFAULT_CONFIG_DIR / "sampling.yml").read_text(encoding="utf-8"))
    plan["quotas"] = QUOTAS
    (root / "sampling.yml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    data["sampling"] = "sampling.yml"
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    write_project_file(root / "contactqa.yml", data)
    return root / "contactqa.yml"


def _marts(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {m: sorted(con.execute(f"SELECT * FROM marts.{m}").fetchall(), key=repr) for m in MARTS}


def _sql(path: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    root = tmp_path_factory.mktemp("cycle")
    generate(root, GenerateOptions(seed=11, agents=AGENTS, teams=2, days=5, contacts_per_agent_per_day=6,
                                   start_date=date(2026, 10, 26), timezone="Asia/Almaty"))
    config = str(_project(root))
    project = load_project(config)
    wh = project.warehouse_path
    runs: dict[str, dict] = {}
    state: dict[str, object] = {"root": root, "project": project}

    runs["open"] = pipeline_flow(config, as_of="2026-11-02")
    runs["closed"] = pipeline_flow(config, as_of="2026-11-05")
    state["marts_closed"] = _marts(wh)
    runs["again"] = pipeline_flow(config, as_of="2026-11-05")
    state["marts_again"] = _marts(wh)
    state["full_refresh"] = build_flow(config, as_of="2026-11-05", full_refresh=True)
    state["marts_refreshed"] = _marts(wh)

    # a late evaluation: an evaluator overturns AutoQA on one criterion of one agent's contact
    (contact_id, agent_id, criterion_id, result) = _sql(wh, """
        SELECT contact_id, agent_id, criterion_id, result FROM marts.fct_criterion_results
        WHERE result IN ('pass', 'fail') AND result_source = 'auto' AND NOT is_critical
        ORDER BY contact_id, criterion_id LIMIT 1""")[0]
    flipped = "fail" if result == "pass" else "pass"
    (root / "landing" / "evaluations" / "late.csv").write_text(
        "evaluation_id,contact_id,evaluator_id,criterion_id,result,points,comment,evaluated_at,"
        "calibration_session_id,is_reference\n"
        f"EV-LATE-1,{contact_id},E02,{criterion_id},{flipped},,late review,2026-11-05T16:00:00+05:00,,false\n",
        encoding="utf-8")
    state["late"] = (contact_id, agent_id, criterion_id, flipped)
    state["scores_before_late"] = dict(_sql(wh, "SELECT contact_id, score_pct FROM marts.fct_contact_scores"))
    runs["late"] = pipeline_flow(config, as_of="2026-11-06")

    # a new scorecard version from 1 November (greeting now worth 20), and November's traffic
    old_card = project.scorecard_paths()[0]
    card = yaml.safe_load(old_card.read_text(encoding="utf-8"))
    card["version"], card["effective_from"] = "2026.11-3", "2026-11-01"
    card["sections"][0]["criteria"][0]["weight"] = 20
    (root / "scorecard-2026.11-3.yml").write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    data = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    data["scorecard"] = [str(old_card), "scorecard-2026.11-3.yml"]
    Path(config).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    november = tmp_path_factory.mktemp("november")
    generate(november, GenerateOptions(seed=11, agents=AGENTS, teams=2, days=2, contacts_per_agent_per_day=6,
                                       start_date=date(2026, 11, 9), timezone="Asia/Almaty"))
    for folder, pattern in (("telephony/cdr", "Master*.csv"), ("telephony/transcripts", "*.json*"),
                            ("chats/jsonl", "*.jsonl"), ("actions", "*.csv")):
        for path in (november / "landing" / folder).glob(pattern):
            shutil.copy(path, root / "landing" / folder / path.name.replace(".", "-nov.", 1))
    state["october_scores"] = _sql(wh, """SELECT contact_id, score_pct, scorecard_version FROM marts.fct_contact_scores
                                           WHERE period = '2026-10' ORDER BY contact_id""")
    runs["bumped"] = pipeline_flow(config, as_of="2026-11-30")
    state["runs"] = runs
    return state


def test_an_open_period_is_not_emailed(cycle):
    run = cycle["runs"]["open"]
    assert run["build"]["success"], run["build"]["failures"]
    assert run["feedback"]["written"] == 0
    assert [h["period"] for h in run["feedback"]["held_back"]] == ["2026-10"]
    assert str(run["feedback"]["held_back"][0]["closes_on"]) == "2026-11-04"


def test_a_closed_period_is_emailed_once_per_agent(cycle):
    closed, again = cycle["runs"]["closed"], cycle["runs"]["again"]
    assert closed["feedback"]["written"] == AGENTS
    outbox = cycle["project"].output_dir / "outbox" / "2026-10"
    first_emails = [p for p in outbox.glob("*.eml") if ".r" not in p.stem]  # later revisions are <agent>.rN.eml
    assert len(first_emails) == AGENTS
    assert again["feedback"]["written"] == 0 and again["feedback"]["skipped_already_sent"] == AGENTS


def test_a_run_with_nothing_new_checks_nothing_and_changes_no_mart_row(cycle):
    again = cycle["runs"]["again"]
    assert again["autoqa"]["contacts"] == 0
    assert all(s["files_new"] == 0 for s in again["ingest"])
    before, after = cycle["marts_closed"], cycle["marts_again"]
    for mart in MARTS:
        assert before[mart] == after[mart], f"{mart} changed on a run with nothing new"


def test_a_full_refresh_gives_identical_marts(cycle):
    assert cycle["full_refresh"]["success"], cycle["full_refresh"]["failures"]
    for mart in MARTS:
        assert cycle["marts_refreshed"][mart] == cycle["marts_again"][mart], f"{mart} differs after --full-refresh"


def test_a_late_evaluation_makes_revision_2_for_that_agent_only(cycle):
    late = cycle["runs"]["late"]["feedback"]
    contact_id, agent_id, criterion_id, flipped = cycle["late"]
    assert late["revisions"] == 1 and late["first_sends"] == 0
    assert late["skipped_already_sent"] == AGENTS - 1
    revision = cycle["project"].output_dir / "outbox" / "2026-10" / f"{agent_id}.r2.eml"
    message = email.message_from_bytes(revision.read_bytes(), policy=email.policy.default)
    assert "2" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert contact_id in body and criterion_id in body
    # the contact's score moved, and only that contact's
    scores = dict(_sql(cycle["project"].warehouse_path, "SELECT contact_id, score_pct FROM marts.fct_contact_scores"))
    changed = {c for c, s in cycle["scores_before_late"].items() if scores.get(c) != s}
    assert changed <= {contact_id}


def test_a_scorecard_bump_keeps_closed_periods_and_applies_to_new_contacts(cycle):
    wh = cycle["project"].warehouse_path
    october = _sql(wh, """SELECT contact_id, score_pct, scorecard_version FROM marts.fct_contact_scores
                          WHERE period = '2026-10' ORDER BY contact_id""")
    assert october == cycle["october_scores"]
    assert {v for _, _, v in october if v} == {"2026.12-1"}
    november = _sql(wh, """SELECT DISTINCT scorecard_version FROM marts.fct_contact_scores
                           WHERE period = '2026-11' AND scorecard_version IS NOT NULL""")
    assert november == [("2026.11-3",)]
    new_contacts = _sql(wh, "SELECT count(*) FROM marts.fct_contact_scores WHERE period = '2026-11'")[0][0]
    # every new contact was checked (an October contact whose customer came back may be re-checked too,
    # by its own version: the scores above did not move)
    assert cycle["runs"]["bumped"]["autoqa"]["contacts"] >= new_contacts > 0


def test_the_random_sample_meets_its_quota_with_answered_contacts_only(cycle):
    wh = cycle["project"].warehouse_path
    strata = _sql(wh, """SELECT channel, quota, random_picks, contacts_eligible FROM marts.fct_sample_plan
                         WHERE sample_period = '2026-10'""")
    assert len(strata) == AGENTS * len(QUOTAS)
    for channel, quota, picks, eligible in strata:
        assert quota == QUOTAS[channel]
        assert picks == min(quota, eligible)
    assert _sql(wh, """SELECT count(*) FROM marts.fct_monitoring_sample m JOIN marts.fct_contact_scores c USING (contact_id)
                       WHERE c.contact_status <> 'answered'""")[0][0] == 0
    # the picks are shared out evenly among the plan's evaluators
    loads = [n for (n,) in _sql(wh, """SELECT count(*) FROM marts.fct_monitoring_sample
                                     WHERE is_sampled AND sample_period = '2026-10' GROUP BY assigned_evaluator_id""")]
    assert len(loads) == 4 and max(loads) - min(loads) <= 1
    kinds = dict(_sql(wh, "SELECT sample_type, count(*) FROM marts.fct_monitoring_sample GROUP BY 1"))
    assert kinds.get("targeted", 0) <= 3 * AGENTS * 2  # capped per agent x period


def test_reports_and_emails_show_local_time_and_sufficiency(cycle):
    closed = cycle["runs"]["closed"]
    html = Path(closed["reports"][0]).read_text(encoding="utf-8")
    assert "Asia/Almaty" in html
    eml = next((cycle["project"].output_dir / "outbox" / "2026-10").glob("*.eml"))
    body = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()
    assert "Asia/Almaty" in body
    assert "needed" in body.lower() or "нужно" in body.lower()
