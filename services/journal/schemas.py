"""What the journal API sends and receives."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import msgspec


class ContentIn(msgspec.Struct, frozen=True):
    topic: str | None = None
    covered: str | None = None
    homework: str | None = None
    no_homework: bool = False
    plan_topic_id: int | None = None


class TextIn(msgspec.Struct, frozen=True):
    text: str | None = None


class PresenceIn(msgspec.Struct, frozen=True):
    student_id: int
    status: str | None = None
    reason: str | None = None
    late_minutes: int | None = None


class AttendanceIn(msgspec.Struct, frozen=True):
    entries: list[PresenceIn]
    reason: str | None = None


class MarkIn(msgspec.Struct, frozen=True):
    student_id: int
    value: str
    work_kind_id: int | None = None
    comment: str | None = None


class MarkChangeIn(msgspec.Struct, frozen=True):
    value: str
    work_kind_id: int | None = None
    comment: str | None = None
    reason: str | None = None


class CellIn(msgspec.Struct, frozen=True):
    text: str
    work_kind_id: int | None = None
    reason: str | None = None


class FinalIn(msgspec.Struct, frozen=True):
    kind: str
    value: str
    period_id: int | None = None
    reason: str | None = None


class GrantIn(msgspec.Struct, frozen=True):
    lesson_id: int
    teacher_id: int
    reason: str


class PermitIn(msgspec.Struct, frozen=True):
    teaching_load_id: int
    study_period_id: int
    teacher_id: int
    valid_until: date
    reason: str


class MarkOut(msgspec.Struct, frozen=True):
    id: int
    lesson_id: int
    student_id: int
    value: str
    work_kind_id: int
    comment: str | None
    author_id: int | None


class AttendanceOut(msgspec.Struct, frozen=True):
    student_id: int
    status: str
    reason: str | None
    late_minutes: int | None


class CellOut(msgspec.Struct, frozen=True):
    text: str
    marks: list[str]
    absence: str | None


class FileOut(msgspec.Struct, frozen=True):
    id: int
    filename: str
    size: int
    content_type: str
    student_id: int | None


class RecordOut(msgspec.Struct, frozen=True):
    topic: str | None
    covered: str | None
    homework: str | None
    no_homework: bool
    attendance_taken: bool
    plan_topic_id: int | None
    author_id: int | None


class StudentOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    marks: list[MarkOut]
    attendance: AttendanceOut | None
    homework: str | None


class LessonOut(msgspec.Struct, frozen=True):
    id: int
    on_date: date
    lesson_number: int
    teaching_load_id: int
    subject: str
    audience: str
    status: str
    teacher_id: int
    record: RecordOut | None
    offered_topic: str | None
    offered_topic_id: int | None
    students: list[StudentOut]
    files: list[FileOut]


class DayLessonOut(msgspec.Struct, frozen=True):
    id: int
    lesson_number: int
    starts: time | None
    ends: time | None
    teaching_load_id: int
    subject: str
    audience: str
    room: str | None
    status: str
    role: str
    changes: list[str]
    topic: str | None
    offered_topic: str | None
    homework_done: bool
    attendance_taken: bool


class GridLessonOut(msgspec.Struct, frozen=True):
    id: int
    on_date: date
    lesson_number: int
    status: str
    topic: str | None
    homework: str | None
    no_homework: bool


class GridRowOut(msgspec.Struct, frozen=True):
    student_id: int
    name: str
    cells: dict[str, str]
    """lesson id → cell text; only lessons the student was enrolled on appear, «» when empty."""


class GridOut(msgspec.Struct, frozen=True):
    teaching_load_id: int
    subject: str
    audience: str
    start: date
    end: date
    period_id: int | None
    lessons: list[GridLessonOut]
    rows: list[GridRowOut]


class FinalRowOut(msgspec.Struct, frozen=True):
    student_id: int
    name: str
    marks: list[str]
    average: Decimal | None
    how: str
    suggested: str | None
    finals: dict[str, str]


class FinalSheetOut(msgspec.Struct, frozen=True):
    teaching_load_id: int
    period_id: int
    window_opens: date
    window_closes: date
    closed: bool
    values: list[str]
    rows: list[FinalRowOut]


class FinalOut(msgspec.Struct, frozen=True):
    id: int
    student_id: int
    kind: str
    value: str
    period_id: int | None


class ChangeOut(msgspec.Struct, frozen=True):
    at: datetime
    author: str
    what: str
    before: str
    after: str
    reason: str | None
    reverted: bool


class GrantOut(msgspec.Struct, frozen=True):
    id: int
    teacher_id: int
    teaching_load_id: int
    lesson_id: int
    valid_from: date
    valid_to: date


class PermitOut(msgspec.Struct, frozen=True):
    id: int
    teacher_id: int
    teaching_load_id: int
    study_period_id: int
    valid_until: date


class LatenessOut(msgspec.Struct, frozen=True):
    lesson_id: int
    on_date: date
    kind: str
    teacher_id: int
    due_at: datetime
    done_at: datetime | None


class SettingsOut(msgspec.Struct, frozen=True):
    final_window_before_days: int
    final_window_after_days: int
    rounding_threshold: Decimal
    homework_deadline_hours: int
    written_mark_days: int
