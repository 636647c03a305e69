"""The monitoring report, rendered from a small warehouse with the marts' exact columns."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from contactqa.reporting import render_report
from contactqa.reporting.data import MartsMissingError
from contactqa.reporting.example import create_example_marts
from contactqa.reporting.templates import environment, format_mmss, get_template


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return create_example_marts(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def report_en(warehouse, tmp_path_factory) -> str:
    out = render_report(warehouse, tmp_path_factory.mktemp("out"), period="2026-11")
    assert out.name == "monitoring-report-2026-11-en.html"
    return out.read_text(encoding="utf-8")


def _agent_scores(warehouse: Path, period: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT full_name, score_pct, contacts_scored FROM marts.fct_agent_scores WHERE period = ?", [period]
        ).fetchall()
    finally:
        con.close()


def test_report_shows_every_agent_with_their_score(report_en, warehouse):
    for name, score, _ in _agent_scores(warehouse, "2026-11"):
        assert name.replace("'", "&#39;") in report_en
        assert f"{score:.1f}%" in report_en
    assert "Quality monitoring report" in report_en
    assert "November 2026" in report_en
    for heading in ("At a glance", "Agent scores", "Errors by the catalogue", "Criterion pass rates",
                    "Findings with evidence", "Monitoring sample", "Data quality"):
        assert heading in report_en


def test_headline_numbers_match_the_marts(report_en, warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    scored, sample = con.execute("""
        SELECT (SELECT count(*) FROM marts.fct_contact_scores WHERE period = '2026-11' AND score_pct IS NOT NULL),
               (SELECT count(*) FROM marts.fct_monitoring_sample WHERE period = '2026-11')""").fetchone()
    con.close()
    assert re.search(rf'<div class="value">{scored}</div><div class="label">contacts monitored', report_en)
    assert re.search(rf'<div class="value">{sample}</div><div class="label">contacts in the monitoring sample',
                     report_en)


def test_quotes_are_masked_and_escaped(report_en):
    assert "4400 4300 1234 5678" not in report_en
    assert "900101300123" not in report_en
    assert "**** **** **** 5678" in report_en
    assert "************" in report_en
    assert "<script>alert" not in report_en
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in report_en
    assert "s***@bank.kz" in report_en and "support@bank.kz" not in report_en
    # evidence comes with speaker, time offset (m:ss) and the regulation clause
    assert re.search(r"Said by: agent · at \d+:\d\d · clause <span class=\"mono\">SR-\d\.\d</span>", report_en)


def test_page_is_self_contained(report_en):
    assert "<script" not in report_en.lower()
    assert "<link" not in report_en.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", report_en)
    assert "@import" not in report_en and "url(" not in report_en
    assert report_en.count("<svg") >= 1


def test_chart_has_a_bar_and_ci_whisker_per_agent(report_en, warehouse):
    agents = _agent_scores(warehouse, "2026-11")
    svg = report_en[report_en.index("<svg"): report_en.index("</svg>")]
    assert svg.count("<rect") == len(agents)
    assert svg.count('stroke="#111827" stroke-width="1.4"') == len(agents)  # whisker groups


def test_russian_report_is_in_russian(warehouse, tmp_path):
    html = render_report(warehouse, tmp_path, language="ru", period="2026-11").read_text(encoding="utf-8")
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
    assert "October 2026" in html and "November 2026" in html
    assert html.count("<svg") == 2


def test_missing_ingest_tables_are_tolerated(tmp_path):
    wh = create_example_marts(tmp_path / "w.duckdb", with_ingest_tables=False)
    html = render_report(wh, tmp_path / "out", period="2026-11").read_text(encoding="utf-8")
    assert "No ingest records in this warehouse." in html


def test_data_quality_section_shows_loads_and_reasons(report_en):
    section = report_en[report_en.index('id="data-quality"'):]
    assert "20,486 rows read" in section  # 1520 + 640 + 18230 + 96
    assert "offset_ms not increasing" in section
    assert "Master-2026-11.csv" in section


def test_custom_schema_and_clear_error_without_marts(tmp_path):
    wh = create_example_marts(tmp_path / "w.duckdb", marts_schema="analytics_marts")
    assert render_report(wh, tmp_path / "o", period="2026-11", marts_schema="analytics_marts").exists()
    with pytest.raises(MartsMissingError, match="marts.*contactqa build"):
        render_report(wh, tmp_path / "o")
    with pytest.raises(ValueError, match="schema name"):
        render_report(wh, tmp_path / "o", marts_schema="x; DROP TABLE y")


def test_unknown_language_falls_back_to_english(warehouse, tmp_path):
    out = render_report(warehouse, tmp_path, language="kk", period="2026-11")
    assert out.name == "monitoring-report-2026-11-en.html"
    assert "Quality monitoring report" in out.read_text(encoding="utf-8")


def test_a_centre_can_override_a_template(warehouse, tmp_path):
    override = tmp_path / "templates" / "en"
    override.mkdir(parents=True)
    (override / "report.html.j2").write_text(
        "<h1>{{ title or 'Our standard' }}</h1>{% for f in findings %}<q>{{ f.evidence_quote|mask }}</q>{% endfor %}",
        encoding="utf-8")
    html = render_report(warehouse, tmp_path / "o", period="2026-11", title="<Cards> QA",
                         templates_dir=tmp_path / "templates").read_text(encoding="utf-8")
    assert html.startswith("<h1>&lt;Cards&gt; QA</h1>")
    assert "&lt;script&gt;" in html and "<script>" not in html  # autoescape holds in overrides


def test_one_environment_with_mask_filter_and_autoescape():
    env = environment()
    assert env is environment()
    template, used = get_template("report.html.j2", "ru_RU")
    assert used == "ru"
    html = env.from_string("{{ q|mask }}").render(q="<b>4111 1111 1111 1111</b>")
    assert html == "&lt;b&gt;**** **** **** 1111&lt;/b&gt;"
    text_template = env.from_string("{{ q|mask }}")  # strings default to escaped too
    assert "&lt;" in text_template.render(q="<")
    assert format_mmss(125_400) == "2:05" and format_mmss(3_725_000) == "1:02:05" and format_mmss(None) == "—"
