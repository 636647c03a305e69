"""The `contactqa` command: one subcommand per stage of the monitoring job, plus the demo.

Exit codes: 0 done; 1 the run finished but something needs a person (dbt tests failed,
emails not sent), or could not start or go on (the warehouse is in use by another command, or
missing); 2 the input or configuration is wrong (the message says which file and key);
128 + N stopped by signal N (143 SIGTERM, 130 SIGINT), after cleaning up.
"""

from __future__ import annotations

import shutil
import signal
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
WaitOption = Annotated[
    float, typer.Option("--wait", min=0, metavar="SECONDS",
                        help="If another contactqa command is using the warehouse, wait up to this long for it "
                             "to finish. Default 0: exit 1 at once, saying which command holds it."),
]
PeriodOption = Annotated[
    Optional[str], typer.Option("--period", help="A local month (2026-11) or ISO week (2026-W45). Default: every month "
                                "in the data for reports; every closed period not yet emailed for feedback."),
]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


# What the running command holds until it ends, however it ends (the warehouse lock).
_held_until_done = ExitStack()
_stopped_by: int | None = None  # the signal that is stopping the command


@app.callback()
def _every_command(ctx: typer.Context) -> None:
    restore_signals = _exit_cleanly_on_signals()
    ctx.call_on_close(restore_signals)
    ctx.call_on_close(_held_until_done.close)


def _exit_cleanly_on_signals():
    """SIGTERM, SIGINT and SIGHUP end the command through Python's normal exit, so cleanup runs: the load
    of a file rolls back, the warehouse lock is released, and Prefect stops its temporary server (an
    atexit hook of prefect.server.api.server.SubprocessASGIServer, which SIGTERM's default action
    skipped, leaving the server running). A second signal acts at once. Returns what restores the handlers."""
    global _stopped_by
    _stopped_by = None
    previous: dict[int, object] = {}

    def stop(signum, frame) -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)
        raise _stopping(signum)

    try:
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[number] = signal.signal(number, stop)
    except ValueError:  # not the main thread (an embedding application): its signals are its own
        return lambda: None

    def restore() -> None:
        for number, handler in previous.items():
            if signal.getsignal(number) is stop:
                signal.signal(number, handler)

    return restore


def _stopping(signum: int) -> SystemExit:
    global _stopped_by
    if _stopped_by is None:
        _stopped_by = signum
        err.print(f"[bold red]stopped by {signal.Signals(signum).name}[/]: cleaning up, then exiting "
                  "(send it again to stop at once)", highlight=False)
    return SystemExit(128 + signum)


def _signal_behind(exc: BaseException) -> int | None:
    """The signal that stopped the command, when a library turned it into an error of its own: DuckDB
    raises "Query interrupted" from SystemExit (our handler) or from Prefect's TerminationSignal (its
    SIGTERM handler while a flow runs), keeping the original as the cause."""
    from prefect.exceptions import TerminationSignal

    if _stopped_by is not None:
        return _stopped_by
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TerminationSignal):
            return seen.signal
        seen = seen.__cause__ or seen.__context__
    return None


def _hold_warehouse(project, command: str, wait: float, *, shared: bool = False) -> None:
    """One writer at a time: hold the lock beside the warehouse until the command ends (shared: to read)."""
    from contactqa.warehouse_lock import WarehouseBusy, describe_holder, warehouse_lock

    def waiting(busy: WarehouseBusy) -> None:
        err.print(f"waiting up to {wait:g} s for {describe_holder(busy.holder)} to finish with {busy.warehouse}",
                  highlight=False)

    try:
        _held_until_done.enter_context(warehouse_lock(project.warehouse_path, command, wait=wait, shared=shared,
                                                      on_wait=waiting))
    except WarehouseBusy as exc:
        _fail(str(exc), 1)


def _require_warehouse(project, stage: str) -> None:
    """Before a command that reads the warehouse starts its flow: it must exist and hold landed data."""
    from contactqa.warehouse import WarehouseError, require_warehouse

    try:
        require_warehouse(project.warehouse_path, stage)
    except WarehouseError as exc:
        _fail(str(exc), 1)


