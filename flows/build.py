"""Build flow: dbt build of staging → intermediate → marts (sampling, scores, errors)."""

from __future__ import annotations

from prefect import flow, task

from contactqa.config import load_project
from contactqa.marts import project_vars, run_dbt_build
from contactqa.warehouse import require_warehouse


@task(name="dbt-build")
def dbt_build(config_path: str, as_of: str | None = None, full_refresh: bool = False) -> dict:
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "dbt build")
    variables = project_vars(project, as_of)
    result = run_dbt_build(project.warehouse_path, vars=variables, full_refresh=full_refresh)
    return {"success": result.success, "models_built": result.models_built, "tests_passed": result.tests_passed,
            "tests_failed": result.tests_failed, "failures": result.failures, "log_path": str(result.log_path),
            "warnings": result.warnings, "as_of": variables["as_of_date"]}


@flow(name="build")
def build_flow(config_path: str, as_of: str | None = None, full_refresh: bool = False) -> dict:
    return dbt_build(config_path, as_of, full_refresh)
