"""What the diary API sends (read-only)."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import msgspec

from services.calendar.models import StudyPeriod
from services.diary import service
from services.structure.models import Person


class ChangeOut(msgspec.Struct, frozen=True):
    kind: str
    label: str
    reason: str
    detail: str


class MarkOut(msgspec.Struct, frozen=True):
    id: int
    value: str
    work_kind: str
    weight: Decimal
    comment: str | None
    on_date: date | None = None


class AbsenceOut(msgspec.Struct, frozen=True):
    status: str
    reason: str | None
    late_minutes: int | None
    label: str


class FileOut(msgspec.Struct, frozen=True):
    id: int
    filename: str
    size: int
    individual: bool
    url: str


class LessonOut(msgspec.Struct, frozen=True):
    id: int
    on_date: date
    number: int
    starts: time | None
    ends: time | None
    subject: str
    teacher: str
    room: str | None
    cancelled: bool
    changes: list[ChangeOut]
    topic: str | None
    homework: str | None
    no_homework: bool
    individual_homework: str | None
    files: list[FileOut]
    marks: list[MarkOut]
    absence: AbsenceOut | None


class DayOut(msgspec.Struct, frozen=True):
    on_date: date
    weekday: str
    lessons: list[LessonOut]


class WeekOut(msgspec.Struct, frozen=True):
    student_id: int
    student_name: str
    monday: date
    last_day: date
    """Saturday, or Sunday when a lesson falls on it."""
    previous_week: date
    next_week: date
    version: str
    days: list[DayOut]


class VersionOut(msgspec.Struct, frozen=True):
    version: str


class FinalOut(msgspec.Struct, frozen=True):
    kind: str
    label: str
    value: str


class SubjectOut(msgspec.Struct, frozen=True):
    subject_id: int
    subject: str
    marks: list[MarkOut]
    average: Decimal | None
    average_explained: str
    forecast: str | None
    """The period mark the weighted average rounds to by the school's rule: a forecast, not a mark."""
    finals: list[FinalOut]


class PeriodOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    start_date: date
    end_date: date


class SubjectsOut(msgspec.Struct, frozen=True):
    student_id: int
    student_name: str
    period: PeriodOut | None
    periods: list[PeriodOut]
    rounding_threshold: Decimal
    forecast_open: bool
    subjects: list[SubjectOut]


class ChildOut(msgspec.Struct, frozen=True):
    school_slug: str
    school_name: str
    student_id: int
    name: str
    class_name: str | None
    url: str


def _mark(m: service.MarkView) -> MarkOut:
    return MarkOut(m.id, m.value, m.work_kind, m.weight, m.comment, m.on_date)


def full_name(p: Person) -> str:
    return " ".join(x for x in (p.last_name, p.first_name) if x)


def week_out(slug: str, w: service.DiaryWeek, version: str) -> WeekOut:
    def lesson(x: service.DiaryLesson) -> LessonOut:
        return LessonOut(
            x.id, x.on_date, x.number, x.starts, x.ends, x.subject, x.teacher, x.room, x.cancelled,
            [ChangeOut(c.kind, c.label, c.reason, c.detail) for c in x.changes], x.topic, x.homework, x.no_homework,
            x.individual_homework,
            [FileOut(f.id, f.filename, f.size, f.individual, file_url(slug, f.id)) for f in x.files],
            [_mark(m) for m in x.marks],
            AbsenceOut(x.absence.status, x.absence.reason, x.absence.late_minutes, x.absence.label)
            if x.absence else None)

    return WeekOut(w.student.id, full_name(w.student), w.monday, w.last_day, w.monday - timedelta(days=7),
                   w.monday + timedelta(days=7), version,
                   [DayOut(d.on_date, d.weekday, [lesson(x) for x in d.lessons]) for d in w.days])


def period_out(p: StudyPeriod) -> PeriodOut:
    return PeriodOut(p.id, service.period_name(p), p.start_date, p.end_date)


def subjects_out(v: service.SubjectsView) -> SubjectsOut:
    return SubjectsOut(
        v.student.id, full_name(v.student), period_out(v.period) if v.period else None,
        [period_out(p) for p in v.periods], v.rounding_threshold, v.forecast_open,
        [SubjectOut(s.subject_id, s.subject, [_mark(m) for m in s.marks], s.average.value, s.average.explain(),
                    s.forecast, [FinalOut(f.kind, f.label, f.value) for f in s.finals]) for s in v.subjects])


def file_url(slug: str, file_id: int) -> str:
    """The journal's download endpoint, which lets the students and parents of the lesson's class through."""
    return f"/api/v1/schools/{slug}/journal/files/{file_id}"


def diary_url(slug: str, student_id: int) -> str:
    return f"/s/{slug}/diary/{student_id}"


def child_out(c: service.SchoolChild) -> ChildOut:
    return ChildOut(c.school_slug, c.school_name, c.child.student_id, f"{c.child.last_name} {c.child.first_name}",
                    c.child.class_name, diary_url(c.school_slug, c.child.student_id))