def _project(config: Path | None, *, validate: bool = True):
    """The project, with every file it names loaded and cross-checked first (validate_all): a wrong
    configuration stops the command before any work, with exit 2 and the file, key and problem."""
    from contactqa.config import ConfigError, load_project

    try:
        project = load_project(config)
        if validate:
            project.validate_all()
        return project
    except ConfigError as exc:
        _fail(str(exc))


def _check_period(period: str | None) -> None:
    from contactqa.periods import PeriodError, parse_period

    if period:
        try:
            parse_period(period)
        except PeriodError as exc:
            _fail(f"--period: {exc}")


# --- printing summaries ---------------------------------------------------------------------

REASONS_SHOWN = 10  # per source; the rest are in raw.quarantine


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _print_ingest(summaries: list[dict]) -> None:
    """Per source: files, records read / loaded (and what they became) / quarantined, the records
    quarantined per reason, files quarantined whole, and each file's notes. Lines are printed whole
    (a terminal wraps them; a log keeps them greppable): names and reasons are never cut."""
    from rich.markup import escape  # names, paths and reasons are printed as written, never as markup

    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True)

    say("[bold]Ingest[/]")
    for s in summaries:
        unit = s.get("record_unit") or "row"
        became = ""
        if s.get("contact_unit") and s.get("landed", {}).get("contacts") is not None:
            became = f" (as {_plural(s['landed']['contacts'], s['contact_unit'])})"
        say(f"  [bold]{escape(s['source'])}[/] ({s.get('source_type') or 'source'}): {s['files_new']} new of "
            f"{_plural(s['files_seen'], 'file')}; read {_plural(s['rows_read'], unit)}: {s['rows_loaded']} loaded"
            f"{became}, {s['rows_quarantined']} quarantined")
        reasons = [(r, n) for r, n in s["top_reasons"]]
        if reasons:
            say(f"    quarantined {unit}s per reason (one with two reasons counts under both):")
            examples = s.get("examples") or {}
            for reason, n in reasons[:REASONS_SHOWN]:
                say(f"      {n:>6}  {escape(reason)}")
                if examples.get(reason) and not examples[reason].endswith(f": {reason}"):
                    say(f"              e.g. {escape(examples[reason])}")
            if len(reasons) > REASONS_SHOWN:
                say(f"      … and {len(reasons) - REASONS_SHOWN} more reasons (raw.quarantine)")
        for f in s["files"]:
            if f["status"] == "quarantined":
                say(f"    [yellow]quarantined whole[/] (no {unit} loaded): {escape(f['source_file'])}")
            if f.get("bytes_replaced"):
                say(f"    [yellow]bytes replaced[/]: {f['bytes_replaced']} undecodable byte(s) read as U+FFFD "
                    f"({f['encoding']}, {'detected' if f.get('encoding_detected', True) else 'configured'}): "
                    f"{escape(f['source_file'])}")
            elif f.get("encoding") and f["encoding"] not in ("utf-8", "utf-8-sig"):
                say(f"    read as {f['encoding']} ({'detected' if f.get('encoding_detected', True) else 'configured'})"
                    f": {escape(f['source_file'])}")
            for note in f["notes"]:
                say(f"    [yellow]note[/] {escape(f['source_file'])}: {escape(note)}")
    files = [f for s in summaries for f in s["files"] if f["status"] != "already_ingested"]
    balanced = sum(f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] for f in files)
    say(f"Nothing lost: rows read = loaded + quarantined holds for {balanced} of {len(files)} new file(s).")
    quarantined = sum(s["rows_quarantined"] for s in summaries)
    if quarantined:
        in_files = sum(1 for f in files if f["rows_quarantined"])
        say(f"[yellow]{_plural(quarantined, 'row')} quarantined[/] in {_plural(in_files, 'file')} — see table "
            "raw.quarantine (source_file, record_locator, reasons).")


