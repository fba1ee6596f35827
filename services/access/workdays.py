"""Working days of a school: Monday to Friday, except its school-wide holidays (days off for every grade)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import Holiday


async def add_working_days(session: AsyncSession, start: date, days: int) -> date:
    """The date `days` working days after `start` (the day of registration itself does not count)."""
    horizon = start + timedelta(days=days * 3 + 60)
    spans = (await session.execute(
        select(Holiday.start_date, Holiday.end_date).where(
            Holiday.start_date <= horizon, Holiday.end_date > start, Holiday.grade_from <= 1, Holiday.grade_to >= 11)
    )).tuples().all()
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and not any(s <= day <= e for s, e in spans):
            left -= 1
    return day


def age_on(birth: date, on: date) -> int:
    """Full years of a person born on `birth` on the date `on`."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
