"""Publish flow: the monitoring report, then per-agent feedback emails (per closed period, revised on change)."""

from __future__ import annotations

from datetime import date

from prefect import flow, task

from contactqa.config import load_project
from contactqa.delivery import send_feedback
from contactqa.reporting import render_report
from contactqa.warehouse import require_warehouse
from flows.retries import io_errors_only


@task(name="render-report")
def report(config_path: str, language: str, period: str | None) -> str:
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "the report")
    return str(render_report(project.warehouse_path, project.output_dir / "reports", language=language,
                             period=period, templates_dir=project.templates_dir,
                             timezone=project.config.timezone))


@task(name="send-feedback", retries=2, retry_delay_seconds=[10, 60], retry_condition_fn=io_errors_only)
def feedback(config_path: str, period: str | None, as_of: str | None = None, dry_run: bool = False,
             retry_failed: bool = False, resend_uncertain: bool = False) -> dict:
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "feedback")
    summary = send_feedback(project.warehouse_path, project.delivery_settings(), period=period,
                            as_of=date.fromisoformat(as_of) if as_of else None, dry_run=dry_run,
                            retry_failed=retry_failed, resend_uncertain=resend_uncertain)
    return {"written": summary.written, "sent": summary.sent, "skipped_already_sent": summary.skipped_already_sent,
            "first_sends": summary.first_sends, "revisions": summary.revisions, "revised": summary.revised,
            "baselined": summary.baselined,
            "planned": summary.planned, "dry_run": summary.dry_run,
            "as_of": summary.as_of.isoformat() if summary.as_of else None,
            "held_back": [{"period": h.period, "period_type": h.period_type, "closes_on": h.closes_on.isoformat()}
                          for h in summary.held_back],
            "preliminary": summary.preliminary, "beyond_lookback": summary.beyond_lookback,
            "failed": [f"{f.agent_id} {f.period}: {f.reason}" for f in summary.failed],
            "smtp": summary.smtp, "outbox_only": summary.outbox_only, "resent": summary.resent,
            "uncertain": summary.uncertain, "would_send": summary.would_send,
            # uncertain copies, outbox-only emails and a stopped server read as warnings wherever this is printed
            "warnings": summary.notices, "outbox_dir": str(summary.outbox_dir)}


@flow(name="report")
def report_flow(config_path: str, period: str | None = None) -> list[str]:
    project = load_project(config_path)
    return [report(config_path, language, period) for language in project.config.report_languages]


@flow(name="feedback")
def feedback_flow(config_path: str, period: str | None = None, as_of: str | None = None,
                  dry_run: bool = False, retry_failed: bool = False, resend_uncertain: bool = False) -> dict:
    """Feedback for the closed periods due (or `period`, even while open: then preliminary),
    as of the centre's today or `as_of` (YYYY-MM-DD). `retry_failed`: send again what the server
    refused for good; `resend_uncertain`: send again what may or may not have arrived."""
    return feedback(config_path, period, as_of, dry_run, retry_failed, resend_uncertain)
