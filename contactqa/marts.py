"""Build the scoring and sampling marts: run the repo's dbt project against a warehouse file.

Plain functions (the Prefect build flow wraps them in a task). dbt runs in-process through
its programmatic entry point; its target/ and logs/ go next to the warehouse, never into the
repo. The caller must close its own DuckDB connection to the warehouse first: DuckDB lets one
process hold a file open for writing only once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_REPO_ROOT = Path(__file__).resolve().parent.parent

# dbt statuses: models/seeds end "success" | "error" | "skipped"; tests "pass" | "fail" |
# "warn" | "error" | "skipped". A warning is reported but does not fail the build.
_TEST_TYPES = {"test", "unit_test"}
_FAILED_STATUSES = {"error", "fail", "runtime error"}


@dataclass
class DbtResult:
    """What one `dbt build` did.

    `failures` holds "node name: message" for every model that errored and every data or unit
    test that failed; `warnings` the tests configured to warn that found rows; `skipped` the
    nodes dbt did not run because something upstream failed.
    """

    success: bool
    models_built: int
    tests_passed: int
    tests_failed: int
    failures: list[str] = field(default_factory=list)
    log_path: Path = Path()
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0


def project_vars(project: Any, as_of: str | None = None) -> dict[str, Any]:
    """The dbt vars a project's build needs: its timezone, when periods close, the day the build acts
    as of (None: today in the project's timezone) and the sampling plan, with the plan's internal
    numbers hashed exactly as ingest hashes customers (the plan file holds numbers, the warehouse keys)."""
    from contactqa.periods import today
    from contactqa.sources.base import customer_key

    plan = project.sampling()
    timezone = project.config.timezone
    quotas = {channel: plan.quota(channel) for channel in ("voice", "chat", "email")}
    targeted = plan.targeted.model_dump(mode="json")
    targeted["triggers"]["autoqa_critical"] = plan.critical_trigger()
    exclusions = plan.exclusions.model_dump(mode="json")
    exclusions["customer_keys"] = sorted({customer_key(n) for n in exclusions.pop("customer_numbers")} - {None})
    return {
        "timezone": timezone,
        "close_after_days": project.config.close_after_days,
        "as_of_date": (as_of or today(timezone).isoformat()),
        "sampling_plan": {
            "seed": str(plan.seed), "period": plan.period, "quotas": quotas,
            "spread_over_days": plan.spread_over_days, "margin_of_error_pct": plan.margin_of_error_pct,
            "targeted": targeted, "exclusions": exclusions,
            "assignment": plan.assignment.model_dump(mode="json"),
        },
    }


def dbt_project_dir() -> Path:
    """The repo's dbt project (holds dbt_project.yml and profiles.yml)."""
    return _REPO_ROOT / "dbt_project"


def run_dbt_build(
    warehouse_path: Path,
    *,
    vars: dict[str, Any] | None = None,
    work_dir: Path | None = None,
    select: str | None = None,
    full_refresh: bool = False,
    unit_tests: bool = False,
    data_tests: bool = True,
) -> DbtResult:
    """Run `dbt build` (models, data tests and unit tests) on the warehouse at `warehouse_path`.

    `unit_tests` also runs the YAML unit tests (the test suite does; production builds skip them);
    `data_tests=False` builds the models without dbt's data tests.
    `vars` override dbt_project.yml vars (e.g. {"sample_seed": "2024-q3",
    "sample_per_agent_channel": 3}). `work_dir` holds dbt's target/ and logs/ (default:
    `<warehouse dir>/dbt`). `select` is a dbt selector (e.g. "+fct_contact_scores").
    Failing models and tests, and errors that stop dbt before any node runs (a broken model
    file, say), come back in `DbtResult.failures`; only a missing warehouse raises.
    """
    # Imported here: dbt is heavy (~1 s) and only this function needs it.
    from dbt.cli.main import dbtRunner

    warehouse_path = Path(warehouse_path).resolve()
    if not warehouse_path.is_file():
        # dbt-duckdb would silently create an empty database and fail on every source
        raise FileNotFoundError(f"warehouse not found: {warehouse_path} (run ingest first)")
    work_dir = Path(work_dir) if work_dir is not None else warehouse_path.parent / "dbt"
    work_dir = work_dir.resolve()
    log_dir = work_dir / "logs"
    work_dir.mkdir(parents=True, exist_ok=True)

    if not full_refresh and _built_before_incremental_marts(warehouse_path):
        full_refresh = True  # a warehouse from a version whose marts were plain tables: rebuild them once

    project_dir = dbt_project_dir()
    args = [
        "build",
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(log_dir),
        "--log-level", "warn",
        "--log-level-file", "info",
        "--no-use-colors",
    ]
    if vars:
        args += ["--vars", json.dumps(vars)]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    excluded = []
    if not unit_tests:
        # Unit tests check the models' logic on fixed fixtures: the test suite runs them; a nightly
        # build on real data gains nothing from them (dbt's advice for production builds).
        excluded.append("unit_test")
    if not data_tests:
        excluded.append("test")  # models only: for callers that already tested the same models
    for resource_type in excluded:
        args += ["--exclude-resource-type", resource_type]

    env = {
        "CONTACTQA_WAREHOUSE": str(warehouse_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    with _environment(env):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _release_warehouse()

    return _summarise(outcome, log_dir / "dbt.log")


def _built_before_incremental_marts(warehouse_path: Path) -> bool:
    """True when fct_criterion_results exists without the fingerprint its incremental build needs."""
    import duckdb

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        columns = {name for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'fct_criterion_results'").fetchall()}
    return bool(columns) and "inputs_key" not in columns


def _summarise(outcome: Any, log_path: Path) -> DbtResult:
    models_built = tests_passed = tests_failed = skipped = 0
    failures: list[str] = []
    warnings: list[str] = []
    node_results = getattr(outcome.result, "results", None) or []
    for node_result in node_results:
        node = node_result.node
        status = str(node_result.status).lower()
        label = node.name
        message = " ".join(str(node_result.message or status).split())
        if status == "skipped":
            skipped += 1
        elif node.resource_type in _TEST_TYPES:
            if status in _FAILED_STATUSES:
                tests_failed += 1
                failures.append(f"{label}: {message}")
            else:
                tests_passed += 1
                if status == "warn":
                    warnings.append(f"{label}: {message}")
        elif status in _FAILED_STATUSES:
            failures.append(f"{label}: {message}")
        elif node.resource_type == "model":
            models_built += 1

    if not outcome.success and not failures:
        # stopped before any node ran: a parse or compilation error, a bad profile or argument
        reason = " ".join(str(outcome.exception or "build failed").split())
        failures.append(f"dbt: {reason} (log: {log_path})")
    return DbtResult(
        success=bool(outcome.success) and not failures,
        models_built=models_built,
        tests_passed=tests_passed,
        tests_failed=tests_failed,
        failures=failures,
        log_path=log_path,
        warnings=warnings,
        skipped=skipped,
    )


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one DuckDB connection per process (a class attribute) and does not always
    close it when dbt finishes; while it is open, this process cannot reopen the warehouse
    read-only ("different configuration than existing connections"), which reports do.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing cached here
        return
    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for one dbt invocation and restore the caller's afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
