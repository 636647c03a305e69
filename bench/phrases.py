"""Benchmark: the default scorecard's phrase criteria on wording nobody here wrote them for.

    .venv/bin/python bench/phrases.py                 # both sets, Markdown tables for bench/RESULTS.md
    .venv/bin/python bench/phrases.py --misses dev    # also list what the rules missed on the dev set

`bench/evalset/dev.jsonl`, `dev2.jsonl` and `heldout.jsonl` are agent turns in Russian, English
and Kazakh, each written by a separate session that had not seen the scorecard's phrase lists or
the other sets, labelled per criterion (see contactqa/autoqa/measure.py). dev2 adds rudeness,
offers of more help and introductions, the hardest three. The phrase lists may be improved by
looking at the dev sets' misses; the held-out set is only ever measured.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from contactqa.autoqa.measure import listing, measure, read_set, table
from contactqa.config import DEFAULT_CONFIG_DIR, Scorecard, load_model

SETS = Path(__file__).parent / "evalset"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scorecard", type=Path, default=DEFAULT_CONFIG_DIR / "scorecard.yml")
    parser.add_argument("--only", choices=["dev", "dev2", "heldout"], help="measure one set")
    parser.add_argument("--misses", choices=["dev", "dev2"], help="list a dev set's misses and false alarms")
    args = parser.parse_args()
    scorecard = load_model(Scorecard, args.scorecard)
    print(f"scorecard {scorecard.version} ({args.scorecard})\n")
    for name in ([args.only] if args.only else ["dev", "dev2", "heldout"]):
        path = SETS / f"{name}.jsonl"
        if not path.exists():
            print(f"{path}: missing\n")
            continue
        tallies = measure(scorecard, read_set(path))
        print(f"### {name} ({path.name})\n\n{table(tallies)}\n")
        if args.misses == name:
            print("\n".join(listing(tallies)) + "\n")


if __name__ == "__main__":
    main()
