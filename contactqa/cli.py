"""The `contactqa` command: one subcommand per stage of the monitoring job, plus the demo.

Exit codes: 0 done; 1 the run finished but something needs a person (dbt tests failed,
emails not sent); 2 the input or configuration is wrong (the message says which file and key).
"""

from __future__ import annotations

import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactqa.runtime import apply_defaults

apply_defaults()

app = typer.Typer(
    name="contactqa",
    help="Quality monitoring for contact centres: ingest calls and chats, check them against the "
         "scorecard (AutoQA), score contacts and agents, report, and email feedback.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Project file (contactqa.yml). Default: $CONTACTQA_CONFIG or config/contactqa.yml.",
                 exists=False, dir_okay=False),
]
PeriodOption = Annotated[
    Optional[str], typer.Option("--period", help="Month to report on, YYYY-MM. Default: every month in the data."),
]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _project(config: Path | None):
    from contactqa.config import ConfigError, load_project

    try:
        return load_project(config)
    except ConfigError as exc:
        _fail(str(exc))


def _check_period(period: str | None) -> None:
    import re

    if period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        _fail(f"--period {period!r} is not a month like 2026-11")


# --- printing summaries ---------------------------------------------------------------------

def _print_ingest(summaries: list[dict]) -> None:
    table = Table(title="Ingest", title_justify="left")
    for column in ("source", "files", "new", "rows read", "loaded", "quarantined", "top reasons"):
        table.add_column(column, justify="right" if column not in ("source", "top reasons") else "left")
    for s in summaries:
        reasons = "; ".join(f"{r[:60]} ({n})" for r, n in s["top_reasons"][:3])
        table.add_row(s["source"], str(s["files_seen"]), str(s["files_new"]), str(s["rows_read"]),
                      str(s["rows_loaded"]), str(s["rows_quarantined"]), reasons)
    console.print(table)
    for s in summaries:
        for f in s["files"]:
            for note in f["notes"]:
                console.print(f"[yellow]note[/] {f['source_file']}: {note}", highlight=False)
    files = [f for s in summaries for f in s["files"] if f["status"] != "already_ingested"]
    balanced = sum(f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] for f in files)
    console.print(f"Nothing lost: rows read = loaded + quarantined holds for {balanced} of {len(files)} new file(s).")
    quarantined = sum(s["rows_quarantined"] for s in summaries)
    if quarantined:
        console.print(f"[yellow]{quarantined} row(s) quarantined[/] — see table raw.quarantine "
                      "(source_file, record_locator, reasons).")


def _print_autoqa(summary: dict) -> None:
    results = ", ".join(f"{k} {v}" for k, v in sorted(summary["by_result"].items()))
    console.print(f"[bold]AutoQA[/] {summary['contacts']} contacts checked against scorecard "
                  f"{summary['scorecard_version']}: {summary['findings']} findings ({results})")
    knowledge = summary.get("knowledge")
    if knowledge:
        console.print(f"[bold]Knowledge[/] {knowledge['clauses']} regulation clauses and {knowledge['articles']} "
                      f"knowledge-base articles indexed; {knowledge['knowledge_rows']} article matches for contacts")
        for problem in knowledge["document_problems"]:
            console.print(f"[yellow]note[/] {problem}", highlight=False)


def _print_build(summary: dict) -> None:
    if summary["success"]:
        console.print(f"[bold]dbt build[/] {summary['models_built']} models built, "
                      f"{summary['tests_passed']} tests passed")
    else:
        err.print(f"[bold red]dbt build failed[/]: {summary['tests_failed']} failing test(s)/model(s)")
        for failure in summary["failures"][:20]:
            err.print(f"  - {failure}", highlight=False)
        err.print(f"  log: {summary['log_path']}")


def _print_feedback(summary: dict | None) -> None:
    if summary is None:
        return
    console.print(f"[bold]Feedback[/] {summary['written']} email(s) written, {summary['sent']} sent over SMTP, "
                  f"{summary['skipped_already_sent']} already sent earlier; outbox: {summary['outbox_dir']}")
    for failure in summary["failed"]:
        err.print(f"[red]not sent[/] {failure}", highlight=False)


def _run_flow(label: str, func, *args, **kwargs):
    with console.status(f"{label}…"):
        return func(*args, **kwargs)


# --- commands ---------------------------------------------------------------------------------

