"""AutoQA flow: the scorecard applied to every landed contact."""

from __future__ import annotations

from prefect import flow, task

from contactqa.autoqa.engine import run_autoqa
from contactqa.config import load_project
from contactqa.runtime import new_run_id


@task(name="autoqa-findings")
def autoqa_findings(config_path: str, run_id: str) -> dict:
    project = load_project(config_path)
    summary = run_autoqa(project.warehouse_path, project.scorecard(), project.error_catalogue(), run_id,
                         timezone=project.config.timezone)
    return {"contacts": summary.contacts, "findings": summary.findings,
            "scorecard_version": summary.scorecard_version, "by_result": dict(summary.by_result())}


@flow(name="autoqa")
def autoqa_flow(config_path: str, run_id: str | None = None) -> dict:
    run_id = run_id or new_run_id()
    return autoqa_findings(config_path, run_id)
