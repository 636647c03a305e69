"""AutoQA flow: the scorecard applied to every landed contact."""

from __future__ import annotations

from prefect import flow, task

from contactqa.autoqa.engine import run_autoqa
from contactqa.autoqa.knowledge import index_documents, match_contacts
from contactqa.config import load_project
from contactqa.runtime import new_run_id
from contactqa.warehouse import connect


@task(name="autoqa-findings")
def autoqa_findings(config_path: str, run_id: str) -> dict:
    project = load_project(config_path)
    summary = run_autoqa(project.warehouse_path, project.scorecard(), project.error_catalogue(), run_id,
                         timezone=project.config.timezone)
    return {"contacts": summary.contacts, "findings": summary.findings,
            "scorecard_version": summary.scorecard_version, "by_result": dict(summary.by_result())}


@task(name="autoqa-knowledge")
def autoqa_knowledge(config_path: str, scorecard_version: str) -> dict:
    """The regulations' clauses and the knowledge base indexed, and each contact's best articles found."""
    project = load_project(config_path)
    with connect(project.warehouse_path) as con:
        indexed = index_documents(con, project.resolve(project.config.regulations_dir),
                                  project.resolve(project.config.kb_dir))
        matched = match_contacts(con, scorecard_version)
    return {"clauses": indexed.clauses, "articles": indexed.articles, "knowledge_rows": matched,
            "document_problems": [str(p) for p in indexed.problems]}


@flow(name="autoqa")
def autoqa_flow(config_path: str, run_id: str | None = None) -> dict:
    run_id = run_id or new_run_id()
    findings = autoqa_findings(config_path, run_id)
    return findings | {"knowledge": autoqa_knowledge(config_path, findings["scorecard_version"])}