@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write landing/ and ground_truth/ into.")] = Path("synthetic"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes byte-identical files.")] = 42,
    agents: Annotated[int, typer.Option(min=1, help="Number of agents.")] = 20,
    teams: Annotated[int, typer.Option(min=1, help="Number of teams (each with a supervisor).")] = 3,
    days: Annotated[int, typer.Option(min=1, help="Number of days of traffic.")] = 5,
    contacts_per_agent_per_day: Annotated[int, typer.Option("--contacts-per-agent-per-day", min=1,
                                                            help="Calls and chats per agent per day.")] = 8,
    start_date: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-11-02",
    timezone: Annotated[str, typer.Option(help="The centre's timezone (IANA name).")] = "Asia/Almaty",
    transcripts: Annotated[str, typer.Option(help="Transcript layout: 'daily' (JSON Lines per day) or 'per_call'.")] = "daily",
    fault_rate: Annotated[Optional[float], typer.Option(min=0.0, max=1.0,
                                                        help="Probability of each fault type per contact (default ≈0.1).")] = None,
) -> None:
    """Write a realistic synthetic contact centre in real export formats, with the ground truth of injected faults.

    Asterisk Master.csv CDRs and call transcripts, Telegram Desktop result.json and generic chat JSONL,
    the agent directory, action log and QA evaluations (with one calibration session), plus
    ground_truth/faults.csv: which contact has which fault.
    """
    from contactqa.synth import GenerateOptions, generate as run_generate
    from contactqa.synth.options import FAULT_CODES

    try:
        options = GenerateOptions(
            seed=seed, agents=agents, teams=teams, days=days, contacts_per_agent_per_day=contacts_per_agent_per_day,
            start_date=date.fromisoformat(start_date), timezone=timezone, transcript_layout=transcripts,
            fault_rates={code: fault_rate for code in FAULT_CODES} if fault_rate is not None else None)
        total = agents * days * contacts_per_agent_per_day
        with _progress() as progress:
            bar = progress.add_task("generating contacts", total=total)
            summary = run_generate(out, options, progress=lambda n: progress.update(bar, completed=n))
    except ValueError as exc:
        _fail(str(exc))
    console.print(f"Wrote {summary.contacts} contacts ({summary.voice_calls} calls, {summary.chats} chats) "
                  f"for {summary.agents} agents to {summary.landing_dir}")
    console.print(f"Ground truth: {summary.ground_truth_path} — faults: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(summary.faults_injected.items())))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


@app.command("validate-config")
def validate_config(config: ConfigOption = None) -> None:
    """Check the project file and every file it names (scorecard, error catalogue, sampling, routing)."""
    project = _project(config)
    from contactqa.config import ConfigError

    try:
        for line in project.validate_all():
            console.print(f"[green]ok[/] {line}", highlight=False)
    except ConfigError as exc:
        _fail(str(exc))


@app.command()
def ingest(config: ConfigOption = None) -> None:
    """Pull each source's new files, check them with Great Expectations, land good rows, quarantine the rest."""
    project = _project(config)
    from flows.ingest import ingest_flow
    from contactqa.runtime import new_run_id

    from contactqa.ingest import InvariantError, SourceConfigError
    from contactqa.sources.remote import RemoteSourceError

    try:
        summaries = _run_flow("ingesting", ingest_flow, str(project.path), new_run_id())
    except FileNotFoundError as exc:
        _fail(str(exc))
    except InvariantError as exc:
        _fail(f"rows were lost, the file's load was rolled back: {exc}", 1)
    except (RemoteSourceError, SourceConfigError) as exc:
        _fail(str(exc))
    _print_ingest(summaries)


@app.command()
def autoqa(config: ConfigOption = None) -> None:
    """Check every landed contact against the scorecard and store findings with their evidence."""
    project = _project(config)
    from flows.autoqa import autoqa_flow
    from contactqa.runtime import new_run_id

    _print_autoqa(_run_flow("checking contacts", autoqa_flow, str(project.path), new_run_id()))


@app.command()
def build(config: ConfigOption = None) -> None:
    """Run `dbt build`: staging → marts (monitoring sample, contact and agent scores, errors) with dbt tests."""
    project = _project(config)
    from flows.build import build_flow

    summary = _run_flow("building marts with dbt", build_flow, str(project.path))
    _print_build(summary)
    if not summary["success"]:
        raise typer.Exit(1)


@app.command()
def report(config: ConfigOption = None, period: PeriodOption = None) -> None:
    """Render the HTML monitoring report (one per language in the project file)."""
    _check_period(period)
    project = _project(config)
    from flows.publish import report_flow

    for path in _run_flow("rendering reports", report_flow, str(project.path), period):
        console.print(f"Report: {path}")


@app.command("send-feedback")
def send_feedback(config: ConfigOption = None, period: PeriodOption = None) -> None:
    """Email each agent their own feedback for the period (supervisor in CC); each agent x period once only.

    Without `smtp` in the routing file, messages are written to the outbox folder as .eml only.
    """
    _check_period(period)
    project = _project(config)
    from flows.publish import feedback_flow

    summary = _run_flow("writing feedback emails", feedback_flow, str(project.path), period)
    _print_feedback(summary)
    if summary["failed"]:
        raise typer.Exit(1)


@app.command()
def run(
    config: ConfigOption = None,
    period: PeriodOption = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Also send the feedback emails.")] = True,
) -> None:
    """The whole job once: ingest → GX checks → AutoQA → dbt build → report → feedback emails."""
    _check_period(period)
    project = _project(config)
    result = _run_pipeline(project, period, send)
    _finish(project, result)


def _run_pipeline(project, period: str | None, send: bool) -> dict:
    from flows.pipeline import pipeline_flow

    from contactqa.ingest import InvariantError, SourceConfigError
    from contactqa.sources.remote import RemoteSourceError

    try:
        return _run_flow("running the pipeline (ingest → AutoQA → dbt → report → feedback)",
                         pipeline_flow, str(project.path), period, send)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except InvariantError as exc:
        _fail(f"rows were lost, the file's load was rolled back: {exc}", 1)
    except (RemoteSourceError, SourceConfigError) as exc:
        _fail(str(exc))


def _finish(project, result: dict) -> None:
    _print_ingest(result["ingest"])
    _print_autoqa(result["autoqa"])
    _print_build(result["build"])
    for path in result["reports"]:
        console.print(f"[bold]Report[/] {path}")
    _print_feedback(result["feedback"])
    console.print(f"[bold]Warehouse[/] {project.warehouse_path} (marts in schema marts)")
    if not result["build"]["success"] or (result["feedback"] and result["feedback"]["failed"]):
        raise typer.Exit(1)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", "-w", help="Folder for the synthetic centre and all outputs.")] = Path("demo"),
    agents: Annotated[int, typer.Option(min=1, help="Number of agents.")] = 20,
    days: Annotated[int, typer.Option(min=1, help="Number of days.")] = 5,
    contacts_per_agent_per_day: Annotated[int, typer.Option("--contacts-per-agent-per-day", min=1)] = 8,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic centre.")] = 42,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Start from an empty work folder.")] = True,
) -> None:
    """Generate a small synthetic centre and run the whole pipeline on it with the embedded defaults.

    A DuckDB file, Prefect without a server, emails to an outbox folder: nothing to set up.
    """
    from contactqa.config import DEFAULT_CONFIG_DIR, load_project, write_project_file

    workdir = workdir.resolve()
    if fresh and workdir.exists():
        if not (workdir / "contactqa.yml").exists() and any(workdir.iterdir()):
            _fail(f"{workdir} is not empty and is not a contactqa demo folder; choose another --workdir")
        shutil.rmtree(workdir)
    generate(out=workdir, seed=seed, agents=agents, teams=max(1, min(4, agents // 6)), days=days,
             contacts_per_agent_per_day=contacts_per_agent_per_day, start_date="2026-11-02",
             timezone="Asia/Almaty", transcripts="daily", fault_rate=None)
    project_file = workdir / "contactqa.yml"
    default = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml")
    data = default.config.model_dump(mode="json")
    data.update(warehouse="warehouse/contactqa.duckdb", output_dir="output")
    for key in ("scorecard", "error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(default.resolve(data[key]))
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    write_project_file(project_file, data)
    project = _project(project_file)
    result = _run_pipeline(project, None, True)
    _finish(project, result)
    console.print(f"\n[bold green]Demo done.[/] Project file: {project_file}\n"
                  f"  open the report:  {result['reports'][0] if result['reports'] else '-'}\n"
                  f"  emails (.eml):    {project.output_dir / 'outbox'}\n"
                  f"  BI / SQL:         duckdb {project.warehouse_path} \"select * from marts.fct_agent_scores\"\n"
                  f"  ground truth:     {workdir / 'ground_truth' / 'faults.csv'}")


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
