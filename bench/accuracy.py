"""Benchmark: AutoQA detection against the generator's ground truth, per fault type.

    .venv/bin/python bench/accuracy.py --out /tmp/acc-centre            # 10,000 contacts, generated here
    .venv/bin/python bench/accuracy.py --out /tmp/acc-centre --reuse    # ingest/AutoQA again on the same data

Precision: of the contacts AutoQA failed on the fault's criterion, the share that really have the
fault. Recall: of the contacts with the fault, the share AutoQA failed. The generator's wording is
its own (contactqa/synth), not the scorecard's phrase lists.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
import yaml

from contactqa.autoqa.engine import run_autoqa
from contactqa.config import DEFAULT_CONFIG_DIR, load_project
from contactqa.ingest import ingest_source
from contactqa.synth import GenerateOptions, generate

# Which scorecard criterion catches which injected fault.
FAULT_CRITERION = {
    "no_greeting": "GREETING", "no_introduction": "INTRODUCTION", "rude_phrase": "POLITENESS",
    "missing_closing": "CLOSING", "long_silence": "SILENCE", "slow_reply": ("RESPONSE_TIME", "RESPONSE_TIME_MESSENGER"),
    "identity_not_verified": "IDENTITY_VERIFIED", "card_number_disclosed": "PII_DISCLOSURE",
}


def project_file(out: Path) -> Path:
    data = yaml.safe_load((DEFAULT_CONFIG_DIR / "contactqa.yml").read_text(encoding="utf-8"))
    data.update(warehouse="wh/contactqa.duckdb", output_dir="output")
    for key in ("scorecard", "error_catalogue", "sampling", "routing", "regulations_dir", "kb_dir"):
        data[key] = str(DEFAULT_CONFIG_DIR / data[key])
    for source in data["sources"]:
        source["location"] = source["location"].replace("../demo/", "")
    path = out / "contactqa.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def measure(warehouse: Path, ground_truth: Path) -> list[tuple[str, int, int, int, float, float]]:
    truth: dict[str, set[str]] = {f: set() for f in FAULT_CRITERION}
    with ground_truth.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[row["fault_code"]].add(row["contact_id"])
    rows = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for fault, criteria in FAULT_CRITERION.items():
            criteria = [criteria] if isinstance(criteria, str) else list(criteria)
            failed = {c for (c,) in con.execute(
                "SELECT contact_id FROM autoqa.findings WHERE criterion_id IN (SELECT unnest(?)) AND result = 'fail'",
                [criteria]).fetchall()}
            tp = len(failed & truth[fault])
            precision = tp / len(failed) if failed else float("nan")
            recall = tp / len(truth[fault]) if truth[fault] else float("nan")
            rows.append((fault, len(truth[fault]), len(failed), tp, precision, recall))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/out/accuracy"))
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep the generated centre, rebuild the warehouse")
    args = parser.parse_args()
    if not args.reuse:
        shutil.rmtree(args.out, ignore_errors=True)
        generate(args.out, GenerateOptions(seed=args.seed, agents=args.agents, days=args.days,
                                           contacts_per_agent_per_day=args.per_day, start_date=date(2026, 11, 2)))
    shutil.rmtree(args.out / "wh", ignore_errors=True)
    project = load_project(project_file(args.out))
    for source in project.config.sources:
        ingest_source(project.warehouse_path, project, source, "bench")
    started = time.perf_counter()
    summary = run_autoqa(project.warehouse_path, project.scorecards(), project.error_catalogue(), "bench",
                         timezone=project.config.timezone, close_after_days=project.config.close_after_days)
    seconds = time.perf_counter() - started
    print(f"AutoQA: {summary.contacts} contacts in {seconds:.1f} s ({summary.contacts / seconds:.0f} contacts/s)")
    print(f"{'fault':24} {'true':>6} {'flagged':>8} {'hit':>6} {'precision':>10} {'recall':>8}")
    for fault, n_true, n_flagged, tp, precision, recall in measure(project.warehouse_path,
                                                                    args.out / "ground_truth" / "faults.csv"):
        print(f"{fault:24} {n_true:6d} {n_flagged:8d} {tp:6d} {precision:10.3f} {recall:8.3f}")


if __name__ == "__main__":
    main()