def ingest_needs_a_person(summaries: list[dict]) -> bool:
    """Whether this run quarantined a row or a file, or read a file whose bytes could not all be decoded."""
    return any(s["rows_quarantined"] or s.get("files_quarantined") or s.get("bytes_replaced") for s in summaries)


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _versions(counts: dict) -> str:
    return ", ".join(f"{version} ({n})" for version, n in sorted(counts.items()))


def _print_autoqa(summary: dict) -> None:
    results = f" ({_counts(summary['by_result'])})" if summary["by_result"] else ""
    versions = _versions(summary.get("versions") or {}) or summary["scorecard_version"]
    reasons = f" ({_counts(summary['by_reason'])})" if summary.get("by_reason") else ""
    skipped = (f"; {summary['contacts_skipped']} unchanged since their last check, skipped"
               if "contacts_skipped" in summary else "")
    console.print(f"[bold]AutoQA[/] {summary['contacts']} contacts checked{reasons} against scorecard "
                  f"{versions}: {summary['findings']} findings{results}{skipped}")
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
    if summary.get("dry_run"):
        verb = "would go out (dry run: nothing written or sent)"
    elif summary.get("sent"):
        verb = "sent"
    else:
        verb = "written to the outbox (no SMTP server configured: not sent)"
    as_of = f" as of {summary['as_of']}" if summary.get("as_of") else ""
    console.print(f"[bold]Feedback[/]{as_of}: {summary.get('first_sends', 0)} first email(s) (revision 1) and "
                  f"{summary.get('revisions', 0)} revision(s) {verb}; {summary['skipped_already_sent']} unchanged "
                  f"since sent (skipped)", highlight=False)
    if not summary.get("dry_run"):
        console.print(f"  {summary['written']} .eml written, {summary['sent']} over SMTP; outbox: "
                      f"{summary['outbox_dir']}", highlight=False)
    revised = summary.get("revised", [])
    if revised:
        shown = ", ".join(revised[:20]) + (f" and {len(revised) - 20} more" if len(revised) > 20 else "")
        console.print(f"  revisions (what changed is at the top of each): {shown}", highlight=False)
    held = summary.get("held_back", [])
    if held:
        listed = ", ".join(f"{h['period']} (closes {h['closes_on']})" for h in held)
        console.print(f"  {len(held)} open period(s) held back: {listed}", highlight=False)
    else:
        console.print("  0 open periods held back", highlight=False)
    for period in summary.get("preliminary", []):
        console.print(f"[bold yellow]PRELIMINARY[/] {period} is still open: its emails say so in the subject and "
                      "body; a change before it closes will go out as a revision", highlight=False)
    if summary.get("beyond_lookback"):
        console.print(f"  never sent and older than the lookback (send with --period): "
                      f"{', '.join(summary['beyond_lookback'])}", highlight=False)
    if summary.get("baselined"):
        console.print(f"  {summary['baselined']} email(s) sent before revisions were tracked: today's figures "
                      "recorded as their baseline, not emailed again", highlight=False)
    for warning in summary.get("warnings", []):
        console.print(f"[yellow]warning[/] {warning}", highlight=False)
    for failure in summary["failed"]:
        err.print(f"[red]not sent[/] {failure}", highlight=False)


def _run_flow(label: str, func, *args, **kwargs):
    from contactqa.config import ConfigError
    from contactqa.runtime import prefect_server_in_own_session
    from contactqa.warehouse import WarehouseError

    prefect_server_in_own_session()
    try:
        with console.status(f"{label}…"):
            return func(*args, **kwargs)
    except ConfigError as exc:  # a file changed after the command checked them all
        _fail(str(exc))
    except WarehouseError as exc:  # e.g. the warehouse deleted between stages
        _fail(str(exc), 1)
    except Exception as exc:
        signum = _signal_behind(exc)
        if signum is not None:
            raise _stopping(signum) from None
        raise


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
    """Check the project file and every file it names (scorecard, error catalogue, regulations, sampling, routing)."""
    project = _project(config, validate=False)
    from contactqa.config import ConfigError

    try:
        for line in project.validate_all():
            console.print(f"[green]ok[/] {line}", highlight=False)
    except ConfigError as exc:
        _fail(str(exc))


