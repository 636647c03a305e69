"""Benchmark: synthetic-centre generation speed and peak memory (the benchmark's data source must stream).

    .venv/bin/python bench/generate.py --agents 200 --days 20 --per-day 50 --out /tmp/bench-centre
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from datetime import date
from pathlib import Path

from contactqa.synth import GenerateOptions, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--per-day", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("bench/out/centre"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    started = time.perf_counter()
    summary = generate(args.out, GenerateOptions(seed=1, agents=args.agents, days=args.days,
                                                 contacts_per_agent_per_day=args.per_day,
                                                 start_date=date(2026, 11, 2)))
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"contacts={summary.contacts} seconds={seconds:.1f} contacts_per_s={summary.contacts / seconds:.0f} "
          f"peak_rss_mib={peak_mib:.0f}")


if __name__ == "__main__":
    main()
