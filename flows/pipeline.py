"""The whole monitoring job once: ingest → check → AutoQA → build marts → report → feedback."""

from __future__ import annotations

from prefect import flow

from flows.autoqa import autoqa_flow
from flows.build import build_flow
from flows.ingest import ingest_flow
from flows.publish import feedback_flow, report_flow
from contactqa.runtime import new_run_id


@flow(name="contactqa-pipeline")
def pipeline_flow(config_path: str, period: str | None = None, send: bool = True, as_of: str | None = None) -> dict:
    """`as_of` (YYYY-MM-DD, default today in the centre's timezone) decides which periods are closed:
    AutoQA keeps closed periods' scores, the report marks open ones preliminary, and feedback goes out
    for closed periods only, unless `period` names one."""
    run_id = new_run_id()
    ingest = ingest_flow(config_path, run_id)
    autoqa = autoqa_flow(config_path, run_id, as_of)
    build = build_flow(config_path, as_of)
    if not build["success"]:
        return {"run_id": run_id, "ingest": ingest, "autoqa": autoqa, "build": build, "reports": [], "feedback": None}
    reports = report_flow(config_path, period)
    feedback = feedback_flow(config_path, period, as_of) if send else None
    return {"run_id": run_id, "ingest": ingest, "autoqa": autoqa, "build": build, "reports": reports,
            "feedback": feedback}
