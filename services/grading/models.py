"""Grading systems as school data (R-STR-2): systems and their values, conversions, which system a subject
uses in which grade, and the kinds of work with their weights."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase


class GradingSystem(SchoolBase):
    """Система оценивания: 5-балльная, 10-балльная, 100-балльная, зачёт/незачёт."""

    __tablename__ = "grading_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class GradeValue(SchoolBase):
    """One value a mark may take in a system ("5", "зач"), or a special mark («н/а», «осв») with no number."""

    __tablename__ = "grade_value"
    __table_args__ = (UniqueConstraint("grading_system_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grading_system_id: Mapped[int] = mapped_column(ForeignKey("grading_system.id"), index=True)
    value: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(60))
    numeric_value: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    is_passing: Mapped[bool] = mapped_column(Boolean, default=True)
    is_special: Mapped[bool] = mapped_column(Boolean, default=False)
    ordering: Mapped[int] = mapped_column(SmallInteger, default=0)


class GradeConversion(SchoolBase):
    """Перевод отметок: a value of one system and its equivalent in another."""

    __tablename__ = "grade_conversion"

    from_value_id: Mapped[int] = mapped_column(ForeignKey("grade_value.id"), primary_key=True)
    to_system_id: Mapped[int] = mapped_column(ForeignKey("grading_system.id"), primary_key=True)
    to_value_id: Mapped[int] = mapped_column(ForeignKey("grade_value.id"))


class SubjectGrading(SchoolBase):
    """Which system a subject uses in a grade; `marks_allowed` false means attendance only (grade 1)."""

    __tablename__ = "subject_grading"
    __table_args__ = (CheckConstraint("grade between 1 and 11", name="grade"),)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    grading_system_id: Mapped[int | None] = mapped_column(ForeignKey("grading_system.id"))
    marks_allowed: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkKind(SchoolBase):
    """Вид работы (контрольная, устный ответ…) with the weight its marks carry in the weighted average."""

    __tablename__ = "work_kind"
    __table_args__ = (CheckConstraint("weight > 0 and weight <= 10", name="weight"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(20))
    weight: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    is_written: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