@app.command("measure-rules")
def measure_rules(
    turns: Annotated[Path, typer.Argument(help="Labelled agent turns, JSON Lines: "
                                               '{"lang", "agent_name", "text", "labels": {"greeting": true, ...}}.')],
    config: ConfigOption = None,
    misses: Annotated[bool, typer.Option("--misses", help="Also list each turn missed or flagged wrongly.")] = False,
) -> None:
    """Precision and recall of the scorecard's phrase criteria on turns a person labelled.

    Labels: greeting, introduction, recording_notice, more_help, closing, rude. Each turn is judged by the criterion's own rule, placed where it looks (opening, middle or last turn).

    Measure wording from your own centre, and keep part of it unseen while you edit the phrase lists.
    """
    from contactqa.autoqa.measure import LABELS, EvaluationSetError, listing, measure, read_set, table

    project = _project(config)
    scorecard = project.scorecard()
    try:
        labelled = read_set(turns)
    except (EvaluationSetError, OSError) as exc:
        _fail(str(exc))
    tallies = measure(scorecard, labelled)
    if not tallies:
        _fail(f"{turns}: no turn carries a label this scorecard judges ({', '.join(LABELS)})")
    console.print(f"scorecard {scorecard.version}, {len(labelled)} turns from {turns}\n", highlight=False)
    console.print(table(tallies), highlight=False, markup=False, soft_wrap=True)
    for line in listing(tallies) if misses else []:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command()
def ingest(config: ConfigOption = None, wait: WaitOption = 0) -> None:
    """Pull each source's new files, check them with Great Expectations, land good rows, quarantine the rest.

    Prints, per source: files new and seen; records read (a CDR's call legs, a chat's messages), loaded (and the calls or conversations they made) and quarantined; the records quarantined per reason; files quarantined whole; undecodable bytes replaced. Every quarantined record is in raw.quarantine with its file, line or JSON path and reasons.

    Exit codes: 0 every new record loaded, nothing replaced; 1 a person should look: a record or a whole file was quarantined in this run, or undecodable bytes were replaced (also: the warehouse is in use, or a file's counts did not balance and its load was rolled back); 2 the configuration is wrong (the message names the file, the key and the problem); 130 / 143 stopped by Ctrl+C / SIGTERM.
    """
    project = _project(config)
    _hold_warehouse(project, "contactqa ingest", wait)
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
    if ingest_needs_a_person(summaries):
        raise typer.Exit(1)


AsOfOption = Annotated[
    Optional[str], typer.Option("--as-of", metavar="YYYY-MM-DD",
                                help="Act as if today were this date: decides which periods are closed. "
                                     "Default: today in the project's timezone."),
]


@app.command()
def autoqa(config: ConfigOption = None, as_of: AsOfOption = None, wait: WaitOption = 0) -> None:
    """Check landed contacts against the scorecard and store findings with their evidence.

    Only contacts that need it are checked: new ones, changed ones (a late transcript, the customer's
    next contact arriving), and those of open periods when a new scorecard version comes into force.
    Contacts of closed weeks and months keep the version they were checked with.
    """
    _check_as_of(as_of)
    project = _project(config)
    _hold_warehouse(project, "contactqa autoqa", wait)
    _require_warehouse(project, "AutoQA")
    from flows.autoqa import autoqa_flow
    from contactqa.autoqa.versions import ScorecardVersionError
    from contactqa.config import ConfigError
    from contactqa.runtime import new_run_id

    try:
        summary = _run_flow("checking contacts", autoqa_flow, str(project.path), new_run_id(), as_of)
    except (ScorecardVersionError, ConfigError) as exc:
        _fail(str(exc))
    _print_autoqa(summary)


