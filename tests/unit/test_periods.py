"""Local weeks and months, and when a period closes — in Python and as dbt computes them in SQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from contactqa.periods import PeriodError, local_day, parse_period, period_of, periods_between, zone_label


def test_a_night_call_on_the_first_belongs_to_the_new_month():
    # 19:30 UTC on 30 November is 00:30 on 1 December in Almaty (UTC+5)
    day = local_day(datetime(2026, 11, 30, 19, 30), "Asia/Almaty")
    assert day == date(2026, 12, 1)
    assert period_of(day, "month").key == "2026-12"
    assert period_of(day, "week").key == "2026-W49"
    assert local_day(datetime(2026, 11, 30, 18, 59), "Asia/Almaty") == date(2026, 11, 30)


def test_iso_weeks_cross_years_and_months():
    assert period_of(date(2027, 1, 3), "week").key == "2026-W53"  # Sunday of 2026's last ISO week
    assert period_of(date(2024, 12, 30), "week").key == "2025-W01"
    week = parse_period("2026-W49")
    assert (week.starts_on, week.ends_on) == (date(2026, 11, 30), date(2026, 12, 6))
    assert parse_period("2026-02").ends_on == date(2026, 2, 28)
    assert parse_period("2026-W45").previous().key == "2026-W44"


def test_a_period_closes_after_the_grace_days():
    november = parse_period("2026-11")
    assert november.closes_on(3) == date(2026, 12, 4)
    assert not november.is_closed(date(2026, 12, 3), 3)
    assert november.is_closed(date(2026, 12, 4), 3)
    assert november.is_closed(date(2026, 12, 1), 0)


@pytest.mark.parametrize("key", ["November", "2026-13", "2026-W54", "2026-W00", "2025-W53", "2026-1"])
def test_malformed_periods_say_what_is_expected(key):
    with pytest.raises(PeriodError, match="month like 2026-11|ISO week|has no ISO week"):
        parse_period(key)


def test_periods_between_and_the_zone_label():
    assert [p.key for p in periods_between(date(2026, 10, 30), date(2026, 11, 10), "week")] == \
        ["2026-W44", "2026-W45", "2026-W46"]
    assert zone_label("Asia/Almaty", datetime(2026, 11, 1)) == "Asia/Almaty (UTC+05:00)"


def test_sql_periods_agree_with_python_for_every_hour_of_a_year():
    """dbt's macros (duckdb__to_local, duckdb__format_week, format_period) against contactqa.periods."""
    start = datetime(2026, 12, 20)
    moments = [start + timedelta(hours=h) for h in range(0, 24 * 400, 7)]
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        found = con.execute("""
            SELECT strftime(local, '%Y-%m'), strftime(local, '%G-W%V'), CAST(local AS DATE)
            FROM (SELECT CAST((t AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Almaty' AS TIMESTAMP) AS local
                  FROM unnest(?::TIMESTAMP[]) AS u(t))""", [moments]).fetchall()
    for moment, (month, week, day) in zip(moments, found):
        expected_day = local_day(moment, "Asia/Almaty")
        assert day == expected_day
        assert (month, week) == (period_of(expected_day, "month").key, period_of(expected_day, "week").key)
