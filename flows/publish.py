"""Publish flow: the monitoring report, then per-agent feedback emails (each sent once)."""

from __future__ import annotations

from prefect import flow, task

from contactqa.config import load_project
from contactqa.delivery import send_feedback
from contactqa.reporting import render_report


@task(name="render-report")
def report(config_path: str, language: str, period: str | None) -> str:
    project = load_project(config_path)
    return str(render_report(project.warehouse_path, project.output_dir / "reports", language=language,
                             period=period, templates_dir=project.templates_dir))


@task(name="send-feedback", retries=2, retry_delay_seconds=[10, 60])
def feedback(config_path: str, period: str | None) -> dict:
    project = load_project(config_path)
    summary = send_feedback(project.warehouse_path, project.delivery_settings(), period=period)
    return {"written": summary.written, "sent": summary.sent, "skipped_already_sent": summary.skipped_already_sent,
            "failed": [f"{f.agent_id} {f.period}: {f.reason}" for f in summary.failed],
            "warnings": summary.warnings, "outbox_dir": str(summary.outbox_dir)}


@flow(name="report")
def report_flow(config_path: str, period: str | None = None) -> list[str]:
    project = load_project(config_path)
    return [report(config_path, language, period) for language in project.config.report_languages]


@flow(name="feedback")
def feedback_flow(config_path: str, period: str | None = None) -> dict:
    return feedback(config_path, period)
