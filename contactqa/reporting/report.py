"""The monitoring report: one self-contained HTML page per period and language."""

from __future__ import annotations

from datetime import datetime, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo
from typing import Any

from contactqa.periods import zone_label
from contactqa.reporting.charts import Bar, score_bars_svg, team_colours
from contactqa.reporting.data import Marts, check_identifier, require_marts
from contactqa.reporting.templates import get_template, normalize_language
from contactqa.warehouse import connect

REPORT_TEMPLATE = "report.html.j2"
FINDINGS_SHOWN = 24
FINDINGS_PER_CRITERION = 3


def report_filename(period: str | None, language: str) -> str:
    return f"monitoring-report-{period or 'all'}-{normalize_language(language)}.html"


def render_report(
    warehouse_path: Path,
    out_dir: Path,
    *,
    language: str = "en",
    period: str | None = None,
    marts_schema: str = "marts",
    title: str | None = None,
    templates_dir: Path | None = None,
    timezone: str = "UTC",
) -> Path:
    """Render the monitoring report from the scoring marts; returns the HTML file written.

    `period` ('YYYY-MM', or an ISO week 'YYYY-Www') limits the report to one period; None covers every
    month. `timezone` is the centre's: contact times are shown on its clock, with the zone named.
    `templates_dir` is searched before the repo's `reports/` (a centre's own templates).
    """
    warehouse_path = Path(warehouse_path)
    check_identifier(marts_schema)
    if not warehouse_path.exists():
        raise FileNotFoundError(f"warehouse not found: {warehouse_path}")
    template, used_language = get_template(REPORT_TEMPLATE, language, templates_dir)
    with connect(warehouse_path, read_only=True) as con:
        require_marts(con, warehouse_path, marts_schema)
        context = build_report_context(Marts(con, marts_schema, period, used_language))
    generated = datetime.now(dt_timezone.utc).replace(microsecond=0)
    context.update(
        language=used_language, title=title, period=period, marts_schema=marts_schema,
        warehouse_name=warehouse_path.name, timezone=timezone, zone=zone_label(timezone),
        generated_at=generated.astimezone(ZoneInfo(timezone)).replace(tzinfo=None),
    )
    html = template.render(context)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_path = out_dir / report_filename(period, used_language)
    tmp = out_path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out_path)  # a reader never sees half a report
    return out_path


def build_report_context(marts: Marts) -> dict[str, Any]:
    lang = marts.language
    agents = marts.agent_scores()
    team_avg = marts.team_averages()
    period_avg = marts.period_averages()
    colours = team_colours(sorted({a["team_label"] for a in agents}))
    status = marts.period_status()

    periods = []
    for period in marts.periods():
        in_period = [a for a in agents if a["period"] == period]
        teams = []
        for team in dict.fromkeys(a["team_label"] for a in in_period):
            members = [a for a in in_period if a["team_label"] == team]
            for rank, member in enumerate(members, start=1):
                member["rank"] = rank if member["score_pct"] is not None else None
            teams.append({"team": team, "colour": colours.get(team), "agents": members,
                          "average": team_avg.get((period, team), {})})
        ranked = sorted(in_period, key=lambda a: (a["score_pct"] is None, -(a["score_pct"] or 0), a["full_name"]))
        chart = score_bars_svg(
            [Bar(a["full_name"] or a["agent_id"], a["score_pct"], a["score_ci_low_pct"], a["score_ci_high_pct"],
                 a["team_label"], f"n={a['contacts_scored']}") for a in ranked],
            language=lang, reference=period_avg.get(period),
            reference_label="среднее" if lang == "ru" else "average", colours=colours,
        )
        periods.append({"period": period, "teams": teams, "chart": chart, "average": period_avg.get(period),
                        "agents": len(in_period), "status": status.get(period, {}),
                        "insufficient": sum(1 for a in in_period if a.get("is_sample_sufficient") is False)})

    sample = marts.monitoring_sample()
    return {
        "headline": marts.headline(),
        "periods": periods,
        "team_colours": colours,
        "errors_by_code": marts.errors("code"),
        "errors_by_group": marts.errors("group"),
        "errors_by_severity": marts.errors("severity"),
        "criteria": marts.criterion_pass_rates(),
        "sample": [s for s in sample if s["sample_type"] == "random"],
        "targeted": [s for s in sample if s["sample_type"] == "targeted"],
        "volumes": marts.volumes(),
        "rescores": marts.rescores(),
        "open_periods": [p for p in periods if p["status"] and not p["status"]["is_closed"]],
        "findings": varied_findings(marts.findings(), FINDINGS_SHOWN, FINDINGS_PER_CRITERION),
        "findings_limit": FINDINGS_SHOWN,
        "data_quality": marts.data_quality(),
    }


def varied_findings(findings: list[dict[str, Any]], limit: int, per_criterion: int) -> list[dict[str, Any]]:
    """Examples across the scorecard: at most `per_criterion` per criterion, in the given (critical-first) order."""
    shown: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for finding in findings:
        if not finding.get("evidence_quote") and not finding.get("evidence_detail"):
            continue
        if seen.get(finding["criterion_id"], 0) >= per_criterion:
            continue
        seen[finding["criterion_id"]] = seen.get(finding["criterion_id"], 0) + 1
        shown.append(finding)
        if len(shown) >= limit:
            break
    return shown
