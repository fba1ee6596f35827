"""Every calendar query. School tables only: the session decides which school's schema they hit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import AcademicYear, Holiday, StudyPeriod


async def years(session: AsyncSession) -> list[AcademicYear]:
    return list((await session.scalars(select(AcademicYear).order_by(AcademicYear.start_date))).all())


async def year(session: AsyncSession, year_id: int) -> AcademicYear | None:
    return await session.get(AcademicYear, year_id)


async def year_named(session: AsyncSession, name: str) -> AcademicYear | None:
    return (await session.scalars(select(AcademicYear).where(AcademicYear.name == name))).first()


async def overlapping_years(session: AsyncSession, start: date, end: date, *, exclude: int | None = None
                            ) -> list[AcademicYear]:
    query = select(AcademicYear).where(AcademicYear.start_date <= end, AcademicYear.end_date >= start)
    if exclude is not None:
        query = query.where(AcademicYear.id != exclude)
    return list((await session.scalars(query)).all())


async def year_on(session: AsyncSession, on: date) -> AcademicYear | None:
    return (await session.scalars(
        select(AcademicYear).where(AcademicYear.start_date <= on, AcademicYear.end_date >= on))).first()


async def periods(session: AsyncSession, year_id: int) -> list[StudyPeriod]:
    return list((await session.scalars(
        select(StudyPeriod).where(StudyPeriod.academic_year_id == year_id)
        .order_by(StudyPeriod.grade_from, StudyPeriod.kind, StudyPeriod.number)
    )).all())


async def period(session: AsyncSession, period_id: int) -> StudyPeriod | None:
    return await session.get(StudyPeriod, period_id)


async def periods_on(session: AsyncSession, grade: int, on: date) -> list[StudyPeriod]:
    """Periods covering `on` for `grade`, shortest first (a quarter before the year)."""
    return list((await session.scalars(
        select(StudyPeriod).where(StudyPeriod.grade_from <= grade, StudyPeriod.grade_to >= grade,
                                  StudyPeriod.start_date <= on, StudyPeriod.end_date >= on)
        .order_by(StudyPeriod.end_date - StudyPeriod.start_date, StudyPeriod.id)
    )).all())


async def holidays(session: AsyncSession, year_id: int) -> list[Holiday]:
    return list((await session.scalars(
        select(Holiday).where(Holiday.academic_year_id == year_id).order_by(Holiday.start_date, Holiday.grade_from)
    )).all())


async def holiday(session: AsyncSession, holiday_id: int) -> Holiday | None:
    return await session.get(Holiday, holiday_id)


async def holiday_on(session: AsyncSession, grade: int, on: date) -> Holiday | None:
    return (await session.scalars(
        select(Holiday).where(Holiday.grade_from <= grade, Holiday.grade_to >= grade,
                              Holiday.start_date <= on, Holiday.end_date >= on).limit(1))).first()


async def school_wide_holidays(session: AsyncSession, after: date, until: date) -> list[tuple[date, date]]:
    """(first, last day) of the holidays for every grade that end after `after` and start by `until`."""
    rows = await session.execute(select(Holiday.start_date, Holiday.end_date).where(
        Holiday.start_date <= until, Holiday.end_date > after, Holiday.grade_from <= 1, Holiday.grade_to >= 11))
    return list(rows.tuples().all())
