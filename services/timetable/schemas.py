"""What the timetable API sends and receives."""

from __future__ import annotations

from datetime import date, time

import msgspec


class BellIn(msgspec.Struct, frozen=True):
    number: int
    starts: time
    ends: time


class BellScheduleIn(msgspec.Struct, frozen=True):
    name: str
    bells: list[BellIn]
    is_default: bool = False


class BellScheduleOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    is_default: bool
    bells: list[BellIn]


class EntryIn(msgspec.Struct, frozen=True):
    teaching_load_id: int
    weekday: int
    """1 = понедельник … 6 = суббота."""
    lesson_number: int
    valid_from: date
    room: str | None = None
    valid_to: date | None = None


class EntryOut(msgspec.Struct, frozen=True):
    id: int
    teaching_load_id: int
    weekday: int
    lesson_number: int
    room: str | None
    valid_from: date
    valid_to: date | None


class GenerateIn(msgspec.Struct, frozen=True):
    start: date
    end: date


class GenerateOut(msgspec.Struct, frozen=True):
    created: int


class ChangeOut(msgspec.Struct, frozen=True):
    kind: str
    reason: str


class LessonOut(msgspec.Struct, frozen=True):
    id: int
    teaching_load_id: int
    on_date: date
    lesson_number: int
    teacher_id: int
    room: str | None
    status: str
    changes: list[ChangeOut]


class SubstitutionIn(msgspec.Struct, frozen=True):
    teacher_id: int
    reason: str


class ReasonIn(msgspec.Struct, frozen=True):
    reason: str


class RoomIn(msgspec.Struct, frozen=True):
    room: str
    reason: str


class ExtraLessonIn(msgspec.Struct, frozen=True):
    teaching_load_id: int
    on_date: date
    lesson_number: int
    reason: str
    room: str | None = None
