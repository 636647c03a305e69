"""AutoQA flows: the scorecard applied to the contacts that need a check, and rescoring a period."""

from __future__ import annotations

from datetime import date

from prefect import flow, task

from contactqa.autoqa.engine import AutoQASummary, rescore_period, run_autoqa
from contactqa.autoqa.knowledge import index_documents, match_contacts
from contactqa.autoqa.versions import scorecard_files
from contactqa.config import load_project
from contactqa.runtime import new_run_id
from contactqa.warehouse import connect, require_warehouse


def _as_date(as_of: str | None) -> date | None:
    return date.fromisoformat(as_of) if as_of else None


def _summary(summary: AutoQASummary) -> dict:
    return {"contacts": summary.contacts_checked, "findings": summary.findings,
            "scorecard_version": summary.scorecard_version, "by_result": dict(summary.by_result()),
            "contacts_checked": summary.contacts_checked, "contacts_skipped": summary.contacts_skipped,
            "by_reason": dict(summary.by_reason), "versions": dict(summary.versions)}


@task(name="autoqa-findings")
def autoqa_findings(config_path: str, run_id: str, as_of: str | None = None) -> dict:
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "AutoQA")
    summary = run_autoqa(project.warehouse_path, project.scorecards(), project.error_catalogue(), run_id,
                         timezone=project.config.timezone, close_after_days=project.config.close_after_days,
                         as_of=_as_date(as_of), scorecard_files=scorecard_files(project.scorecard_paths()))
    return _summary(summary)


@task(name="autoqa-knowledge")
def autoqa_knowledge(config_path: str, scorecard_version: str) -> dict:
    """The regulations' clauses and the knowledge base indexed, and each contact's best articles found."""
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "knowledge matching")
    with connect(project.warehouse_path) as con:
        indexed = index_documents(con, project.resolve(project.config.regulations_dir),
                                  project.resolve(project.config.kb_dir))
        matched = match_contacts(con, scorecard_version)
    return {"clauses": indexed.clauses, "articles": indexed.articles, "knowledge_rows": matched,
            "document_problems": [str(p) for p in indexed.problems]}


@flow(name="autoqa")
def autoqa_flow(config_path: str, run_id: str | None = None, as_of: str | None = None) -> dict:
    run_id = run_id or new_run_id()
    findings = autoqa_findings(config_path, run_id, as_of)
    return findings | {"knowledge": autoqa_knowledge(config_path, findings["scorecard_version"])}


@task(name="autoqa-rescore")
def autoqa_rescore(config_path: str, run_id: str, period: str, scorecard_version: str | None,
                   reason: str | None, as_of: str | None) -> dict:
    project = load_project(config_path)
    require_warehouse(project.warehouse_path, "the rescore")
    summary = rescore_period(project.warehouse_path, project.scorecards(), project.error_catalogue(), run_id,
                             period, scorecard_version, reason, timezone=project.config.timezone,
                             close_after_days=project.config.close_after_days, as_of=_as_date(as_of),
                             scorecard_files=scorecard_files(project.scorecard_paths()))
    return _summary(summary) | {"rescore_id": summary.rescore_id, "period": summary.period,
                                "requested_version": summary.requested_version, "run_id": run_id,
                                "reverted_by_next_run": summary.reverted_by_next_run}


@flow(name="autoqa-rescore")
def rescore_flow(config_path: str, period: str, scorecard_version: str | None = None, reason: str | None = None,
                 run_id: str | None = None, as_of: str | None = None) -> dict:
    return autoqa_rescore(config_path, run_id or new_run_id(), period, scorecard_version, reason, as_of)
