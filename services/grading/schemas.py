"""What the grading API sends and receives."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class GradeValueIn(msgspec.Struct, frozen=True):
    value: str
    label: str
    numeric_value: Decimal | None = None
    is_passing: bool = True
    is_special: bool = False
    ordering: int = 0


class GradeValueOut(msgspec.Struct, frozen=True):
    id: int
    value: str
    label: str
    numeric_value: Decimal | None
    is_passing: bool
    is_special: bool
    ordering: int


class SystemIn(msgspec.Struct, frozen=True):
    code: str
    name: str
    values: list[GradeValueIn] = []


class SystemNameIn(msgspec.Struct, frozen=True):
    name: str


class SystemOut(msgspec.Struct, frozen=True):
    id: int
    code: str
    name: str
    values: list[GradeValueOut]


class ConversionIn(msgspec.Struct, frozen=True):
    """`to_value` null removes the conversion of `value`."""

    from_system: str
    value: str
    to_system: str
    to_value: str | None


class ConversionOut(msgspec.Struct, frozen=True):
    from_system: str
    value: str
    to_system: str
    to_value: str


class SubjectGradingIn(msgspec.Struct, frozen=True):
    """`system` null: no marks in this subject and grade (attendance only)."""

    subject_id: int
    grade: int
    system: str | None


class SubjectGradingOut(msgspec.Struct, frozen=True):
    subject_id: int
    grade: int
    system: str | None
    marks_allowed: bool
    explicit: bool


class WorkKindIn(msgspec.Struct, frozen=True):
    name: str
    short_name: str
    weight: Decimal
    is_written: bool = False
    active: bool = True


class WorkKindOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    short_name: str
    weight: Decimal
    is_written: bool
    active: bool


class ConvertOut(msgspec.Struct, frozen=True):
    value: str
    from_system: str
    to_system: str
    result: str | None