@app.command()
def rescore(
    period: Annotated[str, typer.Option("--period", help="The local month (2026-11) or ISO week (2026-W45) to rescore.")],
    config: ConfigOption = None,
    scorecard_version: Annotated[Optional[str], typer.Option(
        "--scorecard-version", help="Scorecard version to check them with. Default: each contact's version in force by date.")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why, recorded with the rescore (autoqa.rescores).")] = None,
    wait: WaitOption = 0,
) -> None:
    """Check every contact of a period again, closed or not, and record the rescore.

    Closed periods are otherwise frozen: this is how a corrected or new scorecard version reaches them.
    Afterwards `contactqa build` then `contactqa send-feedback` send numbered revisions to agents who
    already had feedback for the period.
    """
    from contactqa.periods import PeriodError, parse_period

    try:
        period_key = parse_period(period).key
    except PeriodError as exc:
        _fail(f"--period: {exc}")
    project = _project(config)
    _hold_warehouse(project, "contactqa rescore", wait)
    _require_warehouse(project, "the rescore")
    from flows.autoqa import rescore_flow
    from contactqa.autoqa.versions import ScorecardVersionError
    from contactqa.config import ConfigError

    try:
        summary = _run_flow(f"rescoring {period_key}", rescore_flow, str(project.path), period_key,
                            scorecard_version, reason)
    except (ScorecardVersionError, ConfigError) as exc:
        _fail(str(exc))
    _print_rescore(summary)


def _print_rescore(summary: dict) -> None:
    versions = _versions(summary["versions"]) or summary["requested_version"] or "-"
    results = f" ({_counts(summary['by_result'])})" if summary["by_result"] else ""
    console.print(f"[bold]Rescore[/] {summary['rescore_id']}: {summary['contacts']} contact(s) of {summary['period']} "
                  f"checked again with scorecard {versions}: {summary['findings']} findings{results}", highlight=False)
    if summary["reverted_by_next_run"]:
        console.print(f"[yellow]note[/] {summary['reverted_by_next_run']} of them belong to a period that is still "
                      "open and were checked with another version than the one in force: the next "
                      "`contactqa autoqa` checks them again with the version in force.", highlight=False)
    console.print("Next: `contactqa build`, then `contactqa send-feedback`: agents already emailed for this "
                  "period get a numbered revision.", highlight=False)


@app.command()
def build(
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild the incremental marts from scratch "
                                               "(after changing the error catalogue or regulations by hand).")] = False,
    wait: WaitOption = 0,
) -> None:
    """Run `dbt build`: staging → marts (periods, sample, contact and agent scores with intervals, errors) with dbt tests."""
    _check_as_of(as_of)
    project = _project(config)
    _hold_warehouse(project, "contactqa build", wait)
    _require_warehouse(project, "dbt build")
    from flows.build import build_flow

    summary = _run_flow("building marts with dbt", build_flow, str(project.path), as_of, full_refresh)
    _print_build(summary)
    if not summary["success"]:
        raise typer.Exit(1)


@app.command()
def report(config: ConfigOption = None, period: PeriodOption = None, wait: WaitOption = 0) -> None:
    """Render the HTML monitoring report (one per language in the project file)."""
    _check_period(period)
    project = _project(config)
    _hold_warehouse(project, "contactqa report", wait, shared=True)  # reads only: waits for a writer, not for readers
    _require_warehouse(project, "the report")
    from flows.publish import report_flow

    for path in _run_flow("rendering reports", report_flow, str(project.path), period):
        console.print(f"Report: {path}")


