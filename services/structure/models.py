"""School structure tables (in the school's own schema): subjects, people, classes and enrolment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.calendar import models as _calendar  # noqa: F401 - teaching_load refers to academic_year
from services.db import SchoolBase
from services.structure import names

PERSON_KINDS = ("staff", "student", "guardian")


class Subject(SchoolBase):
    """Учебный предмет."""

    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(40))


class Person(SchoolBase):
    """Anyone the school keeps records of: staff, students, guardians. Personal data: stays in this schema."""

    __tablename__ = "person"
    __table_args__ = (CheckConstraint(f"kind in {PERSON_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def full_name(self) -> str:
        return names.full_name(self.last_name, self.first_name, self.middle_name)

    @property
    def short_name(self) -> str:
        return names.short_name(self.last_name, self.first_name)


class ClassUnit(SchoolBase):
    """Класс: 1А…11В."""

    __tablename__ = "class_unit"
    __table_args__ = (CheckConstraint("grade between 1 and 11", name="grade"), UniqueConstraint("grade", "letter"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger)
    letter: Mapped[str] = mapped_column(String(4))
    class_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    @property
    def name(self) -> str:
        return f"{self.grade}{self.letter}"


class Enrollment(SchoolBase):
    """A student's membership of a class from one date to another (open-ended while current)."""

    __tablename__ = "enrollment"
    # At most one open enrolment per student, whatever two requests do at once.
    __table_args__ = (
        Index("ux_enrollment_open", "student_id", unique=True, postgresql_where=text("end_date IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    class_unit_id: Mapped[int] = mapped_column(ForeignKey("class_unit.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class SchoolSetting(SchoolBase):
    """A setting the school's administrator edits (idle timeout, homework deadline hours…), as data."""

    __tablename__ = "school_setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Guardianship(SchoolBase):
    """A guardian (родитель, законный представитель) of a student: what a parent may see (R-ROLE-4)."""

    __tablename__ = "guardianship"

    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(40), server_default="законный представитель")


GROUP_KINDS = ("subgroup", "cross_class", "individual")


class StudyGroup(SchoolBase):
    """Группа: part of a class for a subject, a cross-class group (elective, club), or one home-schooled student."""

    __tablename__ = "study_group"
    __table_args__ = (CheckConstraint(f"kind in {GROUP_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    class_unit_id: Mapped[int | None] = mapped_column(ForeignKey("class_unit.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))


class GroupMembership(SchoolBase):
    """A student in a group from one date to another (open-ended while current)."""

    __tablename__ = "group_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_group.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class TeachingLoad(SchoolBase):
    """Учебная нагрузка: teacher × subject × class or group × hours per week, for a year."""

    __tablename__ = "teaching_load"
    __table_args__ = (
        CheckConstraint("(class_unit_id IS NULL) <> (group_id IS NULL)", name="target"),
        CheckConstraint("hours_per_week > 0 and hours_per_week <= 40", name="hours"),
        Index("ux_teaching_load_class", "academic_year_id", "teacher_id", "subject_id", "class_unit_id", unique=True,
              postgresql_where=text("class_unit_id IS NOT NULL")),
        Index("ux_teaching_load_group", "academic_year_id", "teacher_id", "subject_id", "group_id", unique=True,
              postgresql_where=text("group_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    class_unit_id: Mapped[int | None] = mapped_column(ForeignKey("class_unit.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("study_group.id"), index=True)
    hours_per_week: Mapped[Decimal] = mapped_column(Numeric(4, 1))


MOVEMENT_KINDS = ("arrival", "transfer", "withdrawal")


class Movement(SchoolBase):
    """Движение учащихся: arrival, transfer between classes or withdrawal, with its date (R-STR-6)."""

    __tablename__ = "movement"
    __table_args__ = (CheckConstraint(f"kind in {MOVEMENT_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    on_date: Mapped[date] = mapped_column(Date)
    from_class_id: Mapped[int | None] = mapped_column(ForeignKey("class_unit.id"))
    to_class_id: Mapped[int | None] = mapped_column(ForeignKey("class_unit.id"))
    reason: Mapped[str | None] = mapped_column(String(300))
    document: Mapped[str | None] = mapped_column(String(100))
    """Приказ: number and date of the order."""
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
