"""Build flow: dbt build of staging → intermediate → marts (sampling, scores, errors)."""

from __future__ import annotations

from prefect import flow, task

from contactqa.config import load_project
from contactqa.marts import run_dbt_build


@task(name="dbt-build")
def dbt_build(config_path: str) -> dict:
    project = load_project(config_path)
    plan = project.sampling()
    result = run_dbt_build(project.warehouse_path, vars={
        "sample_seed": plan.seed, "sample_per_agent_channel": plan.per_agent_per_channel})
    return {"success": result.success, "models_built": result.models_built, "tests_passed": result.tests_passed,
            "tests_failed": result.tests_failed, "failures": result.failures, "log_path": str(result.log_path)}


@flow(name="build")
def build_flow(config_path: str) -> dict:
    return dbt_build(config_path)
