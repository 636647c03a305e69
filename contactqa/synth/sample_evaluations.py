"""Synthetic evaluators working through the monitoring sample, for the demo's monitoring cycle.

In a centre the cycle is: the nightly build draws the sample and assigns it to evaluators, they
evaluate their picks, their results land with the next ingest, and the period's scores and
feedback then rest on them. The demo plays the evaluators: for every pick still to evaluate in
`marts.fct_monitoring_sample`, its assigned evaluator (or the first synthetic one) judges the
contact against the ground truth with a human slip rate, and the rows are written as an
evaluations CSV into the landing folder, where the evaluations source picks them up.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from .evaluations import EVALUATION_COLUMNS, EVALUATORS, EvaluatedContact, score_rows
from .rand import rng_for

SLIP_RATE = 0.02  # evaluators working through their own queue slip less than in calibration


def evaluate_sample(warehouse_path: Path, ground_truth_dir: Path, out_file: Path, *, seed: int = 42,
                    timezone: str = "UTC") -> int:
    """Evaluate every sampled, not yet evaluated contact; returns the evaluation rows written."""
    truth = _ground_truth(ground_truth_dir / "contacts.csv")
    languages = dict(EVALUATORS)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        picks = con.execute("""
            SELECT contact_id, coalesce(assigned_evaluator_id, ?) AS evaluator_id, started_at
            FROM marts.fct_monitoring_sample
            WHERE is_sampled AND NOT is_evaluated
            ORDER BY contact_id""", [EVALUATORS[0][0]]).fetchall()
    rng = rng_for(seed, "sample-evaluations")
    rows: list[list[object]] = []
    zone = ZoneInfo(timezone)
    for number, (contact_id, evaluator_id, started_at) in enumerate(picks, start=1):
        contact = truth.get(contact_id)
        if contact is None:
            continue
        local_start = started_at.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        evaluated_at = (local_start + dt.timedelta(days=1)).replace(hour=11, minute=number % 60, second=0)
        evaluator = (evaluator_id, languages.get(evaluator_id, "ru"))
        rows += score_rows(rng, f"EVS-{number:06d}", contact, evaluator, evaluated_at.isoformat(), SLIP_RATE)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with out_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVALUATION_COLUMNS)
        writer.writerows(rows)
    return len(rows)


def _ground_truth(path: Path) -> dict[str, EvaluatedContact]:
    with path.open(encoding="utf-8") as handle:
        return {
            row["contact_id"]: EvaluatedContact(
                row["contact_id"], row["channel"], row["topic"],
                frozenset(code for code in (row["fault_codes"] or "").split(";") if code), 0.0,
                row.get("source_system") or "")
            for row in csv.DictReader(handle)
        }
