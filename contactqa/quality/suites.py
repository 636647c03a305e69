"""Loading the readable suite files in expectations/ and running them with Great Expectations."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from contactqa.config import REPO_DIR
from contactqa.privacy import masked_excerpt
from contactqa.quality.window import TimeWindow

EXPECTATIONS_DIR = REPO_DIR / "expectations"
ROW = "_row"  # the locator column GX reports failing rows by


@dataclass(frozen=True)
class Reference:
    column: str
    table: str
    key: str
    why: str
    # What to do about a missing value, by the value's prefix ("ext:" -> what to configure); the
    # text may say {rest} for the value after the prefix.
    hints: dict[str, str] = field(default_factory=dict)

    def reason(self, value: Any) -> str:
        reason = f"{self.why}: {self.column}={value!r}"
        for prefix, hint in self.hints.items():
            if isinstance(value, str) and value.startswith(prefix):
                return f"{reason} — {hint.replace('{rest}', value[len(prefix):])}"
        return reason


@dataclass
class Suite:
    dataset: str
    description: str
    unique_key: list[str]
    references: list[Reference]
    expectations: list[dict[str, Any]] = field(default_factory=list)


def load_suite(dataset: str, directory: Path = EXPECTATIONS_DIR) -> Suite:
    path = directory / f"{dataset}.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Suite(
        dataset=doc["dataset"],
        description=doc.get("description", ""),
        unique_key=list(doc.get("unique_key") or []),
        references=[Reference(**r) for r in doc.get("references") or []],
        expectations=list(doc.get("expectations") or []),
    )


def _class_name(expect: str) -> str:
    return "Expect" + "".join(part.capitalize() for part in expect.removeprefix("expect_").split("_"))


@lru_cache(maxsize=1)
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _substitute(value: Any, window: TimeWindow) -> Any:
    """$now: the run's time; $latest / $earliest: the times a record may carry (contactqa.quality.window)."""
    times = {"$now": window.now, "$latest": window.latest, "$earliest": window.earliest}
    return times[value] if isinstance(value, str) and value in times else value


def validate_frame(suite: Suite, frame: pd.DataFrame, *, now: datetime | None = None,
                   window: TimeWindow | None = None) -> dict[int, list[str]]:
    """Run the suite's expectations on `frame` (which has a ROW column); return row -> reasons failed."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    if frame.empty or not suite.expectations:
        return {}
    window = window or TimeWindow.for_run(now=now or datetime.now(timezone.utc).replace(tzinfo=None))
    ctx = _context()
    name = f"{suite.dataset}-{id(frame)}"
    source = ctx.data_sources.add_or_update_pandas(name)
    batch = source.add_dataframe_asset(suite.dataset).add_batch_definition_whole_dataframe("batch")
    gx_suite = ctx.suites.add(gx.ExpectationSuite(name=name))
    for spec in suite.expectations:
        kwargs = {k: _substitute(v, window) for k, v in spec.items() if k not in {"expect", "why"}}
        columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        if any(c not in frame.columns for c in columns):
            continue
        reason = f"{spec.get('why', spec['expect'])} [{spec['expect']}({', '.join(columns)})]"
        gx_suite.add_expectation(getattr(gxe, _class_name(spec["expect"]))(**kwargs, meta={"reason": reason}))
    gx_suite.save()
    validation = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))
    result = validation.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]},
    )
    failures: dict[int, list[str]] = {}
    for outcome in result.results:
        reason = outcome.expectation_config.meta["reason"]
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(f"suite {suite.dataset}: {reason} could not run: "
                               f"{outcome.exception_info.get('exception_message')}")
        if outcome.success:
            continue
        for item in outcome.result.get("unexpected_index_list") or []:
            row = int(item[ROW])
            shown = {k: v for k, v in item.items() if k != ROW}
            failures.setdefault(row, []).append(f"{reason}: {_show(shown)}")
    ctx.validation_definitions.delete(name)
    ctx.suites.delete(name)
    ctx.data_sources.delete(name)
    return failures


def _show(values: dict[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
            value = value.item()  # numpy scalars read as plain numbers
        text = "empty" if value is None or (isinstance(value, float) and pd.isna(value)) else repr(value)
        if isinstance(value, pd.Timestamp):
            text = value.isoformat()
        parts.append(f"{key}={masked_excerpt(text, 80)}")  # masked before the cut: no half card numbers
    return ", ".join(parts)