@app.command("send-feedback")
def send_feedback(
    config: ConfigOption = None,
    period: Annotated[Optional[str], typer.Option(
        "--period", help="One month (2026-11) or ISO week (2026-W45), sent even while still open — then marked "
                         "PRELIMINARY. Default: the closed periods due (routing.yml feedback_periods).")] = None,
    as_of: AsOfOption = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Build every email and say what would go out; write, send and record nothing.")] = False,
    wait: WaitOption = 0,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Also send again the copies the mail server refused for good (5xx) in earlier runs, "
                               "e.g. after an address was corrected. Deferred copies (4xx) are retried anyway.")] = False,
    resend_uncertain: Annotated[bool, typer.Option(
        "--resend-uncertain", help="Also send again the copies that may or may not have arrived (the connection or "
                                   "the run ended while the server had the message). Default: report them, never "
                                   "send them twice.")] = False,
) -> None:
    """Email each agent their own feedback for each CLOSED period (supervisor in CC).

    A period closes `close_after_days` (contactqa.yml) after its last day; until then it is held back.

    When the figures behind a sent email change, the agent gets a numbered revision saying what changed.

    Without `smtp` in the routing file, messages are written to the outbox folder as .eml only (not sent;
    a later run with `smtp` configured sends them). Exit 1 when a copy was not delivered or may not have
    arrived: deferred copies are tried again by the next run, refused and uncertain ones only when asked.
    """
    _check_period(period)
    _check_as_of(as_of)
    project = _project(config)
    _hold_warehouse(project, "contactqa send-feedback", wait, shared=dry_run)  # a dry run only reads
    _require_warehouse(project, "feedback")
    from flows.publish import feedback_flow

    summary = _run_flow("writing feedback emails", feedback_flow, str(project.path), period, as_of, dry_run,
                        retry_failed, resend_uncertain)
    _print_feedback(summary)
    for line in summary.get("would_send", []):
        console.print(f"  would send {line}", highlight=False)
    if summary["failed"] or summary.get("uncertain"):  # not sent, or may not have arrived: a person decides
        raise typer.Exit(1)


def _check_as_of(as_of: str | None) -> None:
    import re

    if as_of:
        try:
            # fullmatch first: Python 3.11 also reads '20261204' and '2026-W49-5', which no one means here
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
                raise ValueError(as_of)
            date.fromisoformat(as_of)
        except ValueError:
            _fail(f"--as-of {as_of!r} is not a date like 2026-12-04")


@app.command()
def run(
    config: ConfigOption = None,
    period: PeriodOption = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Also send the feedback emails.")] = True,
    as_of: AsOfOption = None,
    wait: WaitOption = 0,
) -> None:
    """The whole job once: ingest → GX checks → AutoQA → dbt build → report → feedback emails.

    Feedback goes out for closed periods only (a period closes `close_after_days` after its end);
    open periods are reported as preliminary. `--period` emails that one period, marked preliminary
    if it is still open.
    """
    _check_period(period)
    _check_as_of(as_of)
    project = _project(config)
    _hold_warehouse(project, "contactqa run", wait)
    result = _run_pipeline(project, period, send, as_of)
    _finish(project, result)


def _run_pipeline(project, period: str | None, send: bool, as_of: str | None = None) -> dict:
    from flows.pipeline import pipeline_flow

    from contactqa.autoqa.versions import ScorecardVersionError
    from contactqa.ingest import InvariantError, SourceConfigError
    from contactqa.sources.remote import RemoteSourceError

    try:
        return _run_flow("running the pipeline (ingest → AutoQA → dbt → report → feedback)",
                         pipeline_flow, str(project.path), period, send, as_of)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except InvariantError as exc:
        _fail(f"rows were lost, the file's load was rolled back: {exc}", 1)
    except (RemoteSourceError, SourceConfigError, ScorecardVersionError) as exc:
        _fail(str(exc))


def _finish(project, result: dict) -> None:
    _print_ingest(result["ingest"])
    _print_autoqa(result["autoqa"])
    _print_build(result["build"])
    for path in result["reports"]:
        console.print(f"[bold]Report[/] {path}")
    _print_feedback(result["feedback"])
    for note in project.defaults_used():
        console.print(f"[yellow]default[/] {note}", highlight=False)
    console.print(f"[bold]Warehouse[/] {project.warehouse_path} (marts in schema marts)")
    feedback = result["feedback"] or {}
    quarantined = ingest_needs_a_person(result["ingest"])
    if quarantined:
        console.print("[yellow]Ingest quarantined rows or files (see above, and raw.quarantine): exit 1[/]")
    if not result["build"]["success"] or feedback.get("failed") or feedback.get("uncertain") or quarantined:
        raise typer.Exit(1)


