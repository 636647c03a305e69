"""When a record can have happened: not after the ingest run (plus a tolerance), not before 2000.

A clock five years ahead or an unset clock (1970) in an export would otherwise land: a chat that
ends in 2031 is reported as lasting 36470 hours. Every source is held to the same window, one check:
the landed timestamp columns by the Great Expectations suites (`$earliest` and `$latest` in
expectations/*.yml), and the times that land only as offsets (chat and Telegram messages) by their
connector through `TimeWindow.problem`, with the same words.

Every source takes the two options (defaults in brackets):
  future_tolerance_hours  how far after the ingest run a time may be [24]: a PBX clock a little
                          ahead, or a timezone set wrong by a few hours, is not a reason to quarantine
  not_before              the earliest believable date [2000-01-01]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

DEFAULT_FUTURE_TOLERANCE_HOURS = 24.0
DEFAULT_NOT_BEFORE = date(2000, 1, 1)
OPTIONS = {
    "future_tolerance_hours": f"hours a time may lie after the ingest run (default {DEFAULT_FUTURE_TOLERANCE_HOURS:g})",
    "not_before": f"the earliest believable date, YYYY-MM-DD (default {DEFAULT_NOT_BEFORE})",
}
# The words a quarantined record carries; expectations/*.yml say the same in their `why`.
FUTURE = "dated in the future (after the ingest run plus option future_tolerance_hours, default 24 h)"
TOO_OLD = "dated before option not_before (default 2000-01-01): a clock that was wrong or never set"


def _tolerance(options: dict[str, Any]) -> float:
    value = options.get("future_tolerance_hours", DEFAULT_FUTURE_TOLERANCE_HOURS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"option future_tolerance_hours must be a number of hours, 0 or more, not {value!r}")
    return float(value)


def _not_before(options: dict[str, Any]) -> date:
    value = options.get("not_before", DEFAULT_NOT_BEFORE)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"option not_before must be a date like 2000-01-01, not {value!r}") from None


def option_problems(options: dict[str, Any]) -> list[str]:
    problems = []
    for check in (_tolerance, _not_before):
        try:
            check(options)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


@dataclass(frozen=True)
class TimeWindow:
    """The times a record may carry, as naive UTC (the warehouse's convention)."""

    earliest: datetime
    latest: datetime
    now: datetime

    @classmethod
    def for_run(cls, options: dict[str, Any] | None = None, now: datetime | None = None) -> TimeWindow:
        """The window of an ingest run starting `now`, under a source's options (checked by option_problems)."""
        options = options or {}
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        earliest = datetime.combine(_not_before(options), datetime.min.time())
        return cls(earliest=earliest, latest=now + timedelta(hours=_tolerance(options)), now=now)

    def problem(self, at: datetime, field: str) -> str | None:
        """Why `at` (naive UTC) cannot be right, in the suites' words; None when it can."""
        if at > self.latest:
            return f"{FUTURE}: {field}={at.isoformat(sep=' ')}"
        if at < self.earliest:
            return f"{TOO_OLD}: {field}={at.isoformat(sep=' ')}"
        return None
