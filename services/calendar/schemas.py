"""What the calendar API sends and receives."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class YearIn(msgspec.Struct, frozen=True):
    name: str
    start_date: date
    end_date: date


class PeriodIn(msgspec.Struct, frozen=True):
    kind: str
    number: int
    grade_from: int
    grade_to: int
    start_date: date
    end_date: date
    name: str | None = None


class LayoutIn(msgspec.Struct, frozen=True):
    """`quarters` (quarters for grades 1–9, halves for 10–11) or `trimesters`; `periods` replace the standard
    dates when the school edits them."""

    layout: str
    periods: list[PeriodIn] | None = None


class HolidayIn(msgspec.Struct, frozen=True):
    name: str
    start_date: date
    end_date: date
    grade_from: int = 1
    grade_to: int = 11


class PeriodOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    number: int
    name: str
    grade_from: int
    grade_to: int
    start_date: date
    end_date: date
    closed_at: datetime | None
    closed_by: int | None


class HolidayOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    start_date: date
    end_date: date
    grade_from: int
    grade_to: int


class YearOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    start_date: date
    end_date: date
    periods: list[PeriodOut] = []
    holidays: list[HolidayOut] = []


class SchoolDayOut(msgspec.Struct, frozen=True):
    grade: int
    on: date
    school_day: bool
    period: PeriodOut | None