DEMO_START = "2026-10-05"  # a Monday: the demo's week and month are long closed, so its outputs are complete


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--workdir", "-w", help="Folder for the synthetic centre and all outputs.")] = Path("demo"),
    agents: Annotated[int, typer.Option(min=1, help="Number of agents.")] = 20,
    days: Annotated[int, typer.Option(min=1, help="Number of days.")] = 5,
    contacts_per_agent_per_day: Annotated[int, typer.Option("--contacts-per-agent-per-day", min=1)] = 8,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic centre.")] = 42,
    start_date: Annotated[str, typer.Option(help="First day of traffic, YYYY-MM-DD.")] = DEMO_START,
    fresh: Annotated[bool, typer.Option("--fresh/--keep", help="Start from an empty work folder.")] = True,
    wait: WaitOption = 0,
) -> None:
    """Generate a small synthetic centre and run one monitoring cycle on it with the embedded defaults.

    A DuckDB file, Prefect without a server, emails to an outbox folder: nothing to set up. The cycle:
    the first run checks every contact and draws the sample; the synthetic evaluators evaluate their
    assigned picks (landing/evaluations/sample-evaluations.csv); the second run loads those, checks
    nothing again, scores with them and emails each agent the closed month's feedback once.
    """
    from contactqa.config import DEFAULT_CONFIG_DIR, load_project, write_project_file
    from contactqa.synth.sample_evaluations import evaluate_sample

    workdir = workdir.resolve()
    if fresh and workdir.exists():
        if not (workdir / "contactqa.yml").exists() and any(workdir.iterdir()):
            _fail(f"{workdir} is not empty and is not a contactqa demo folder; choose another --workdir")
        _not_in_use(workdir / "warehouse" / "contactqa.duckdb", wait)  # before deleting another demo's files
        shutil.rmtree(workdir)
    generate(out=workdir, seed=seed, agents=agents, teams=max(1, min(4, agents // 6)), days=days,
             contacts_per_agent_per_day=contacts_per_agent_per_day, start_date=start_date,
             timezone="Asia/Almaty", transcripts="daily", fault_rate=None)
    project_file = workdir / "contactqa.yml"
    default = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml")
    data = default.config.model_dump(mode="json")
    data.update(warehouse="warehouse/contactqa.duckdb", output_dir="output")
    data["scorecard"] = [str(path) for path in default.scorecard_paths()]
    for key in ("error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(default.resolve(data[key]))
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    write_project_file(project_file, data)
    project = _project(project_file)
    _hold_warehouse(project, "contactqa demo", wait)
    console.print("[bold]1/3[/] first run: check every contact, draw the monitoring sample (no emails yet)")
    _run_pipeline(project, None, False)
    written = evaluate_sample(project.warehouse_path, workdir / "ground_truth",
                              workdir / "landing" / "evaluations" / "sample-evaluations.csv",
                              seed=seed, timezone=project.config.timezone)
    console.print(f"[bold]2/3[/] the evaluators evaluated their assigned picks: {written} criterion results in "
                  f"{workdir / 'landing' / 'evaluations' / 'sample-evaluations.csv'}")
    console.print("[bold]3/3[/] second run: load the evaluations, score, report, email the closed period")
    result = _run_pipeline(project, None, True)
    _finish(project, result)
    console.print(f"\n[bold green]Demo done.[/] Project file: {project_file}\n"
                  f"  open the report:  {result['reports'][0] if result['reports'] else '-'}\n"
                  f"  emails (.eml):    {project.output_dir / 'outbox'}\n"
                  f"  BI / SQL:         duckdb {project.warehouse_path} \"select * from marts.fct_agent_scores\"\n"
                  f"  ground truth:     {workdir / 'ground_truth' / 'faults.csv'}")


def _not_in_use(warehouse: Path, wait: float) -> None:
    from contactqa.warehouse_lock import WarehouseBusy, warehouse_lock

    try:
        with warehouse_lock(warehouse, "contactqa demo", wait=wait, shared=True):
            pass
    except WarehouseBusy as exc:
        _fail(str(exc), 1)


def main() -> None:  # pragma: no cover - console script entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
