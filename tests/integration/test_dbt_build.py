"""dbt build on a real DuckDB warehouse: the scoring and sampling marts a QA team reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from contactqa.marts import DbtResult, run_dbt_build
from contactqa.warehouse import column_names, connect
from autoqa_records import record_checks

MAY = datetime(2024, 5, 6, 9, 0)

# scorecard v1: voice contacts are judged on 50 points (+ a 10-point manual criterion),
# chat contacts on 40 (no hold etiquette in chat).
CRITERIA = [
    # section, criterion, weight, critical, channels, manual, error code
    ("OPEN", "GREETING", 10.0, False, "voice,chat", False, "E_GREET"),
    ("OPEN", "ID_VERIFY", 20.0, False, "voice, chat", False, "E_ID"),
    ("TALK", "HOLD", 10.0, False, "voice", False, "E_HOLD"),
    ("TALK", "POLITENESS", 10.0, True, "voice,chat", False, "E_RUDE"),
    ("CLOSE", "RESOLUTION", 10.0, False, "voice,chat", True, "E_RES"),
    ("CLOSE", "SIGNATURE", 5.0, False, "email", False, "E_SIGN"),
]
ERRORS = [
    ("E_GREET", "No greeting", "Нет приветствия", "script", "non_critical"),
    ("E_ID", "Identity not verified", "Личность не проверена", "security", "critical_compliance"),
    ("E_HOLD", "Hold without warning", "Удержание без предупреждения", "script", "non_critical"),
    ("E_RUDE", "Rude to the customer", "Грубость", "conduct", "critical_customer"),
    ("E_RES", "Not resolved", "Вопрос не решён", "resolution", "critical_business"),
    ("E_SIGN", "No signature", "Нет подписи", "script", "non_critical"),
]
ALL_PASS = {"GREETING": "pass", "ID_VERIFY": "pass", "HOLD": "pass", "POLITENESS": "pass", "RESOLUTION": "manual"}

# contact -> (agent, channel, started_at, AutoQA results per criterion)
CONTACTS: dict[str, tuple[str, str, datetime, dict[str, str]]] = {
    # one non-critical fail of weight 10 out of 50 (RESOLUTION still waits for a human)
    "C1": ("A1", "voice", MAY, {**ALL_PASS, "GREETING": "fail"}),
    # a critical failure zeroes the score
    "C2": ("A1", "voice", MAY + timedelta(hours=1), {**ALL_PASS, "POLITENESS": "fail"}),
    # AutoQA failed the greeting; the evaluator passed it (and judged RESOLUTION)
    "C3": ("A1", "voice", MAY + timedelta(hours=2), {**ALL_PASS, "GREETING": "fail"}),
    # unverifiable and na are out of the denominator: 10 earned of 20 possible
    "C4": ("A1", "voice", MAY + timedelta(hours=3),
           {**ALL_PASS, "GREETING": "fail", "ID_VERIFY": "unverifiable", "HOLD": "na"}),
    # AutoQA flagged rudeness, the evaluator overturned it: no critical error, still sampled
    "C7": ("A1", "voice", MAY + timedelta(hours=4), {**ALL_PASS, "POLITENESS": "fail"}),
    # a chat: HOLD does not apply even though AutoQA (wrongly) reported it
    "C5": ("A2", "chat", MAY, {**ALL_PASS, "HOLD": "fail"}),
    # AutoQA has not run on this one yet: nothing scored
    "C6": ("A2", "chat", MAY + timedelta(hours=1), {}),
    # June: a separate period for A1
    "C9": ("A1", "voice", datetime(2024, 6, 3, 10, 0), ALL_PASS),
}
# a busy agent: 20 clean voice calls to draw a sample from
CONTACTS.update(
    {f"B{i:02d}": ("A3", "voice", MAY + timedelta(minutes=15 * i), ALL_PASS) for i in range(20)}
)

EVALUATIONS = [
    # evaluation, contact, criterion, result, evaluated_at, calibration session
    ("EV1", "C3", "GREETING", "pass", MAY + timedelta(days=1), None),
    ("EV2", "C3", "RESOLUTION", "pass", MAY + timedelta(days=1), None),
    # a calibration exercise on C3 must not change its score
    ("EV3", "C3", "ID_VERIFY", "fail", MAY + timedelta(days=2), "CAL-1"),
    ("EV4", "C3", "HOLD", "fail", MAY + timedelta(days=2), "CAL-1"),
    ("EV7", "C3", "GREETING", "fail", MAY + timedelta(days=5), "CAL-1"),
    # an older production verdict, superseded by a newer one
    ("EV5", "C7", "POLITENESS", "fail", MAY + timedelta(days=1), None),
    ("EV6", "C7", "POLITENESS", "pass", MAY + timedelta(days=3), ""),
]

AGENTS = [
    ("A1", "Aigerim Sadykova", "a1@example.com", "Team North", "north.lead@example.com", "ru"),
    ("A2", "Bob Stone", "a2@example.com", "Team South", "south.lead@example.com", "en"),
    ("A3", "Chen Li", "a3@example.com", "Team North", "north.lead@example.com", "en"),
]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    names = column_names(table)
    placeholders = ", ".join("?" for _ in names)
    con.executemany(
        f"INSERT INTO raw.{table} VALUES ({placeholders})",
        [[row.get(name) for name in names] for row in rows],
    )


def build_warehouse(path: Path) -> None:
    with connect(path) as con:
        _insert(con, "agents", [
            dict(agent_id=a, full_name=n, email=e, team=t, supervisor_email=s, locale=loc, extension="10" + a[-1])
            for a, n, e, t, s, loc in AGENTS
        ])
        _insert(con, "contacts", [
            dict(contact_id=c, channel=ch, source_system="test", agent_id=a, topic="billing",
                 direction="inbound", language="ru", started_at=at, ended_at=at + timedelta(minutes=5),
                 duration_s=300.0, talk_s=280.0, hold_s=20.0, csat=4)
            for c, (a, ch, at, _) in CONTACTS.items()
        ])
        _insert(con, "evaluations", [
            dict(evaluation_id=e, contact_id=c, evaluator_id="QA1", criterion_id=k, result=r,
                 evaluated_at=at, calibration_session_id=cal, is_reference=False)
            for e, c, k, r, at, cal in EVALUATIONS
        ])
        con.executemany(
            "INSERT INTO autoqa.scorecard_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [("v1", s, s.title(), k, k.title(), k.lower(), w, crit, ch, manual,
              None if manual else "phrase", code, f"REG-{k}")
             for s, k, w, crit, ch, manual, code in CRITERIA],
        )
        con.executemany("INSERT INTO autoqa.error_catalogue VALUES (?, ?, ?, ?, ?)", ERRORS)
        findings = []
        for contact, (_, _, at, results) in CONTACTS.items():
            for criterion, result in results.items():
                findings.append((contact, criterion, f"R_{criterion}", "phrase", result,
                                 "hello" if result != "manual" else None, "agent", 1200, None,
                                 f"REG-{criterion}", "v1", "run-1", at + timedelta(hours=6)))
        # an earlier AutoQA run that said C1's greeting passed: the latest run counts
        findings.append(("C1", "GREETING", "R_GREETING", "phrase", "pass", None, None, None, None,
                         "REG-GREETING", "v1", "run-0", MAY - timedelta(days=1)))
        con.executemany(
            "INSERT INTO autoqa.findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings
        )
        record_checks(con)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtResult]:
    """One warehouse, one full `dbt build` for the whole module (dbt takes seconds)."""
    path = tmp_path_factory.mktemp("warehouse") / "contactqa.duckdb"
    build_warehouse(path)
    return path, run_dbt_build(path, unit_tests=True)


@pytest.fixture(scope="module")
def warehouse(built: tuple[Path, DbtResult]) -> Path:
    path, result = built
    assert result.success, result.failures
    return path


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def contact_scores(path: Path) -> dict[str, tuple]:
    rows = query(
        path,
        "select contact_id, score_pct, has_critical_error, points_possible, points_earned, "
        "unverifiable_criteria_count, pending_manual_count, deductions "
        "from marts.fct_contact_scores",
    )
    return {row[0]: row[1:] for row in rows}


def sample(path: Path) -> set[tuple[str, str]]:
    return set(query(path, "select contact_id, sample_type from marts.fct_monitoring_sample where is_sampled"))


PLAN = {"seed": "contactqa", "period": "month", "quotas": {"voice": 2, "chat": 2, "email": 0},
        "spread_over_days": True, "margin_of_error_pct": 10,
        "targeted": {"enabled": True, "cap_per_agent": 3, "triggers": {"autoqa_critical": True}},
        "exclusions": {"min_talk_seconds": 0, "queues": [], "customer_keys": []},
        "assignment": {"evaluators": [], "avoid_own_team": False}}


def test_build_succeeds_and_keeps_the_repo_clean(built: tuple[Path, DbtResult]) -> None:
    path, result = built
    assert result.success, result.failures
    assert result.failures == []
    assert result.tests_failed == 0
    assert result.models_built >= 30  # staging, intermediate and marts
    assert result.tests_passed > 150  # data tests and the YAML unit tests
    # dbt's target/ and logs/ go next to the warehouse, not into the repo
    assert result.log_path == path.parent / "dbt" / "logs" / "dbt.log"
    assert result.log_path.exists()
    assert (path.parent / "dbt" / "target" / "run_results.json").exists()
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    assert not (project / "target").exists() and not (project / "logs").exists()


def test_marts_have_the_columns_reports_read(warehouse: Path) -> None:
    expected = {
        "dim_agents": ["agent_id", "full_name", "email", "team", "supervisor_email", "locale", "extension"],
        "fct_contact_scores": [
            "contact_id", "agent_id", "team", "channel", "direction", "topic", "language", "started_at",
            "period", "scorecard_version", "points_possible", "points_earned", "score_pct",
            "has_critical_error", "failed_criteria_count", "unverifiable_criteria_count",
            "pending_manual_count", "deductions", "is_sampled",
        ],
        "fct_agent_scores": [
            "agent_id", "period_type", "period", "full_name", "email", "team", "supervisor_email", "locale",
            "contacts_offered", "contacts_answered", "contacts_scored", "contacts_with_critical_error",
            "score_pct", "score_ci_low_pct", "score_ci_high_pct", "sample_evaluations", "sample_score_pct",
            "sample_ci_low_pct", "sample_ci_high_pct", "evaluations_needed", "is_sample_sufficient",
            "previous_score_pct", "score_change_pct", "is_closed", "failed_criteria_count",
        ],
        "fct_monitoring_sample": ["contact_id", "agent_id", "channel", "period", "sample_type", "sample_status",
                                  "sample_reason", "sample_rank", "assigned_evaluator_id"],
        "dim_periods": ["period_type", "period", "starts_on", "ends_on", "closes_on", "is_closed"],
        "fct_score_estimates": ["period_type", "period", "dimension", "dimension_value", "score_pct",
                                "sample_score_pct", "evaluations_needed"],
        "fct_section_scores": ["contact_id", "section_id", "points_possible", "points_earned", "section_score_pct"],
        "fct_error_pareto": ["period_type", "period", "team", "error_code", "share_pct", "cumulative_share_pct"],
        "fct_agent_top_errors": ["period_type", "period", "agent_id", "error_rank", "error_code"],
        "fct_sample_plan": ["agent_id", "sample_period", "channel", "quota", "random_picks", "shortfall"],
        "fct_error_summary": [
            "period", "agent_id", "team", "error_code", "error_title_en", "error_title_ru",
            "error_group", "severity", "occurrences",
        ],
        "fct_criterion_results": [
            "contact_id", "criterion_id", "agent_id", "channel", "contact_started_at", "period",
            "section_id", "criterion_title_en", "criterion_title_ru", "weight", "is_critical", "result",
            "result_source", "auto_result", "manual_result", "is_agreement", "evidence_quote",
            "evidence_speaker", "evidence_offset_ms", "evidence_detail", "regulation_ref", "error_code",
            "error_title_en", "error_title_ru", "error_group", "severity", "scorecard_version",
        ],
    }
    for table, columns in expected.items():
        actual = [
            name for (name,) in query(
                warehouse,
                "select column_name from information_schema.columns "
                f"where table_schema = 'marts' and table_name = '{table}' order by ordinal_position",
            )
        ]
        assert set(columns) <= set(actual), (table, set(columns) - set(actual))


def test_contact_scores_follow_the_scorecard_rules(warehouse: Path) -> None:
    scores = contact_scores(warehouse)
    # score, critical, possible, earned, unverifiable, pending, deductions
    assert scores["C1"] == (80.0, False, 50.0, 40.0, 0, 1, "GREETING −10")
    assert scores["C2"] == (0.0, True, 50.0, 40.0, 0, 1, "POLITENESS (critical)")
    # evaluator overrode AutoQA's greeting fail and judged RESOLUTION; calibration rows ignored
    assert scores["C3"] == (100.0, False, 60.0, 60.0, 0, 0, "")
    # unverifiable ID_VERIFY and na HOLD are out of the denominator
    assert scores["C4"] == (50.0, False, 20.0, 10.0, 1, 1, "GREETING −10")
    # human overturned AutoQA's rudeness flag, and the latest production verdict counts
    assert scores["C7"] == (100.0, False, 50.0, 50.0, 0, 1, "")
    # chat: HOLD does not apply even though AutoQA reported a fail for it
    assert scores["C5"] == (100.0, False, 40.0, 40.0, 0, 1, "")
    # AutoQA has not run: nothing scored, no score (not 0, not 100)
    assert scores["C6"] == (None, False, 0.0, 0.0, 3, 1, "")


def test_criterion_results_show_where_each_result_came_from(warehouse: Path) -> None:
    rows = {
        (c, k): rest
        for c, k, *rest in query(
            warehouse,
            "select contact_id, criterion_id, result, result_source, auto_result, manual_result, "
            "is_agreement, error_code, severity from marts.fct_criterion_results "
            "where contact_id in ('C1', 'C3', 'C5')",
        )
    }
    assert rows[("C3", "GREETING")] == ["pass", "manual", "fail", "pass", False, "E_GREET", "non_critical"]
    assert rows[("C3", "RESOLUTION")][:4] == ["pass", "manual", "manual", "pass"]
    assert rows[("C3", "ID_VERIFY")][:4] == ["pass", "auto", "pass", None]  # calibration 'fail' ignored
    assert rows[("C3", "HOLD")][:4] == ["pass", "auto", "pass", None]
    assert rows[("C1", "GREETING")][:5] == ["fail", "auto", "fail", None, None]  # latest AutoQA run
    assert rows[("C1", "RESOLUTION")][:2] == ["manual_pending", "auto"]
    assert ("C5", "HOLD") not in rows and ("C5", "SIGNATURE") not in rows


def test_agent_scores_carry_a_confidence_interval(warehouse: Path) -> None:
    rows = {
        (agent, period): rest
        for agent, period, *rest in query(
            warehouse,
            "select agent_id, period, full_name, team, contacts_scored, contacts_with_critical_error, "
            "score_pct, score_ci_low_pct, score_ci_high_pct, failed_criteria_count "
            "from marts.fct_agent_scores where period_type = 'month'",
        )
    }
    assert set(rows) == {("A1", "2024-05"), ("A1", "2024-06"), ("A2", "2024-05"), ("A3", "2024-05")}
    # 80, 0, 100, 50, 100: mean 66.0, t(4) = 2.776 -> 66.0 ± 52.4, clipped at 100
    assert rows[("A1", "2024-05")] == ["Aigerim Sadykova", "Team North", 5, 1, 66.0, 13.6, 100.0, 3]
    assert rows[("A1", "2024-06")][2:7] == [1, 0, 100.0, None, None]  # one contact: no interval
    assert rows[("A2", "2024-05")][2:7] == [1, 0, 100.0, None, None]  # C6 is not scored
    assert rows[("A3", "2024-05")][2:7] == [20, 0, 100.0, 100.0, 100.0]


def test_error_summary_counts_final_failures(warehouse: Path) -> None:
    rows = query(
        warehouse,
        "select period, agent_id, team, error_code, error_title_ru, severity, occurrences "
        "from marts.fct_error_summary order by error_code",
    )
    # C3's greeting and C7's rudeness were overturned by evaluators; C5's chat HOLD does not apply
    assert rows == [
        ("2024-05", "A1", "Team North", "E_GREET", "Нет приветствия", "non_critical", 2),
        ("2024-05", "A1", "Team North", "E_RUDE", "Грубость", "critical_customer", 1),
    ]


def test_monitoring_sample_meets_quotas_and_keeps_critical_contacts_apart(warehouse: Path) -> None:
    picked = dict(sample(warehouse))
    # AutoQA's critical flags are sampled (targeted, unless the random draw took them first), even
    # the one a human overturned: the trigger is AutoQA's verdict
    assert {"C2", "C7"} <= set(picked)
    per_stratum = query(
        warehouse,
        "select agent_id, period, channel, count(*) from marts.fct_monitoring_sample "
        "where sample_type = 'random' and is_sampled group by all order by all",
    )
    # quota 2 per agent x month x channel; a stratum with fewer contacts gives what it has
    assert per_stratum == [
        ("A1", "2024-05", "voice", 2), ("A1", "2024-06", "voice", 1),
        ("A2", "2024-05", "chat", 2), ("A3", "2024-05", "voice", 2),
    ]
    targeted = {c for c, kind in picked.items() if kind == "targeted"}
    assert targeted and targeted <= {"C2", "C7"}  # only contacts a trigger fired on
    flagged = {c for (c,) in query(warehouse, "select contact_id from marts.fct_contact_scores where is_sampled")}
    assert flagged == set(picked)


def test_monitoring_sample_is_reproducible_by_seed(warehouse: Path) -> None:
    first = sample(warehouse)
    sampling = "int_contacts_sampled+"

    again = run_dbt_build(warehouse, select=sampling, vars={"sampling_plan": PLAN})
    assert again.success, again.failures
    assert sample(warehouse) == first

    reseeded = run_dbt_build(warehouse, select=sampling, vars={"sampling_plan": {**PLAN, "seed": "another-quarter"}})
    assert reseeded.success, reseeded.failures
    second = sample(warehouse)
    assert {c for c, kind in second if kind == "random"} != {c for c, kind in first if kind == "random"}
    assert query(warehouse, "select distinct sample_seed from marts.fct_monitoring_sample") == [("another-quarter",)]
    # the module's other tests hold for any seed, so the warehouse is left reseeded


def test_duplicate_contacts_fail_the_build(tmp_path: Path) -> None:
    path = tmp_path / "broken.duckdb"
    build_warehouse(path)
    with duckdb.connect(str(path)) as con:
        con.execute("insert into raw.contacts select * from raw.contacts where contact_id = 'C1'")

    result = run_dbt_build(path)

    assert not result.success
    assert result.tests_failed >= 1
    assert any("unique_stg_raw__contacts_contact_id" in failure for failure in result.failures), result.failures
    # nothing downstream of the bad staging model was built on top of it (only the models that do not
    # read contacts, such as the AutoQA staging models)
    assert result.models_built < 20


def test_a_warehouse_from_before_the_incremental_marts_is_rebuilt_once(tmp_path: Path) -> None:
    """An upgrade: fct_criterion_results built as a plain table (no inputs_key) is rebuilt in full
    rather than failing the incremental build."""
    path = tmp_path / "old.duckdb"
    build_warehouse(path)
    assert run_dbt_build(path, select="+fct_criterion_results stg_raw__agents").success
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE marts.fct_criterion_results DROP COLUMN inputs_key")
    result = run_dbt_build(path, select="+fct_criterion_results stg_raw__agents")
    assert result.success, result.failures
    columns = [name for (name,) in query(path, "select column_name from information_schema.columns "
                                               "where table_name = 'fct_criterion_results'")]
    assert "inputs_key" in columns
