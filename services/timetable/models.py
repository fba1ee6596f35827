"""Bell schedules, the weekly timetable, the lessons it generates and the changes to them (R-STR-5)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - teaching_load and person are referred to

CHANGE_KINDS = ("substitution", "cancellation", "room", "extra")
LESSON_STATUSES = ("planned", "cancelled")


class BellSchedule(SchoolBase):
    """Расписание звонков; a school may keep several (a shortened day, a second shift)."""

    __tablename__ = "bell_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(default=False)


class Bell(SchoolBase):
    """One lesson slot of a bell schedule: its number and times (school time zone)."""

    __tablename__ = "bell"
    __table_args__ = (UniqueConstraint("bell_schedule_id", "number"), CheckConstraint("starts < ends", name="times"))

    id: Mapped[int] = mapped_column(primary_key=True)
    bell_schedule_id: Mapped[int] = mapped_column(ForeignKey("bell_schedule.id"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class TimetableEntry(SchoolBase):
    """A weekly slot: on this weekday, at this lesson number, this teaching-load item, in this room."""

    __tablename__ = "timetable_entry"
    __table_args__ = (
        CheckConstraint("weekday between 1 and 6", name="weekday"),
        CheckConstraint("lesson_number between 0 and 12", name="lesson_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teaching_load_id: Mapped[int] = mapped_column(ForeignKey("teaching_load.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    lesson_number: Mapped[int] = mapped_column(SmallInteger)
    room: Mapped[str | None] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Lesson(SchoolBase):
    """Урок on a date, generated from the timetable or added; the journal's entries hang on it."""

    __tablename__ = "lesson"
    __table_args__ = (
        UniqueConstraint("teaching_load_id", "on_date", "lesson_number"),
        CheckConstraint(f"status in {LESSON_STATUSES!r}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teaching_load_id: Mapped[int] = mapped_column(ForeignKey("teaching_load.id"), index=True)
    on_date: Mapped[date] = mapped_column(Date, index=True)
    lesson_number: Mapped[int] = mapped_column(SmallInteger)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    """Who teaches it: the load's teacher, or the substitute."""
    room: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    timetable_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timetable_entry.id"))


class LessonChange(SchoolBase):
    """Изменение в расписании: substitution, cancellation, room change or extra lesson, with its reason."""

    __tablename__ = "lesson_change"
    __table_args__ = (CheckConstraint(f"kind in {CHANGE_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), index=True)
    kind: Mapped[str] = mapped_column(String(14))
    reason: Mapped[str] = mapped_column(String(300))
    previous_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    previous_room: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(Integer)
