"""Ingest flow: each configured source's new files → checked → landed or quarantined."""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, task

from contactqa.config import load_project
from contactqa.runtime import new_run_id
from contactqa.ingest import ingest_source
from contactqa.warehouse import require_warehouse


@task(name="ingest-source", retries=0)
def ingest_one(config_path: str, source_name: str, run_id: str, after_others: bool = False) -> dict:
    """`after_others`: an earlier source of this run landed into the warehouse, so it must still be
    there: landing the rest into a new empty one would split the data between two files."""
    project = load_project(config_path)
    if after_others:
        require_warehouse(project.warehouse_path, f"ingest of source {source_name!r}")
    source = next(s for s in project.config.sources if s.name == source_name)
    summary = ingest_source(project.warehouse_path, project, source, run_id)
    data = asdict(summary)
    data["top_reasons"] = summary.top_reasons
    data.pop("reasons")
    return data


@flow(name="ingest")
def ingest_flow(config_path: str, run_id: str | None = None) -> list[dict]:
    run_id = run_id or new_run_id()
    project = load_project(config_path)
    # Sequential on purpose: later sources map agents through the directory landed first,
    # and DuckDB takes one writer at a time.
    return [ingest_one(config_path, source.name, run_id, i > 0)
            for i, source in enumerate(project.config.sources)]
