"""Reporting periods: the centre's local ISO weeks and months, and when each one closes.

All stored times are UTC; a contact belongs to the week and month of its *local* start
(the project's `timezone`), so a call at 02:00 in Almaty on 1 December is December's, not
November's. A period is open until `close_after_days` full days after its last day: late
evaluations and disputes still change it. Feedback goes out only for closed periods; a
change after that is a numbered revision (contactqa.delivery).

dbt computes the same keys in SQL (macros/periods.sql); tests check the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

PeriodType = Literal["week", "month"]
PERIOD_TYPES: tuple[PeriodType, ...] = ("week", "month")

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_WEEK = re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")


class PeriodError(ValueError):
    """A period key that is neither a month (2026-11) nor an ISO week (2026-W45)."""


@dataclass(frozen=True, order=True)
class Period:
    starts_on: date  # first local day
    ends_on: date  # last local day (inclusive)
    type: PeriodType
    key: str  # '2026-11' or '2026-W45'

    def closes_on(self, close_after_days: int) -> date:
        """The first local day on which the period is closed."""
        return self.ends_on + timedelta(days=1 + close_after_days)

    def is_closed(self, as_of: date, close_after_days: int) -> bool:
        return as_of >= self.closes_on(close_after_days)

    def previous(self) -> "Period":
        return period_of(self.starts_on - timedelta(days=1), self.type)

    def __str__(self) -> str:
        return self.key


def period_of(day: date, period_type: PeriodType) -> Period:
    """The week or month a local day belongs to."""
    if period_type == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(first, following - timedelta(days=1), "month", f"{first:%Y-%m}")
    if period_type == "week":
        year, week, weekday = day.isocalendar()
        monday = day - timedelta(days=weekday - 1)
        return Period(monday, monday + timedelta(days=6), "week", f"{year}-W{week:02d}")
    raise PeriodError(f"unknown period type {period_type!r} (week or month)")


def parse_period(key: str) -> Period:
    """'2026-11' -> that month; '2026-W45' -> that ISO week (Monday to Sunday)."""
    key = key.strip()
    if match := _MONTH.match(key):
        return period_of(date(int(match[1]), int(match[2]), 1), "month")
    if match := _WEEK.match(key):
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise PeriodError(f"{key!r}: {match[1]} has no ISO week {int(match[2])}") from None
        return period_of(monday, "week")
    raise PeriodError(f"{key!r} is not a period: use a month like 2026-11 or an ISO week like 2026-W45")


def local_day(utc_naive: datetime, tz: str) -> date:
    """The local calendar day of a stored (naive UTC) timestamp."""
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()


def today(tz: str, as_of: date | None = None) -> date:
    """Today in the centre's timezone, or the date a run was asked to act as of (tests, re-runs)."""
    return as_of if as_of is not None else datetime.now(ZoneInfo(tz)).date()


def periods_between(first: date, last: date, period_type: PeriodType) -> list[Period]:
    """Every period of a type touching the local days first..last, in order."""
    found: list[Period] = []
    period = period_of(first, period_type)
    while period.starts_on <= last:
        found.append(period)
        period = period_of(period.ends_on + timedelta(days=1), period_type)
    return found


def zone_label(tz: str, at: datetime | None = None) -> str:
    """How reports name the zone: 'Asia/Almaty (UTC+05:00)'."""
    moment = (at or datetime.now(timezone.utc)).replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    offset = moment.strftime("%z")
    return f"{tz} (UTC{offset[:3]}:{offset[3:]})" if offset else tz
