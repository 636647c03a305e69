"""Benchmark: AutoQA throughput (contacts per second) and peak memory on a synthetic centre.

    .venv/bin/python bench/autoqa.py --out /tmp/bench-autoqa                         # 10,000 contacts
    .venv/bin/python bench/autoqa.py --out /tmp/bench-autoqa-100k --agents 200 --days 10 --per-day 50
    .venv/bin/python bench/autoqa.py --out /tmp/bench-autoqa --reuse --repeat 3      # time AutoQA again

The centre is generated (seed 1, as bench/generate.py does) and ingested once; --reuse keeps both and
only times AutoQA again. AutoQA checks only contacts that are new or changed, so each timed run first
forgets the previous checks (autoqa.contact_checks and autoqa.findings) and checks every contact.
AutoQA runs in a child process, so the peak RSS printed is AutoQA's own, not the generator's or the
ingest's. Use --config-dir with a copy of config/ to keep the scorecard fixed while comparing runs of
different code.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import time
from datetime import date
from pathlib import Path

import yaml

from contactqa.config import DEFAULT_CONFIG_DIR


def project_file(out: Path, config_dir: Path) -> Path:
    """The project file of the bench centre: its own warehouse, the given scorecard and catalogues."""
    data = yaml.safe_load((config_dir / "contactqa.yml").read_text(encoding="utf-8"))
    data.update(warehouse="wh/contactqa.duckdb", output_dir="output")
    for key in ("scorecard", "error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        if key in data:
            data[key] = str(config_dir.resolve() / data[key])
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    path = out / "contactqa.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare(args: argparse.Namespace) -> Path:
    """Generate and ingest the centre unless --reuse finds one; return its project file."""
    from contactqa.config import load_project
    from contactqa.ingest import ingest_source
    from contactqa.synth import GenerateOptions, generate

    path = args.out / "contactqa.yml"
    if args.reuse and path.exists() and (args.out / "wh" / "contactqa.duckdb").exists():
        return path
    shutil.rmtree(args.out, ignore_errors=True)
    started = time.perf_counter()
    summary = generate(args.out, GenerateOptions(seed=1, agents=args.agents, days=args.days,
                                                 contacts_per_agent_per_day=args.per_day,
                                                 start_date=date(2026, 11, 2)))
    print(f"generated {summary.contacts} contacts in {time.perf_counter() - started:.0f} s", flush=True)
    path = project_file(args.out, args.config_dir)
    project = load_project(path)
    started = time.perf_counter()
    for source in project.config.sources:
        ingest_source(project.warehouse_path, project, source, "bench")
    print(f"ingested in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def time_autoqa(path: str, results: multiprocessing.Queue) -> None:
    """In a fresh process: one AutoQA run over the whole warehouse, timed."""
    from contactqa.autoqa.engine import run_autoqa
    from contactqa.config import load_project

    from contactqa.warehouse import connect

    project = load_project(path)
    scorecards, catalogue = project.scorecards(), project.error_catalogue()
    with connect(project.warehouse_path) as con:  # a full check each time, not an incremental no-op
        con.execute("DELETE FROM autoqa.contact_checks")
        con.execute("DELETE FROM autoqa.findings")
    started = time.perf_counter()
    summary = run_autoqa(project.warehouse_path, scorecards, catalogue, "bench", timezone=project.config.timezone,
                         close_after_days=project.config.close_after_days)
    results.put((summary.contacts, summary.findings, time.perf_counter() - started, dict(summary.by_result())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/out/autoqa"))
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR,
                        help="scorecard, catalogues and project file to use (default: the repo's config/)")
    parser.add_argument("--reuse", action="store_true", help="keep an already generated and ingested centre")
    parser.add_argument("--repeat", type=int, default=1, help="time AutoQA this many times")
    args = parser.parse_args()
    path = prepare(args)
    context = multiprocessing.get_context("spawn")
    for _ in range(args.repeat):
        results = context.Queue()
        child = context.Process(target=time_autoqa, args=(str(path), results))
        child.start()
        contacts, findings, seconds, by_result = results.get()
        child.join()
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"contacts={contacts} findings={findings} seconds={seconds:.1f} contacts_per_s={contacts / seconds:.0f} "
              f"peak_rss_mib={peak_mib:.0f} results={by_result}", flush=True)


if __name__ == "__main__":
    main()
