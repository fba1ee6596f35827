"""The school year (R-STR-1): years, study periods per grade range, holidays."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase

PERIOD_KINDS = ("quarter", "trimester", "half", "year")


class AcademicYear(SchoolBase):
    """Учебный год, e.g. 2026/2027."""

    __tablename__ = "academic_year"
    __table_args__ = (CheckConstraint("start_date < end_date", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class StudyPeriod(SchoolBase):
    """Учебный (аттестационный) период: a quarter, trimester, half or the year, for a range of grades."""

    __tablename__ = "study_period"
    __table_args__ = (
        CheckConstraint("start_date <= end_date", name="dates"),
        CheckConstraint("grade_from between 1 and 11 and grade_to between grade_from and 11", name="grades"),
        CheckConstraint(f"kind in {PERIOD_KINDS!r}", name="kind"),
        UniqueConstraint("academic_year_id", "kind", "number", "grade_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    number: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(60))
    grade_from: Mapped[int] = mapped_column(SmallInteger)
    grade_to: Mapped[int] = mapped_column(SmallInteger)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(Integer)


class Holiday(SchoolBase):
    """Каникулы или праздничный день: no lessons are generated on these dates."""

    __tablename__ = "holiday"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    grade_from: Mapped[int] = mapped_column(SmallInteger, default=1)
    grade_to: Mapped[int] = mapped_column(SmallInteger, default=11)
