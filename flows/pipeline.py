"""The whole monitoring job once: ingest → check → AutoQA → build marts → report → feedback."""

from __future__ import annotations

from prefect import flow

from flows.autoqa import autoqa_flow
from flows.build import build_flow
from flows.ingest import ingest_flow
from flows.publish import feedback_flow, report_flow
from contactqa.runtime import new_run_id


@flow(name="contactqa-pipeline")
def pipeline_flow(config_path: str, period: str | None = None, send: bool = True) -> dict:
    run_id = new_run_id()
    ingest = ingest_flow(config_path, run_id)
    autoqa = autoqa_flow(config_path, run_id)
    build = build_flow(config_path)
    if not build["success"]:
        return {"run_id": run_id, "ingest": ingest, "autoqa": autoqa, "build": build, "reports": [], "feedback": None}
    reports = report_flow(config_path, period)
    feedback = feedback_flow(config_path, period) if send else None
    return {"run_id": run_id, "ingest": ingest, "autoqa": autoqa, "build": build, "reports": reports,
            "feedback": feedback}
