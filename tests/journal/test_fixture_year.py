"""The journal fixture's year holds a quarter around any day the suite may run on (holidays and summer too)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from tests.journal.conftest import year_around

DAYS = [date(2026, 11, 23), date(2026, 12, 30), date(2027, 1, 5), date(2027, 3, 25), date(2027, 5, 26),
        date(2027, 6, 15), date(2027, 8, 31), date(2027, 9, 1), date(2027, 9, 10), date(2027, 9, 25),
        date(2027, 10, 20), date(2026, 10, 30)]


@pytest.mark.parametrize("today", DAYS)
def test_a_quarter_holds_today_and_tomorrow_and_the_year_the_last_twenty_days(today: date) -> None:
    year, drafts = year_around(today)
    quarters = [d for d in drafts if d.kind == "quarter"]
    assert [q.number for q in quarters] == [1, 2, 3, 4]
    assert any(q.start_date <= today and today + timedelta(days=1) <= q.end_date for q in quarters)
    assert year.start_date <= today - timedelta(days=20)
    assert today + timedelta(days=1) <= year.end_date
    assert quarters[0].end_date < today  # quarter 1 is over: tests close it without locking today
    assert all(year.start_date <= d.start_date <= d.end_date <= year.end_date for d in drafts)
    assert all(a.end_date < b.start_date for a, b in itertools.pairwise(quarters))
