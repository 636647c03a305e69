"""The monitoring report, rendered from the marts dbt built for a small centre (pipeline_warehouse.py)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from contactqa.reporting import render_report
from contactqa.reporting.data import MartsMissingError
from pipeline_warehouse import CARD, IIN, MAILBOX, PHONE, sql

NOVEMBER = "2026-11"


@pytest.fixture(scope="module")
def warehouse(pipeline_centre) -> Path:
    return pipeline_centre.path


@pytest.fixture(scope="module")
def report_en(warehouse, tmp_path_factory) -> str:
    out = render_report(warehouse, tmp_path_factory.mktemp("out"), period=NOVEMBER)
    assert out.name == "monitoring-report-2026-11-en.html"
    return out.read_text(encoding="utf-8")


def _agent_scores(warehouse: Path, period: str) -> list[tuple]:
    return sql(warehouse, "SELECT full_name, score_pct, contacts_scored FROM marts.fct_agent_scores "
                          "WHERE period_type = 'month' AND period = ?", [period])


def test_report_shows_every_agent_with_their_score(report_en, warehouse):
    agents = _agent_scores(warehouse, NOVEMBER)
    assert len(agents) == 4
    for name, score, _ in agents:
        assert name.replace("'", "&#39;") in report_en
        assert f"{score:.1f}%" in report_en
    assert "O&#39;Neill" in report_en and "O'Neill" not in report_en  # the English agent's surname, escaped
    assert "Quality monitoring report" in report_en
    assert "November 2026" in report_en
    for heading in ("At a glance", "Agent scores", "Errors by the catalogue", "Criterion pass rates",
                    "Findings with evidence", "Monitoring sample", "Data quality"):
        assert heading in report_en


def test_headline_numbers_match_the_marts(report_en, warehouse):
    ((scored, sample),) = sql(warehouse, """
        SELECT (SELECT count(*) FROM marts.fct_contact_scores WHERE period = ? AND score_pct IS NOT NULL),
               (SELECT count(*) FROM marts.fct_monitoring_sample WHERE period = ? AND is_sampled)""",
                              [NOVEMBER, NOVEMBER])
    assert scored > 0 and sample > 0
    assert re.search(rf'<div class="value">{scored}</div><div class="label">contacts monitored', report_en)
    assert re.search(rf'<div class="value">{sample}</div><div class="label">contacts in the monitoring sample',
                     report_en)


def test_quotes_are_masked_and_escaped(report_en):
    assert CARD not in report_en and "**** **** **** 5671" in report_en
    assert IIN not in report_en and "************" in report_en
    assert "234-56-78" not in report_en and "+7 (***) ***-**-78" in report_en
    assert "<script>alert" not in report_en
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in report_en
    assert "s***@bank.kz" in report_en and MAILBOX not in report_en
    # evidence comes with speaker, time offset (m:ss) and the regulation clause
    assert re.search(r"Said by: agent · at \d+:\d\d · clause <span class=\"mono\">SR-\d\.\d</span>", report_en)


def test_page_is_self_contained(report_en):
    assert "<script" not in report_en.lower()
    assert "<link" not in report_en.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report_en)
    assert "@import" not in report_en and "url(" not in report_en
    assert report_en.count("<svg") >= 1


def test_chart_has_a_bar_and_ci_whisker_per_agent(report_en, warehouse):
    agents = _agent_scores(warehouse, NOVEMBER)
    svg = report_en[report_en.index("<svg"): report_en.index("</svg>")]
    assert svg.count("<rect") == len(agents)
    assert svg.count('stroke="#111827" stroke-width="1.4"') == len(agents)  # whisker groups


def test_russian_report_is_in_russian(warehouse, tmp_path):
    html = render_report(warehouse, tmp_path, language="ru", period=NOVEMBER).read_text(encoding="utf-8")
    assert '<html lang="ru">' in html
    for text in ("Отчёт о мониторинге качества", "ноябрь 2026", "Оценки операторов", "Ошибки по классификатору",
                 "Нарушения и доказательства", "Выборка для прослушивания", "Качество исходных данных",
                 "Нет приветствия", "Оператор поприветствовал клиента"):
        assert text in html
    for english in ("At a glance", "Agent scores", "Findings with evidence", "Said by"):
        assert english not in html
    assert re.search(r"\d+,\d\u00a0%", html)  # Russian number format: 87,5 %


def test_all_periods_report_lists_each_period(warehouse, tmp_path):
    html = render_report(warehouse, tmp_path).read_text(encoding="utf-8")
    assert (tmp_path / "monitoring-report-all-en.html").exists()
    months = [p for (p,) in sql(warehouse, "SELECT DISTINCT period FROM marts.fct_agent_scores "
                                           "WHERE period_type = 'month' ORDER BY 1")]
    assert months == ["2026-09", "2026-10", "2026-11"]
    assert "September 2026" in html and "October 2026" in html and "November 2026" in html
    assert html.count("<svg") == len(months)


def test_missing_ingest_tables_are_tolerated(pipeline_centre, tmp_path):
    # marts loaded by another tool: no ingest history beside them
    warehouse = pipeline_centre.copy_to(tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE raw.ingest_runs")
        con.execute("DROP TABLE raw.quarantine")
    html = render_report(warehouse, tmp_path / "out", period=NOVEMBER).read_text(encoding="utf-8")
    assert "No ingest records in this warehouse." in html


def test_data_quality_section_shows_loads_and_reasons(report_en, warehouse):
    section = report_en[report_en.index('id="data-quality"'):]
    ((rows_read, quarantined),) = sql(warehouse, "SELECT sum(rows_read), sum(rows_quarantined) FROM raw.ingest_runs")
    assert quarantined > 0
    assert f"{rows_read:,} rows read" in section
    # the planted bad rows: a chat line that is not JSON, an evaluation with an unknown result
    assert "invalid JSON" in section and "chats-planted.jsonl" in section
    assert "result must be pass, fail, na or unusable" in section and "evaluations-planted.csv" in section


def test_custom_schema_and_clear_error_without_marts(pipeline_centre, tmp_path):
    # the same dbt-built marts, where a centre's profile put them: another schema
    warehouse = pipeline_centre.copy_to(tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA analytics_marts")
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'marts'").fetchall():
            con.execute(f"CREATE TABLE analytics_marts.{table} AS SELECT * FROM marts.{table}")
        con.execute("DROP SCHEMA marts CASCADE")
    assert render_report(warehouse, tmp_path / "o", period=NOVEMBER, marts_schema="analytics_marts").exists()
    with pytest.raises(MartsMissingError, match="marts.*contactqa build"):
        render_report(warehouse, tmp_path / "o")
    with pytest.raises(ValueError, match="schema name"):
        render_report(warehouse, tmp_path / "o", marts_schema="x; DROP TABLE y")


def test_unknown_language_falls_back_to_english(warehouse, tmp_path):
    out = render_report(warehouse, tmp_path, language="kk", period=NOVEMBER)
    assert out.name == "monitoring-report-2026-11-en.html"
    assert "Quality monitoring report" in out.read_text(encoding="utf-8")


def test_a_centre_can_override_a_template(warehouse, tmp_path):
    override = tmp_path / "templates" / "en"
    override.mkdir(parents=True)
    (override / "report.html.j2").write_text(
        "<h1>{{ title or 'Our standard' }}</h1>{% for f in findings %}<q>{{ f.evidence_quote|mask }}</q>{% endfor %}",
        encoding="utf-8")
    html = render_report(warehouse, tmp_path / "o", period=NOVEMBER, title="<Cards> QA",
                         templates_dir=tmp_path / "templates").read_text(encoding="utf-8")
    assert html.startswith("<h1>&lt;Cards&gt; QA</h1>")
    assert "&lt;script&gt;" in html and "<script>" not in html  # autoescape holds in overrides
    assert PHONE not in html
