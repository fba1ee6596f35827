"""What the structure API sends and receives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec


class SchoolCard(msgspec.Struct, frozen=True):
    slug: str
    name: str
    time_zone: str
    status: str


class ClassUnitOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    grade: int
    letter: str
    students: int


class ClassUnitIn(msgspec.Struct, frozen=True):
    grade: int
    letter: str
    class_teacher_id: int | None = None


class ClassDetailOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    grade: int
    letter: str
    class_teacher_id: int | None


class PersonIn(msgspec.Struct, frozen=True):
    last_name: str
    first_name: str
    middle_name: str | None = None
    birth_date: date | None = None


class PersonOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date | None


class GuardianshipIn(msgspec.Struct, frozen=True):
    guardian_id: int
    relation: str | None = None


class GuardianshipOut(msgspec.Struct, frozen=True):
    guardian_id: int
    student_id: int
    relation: str


class SubjectIn(msgspec.Struct, frozen=True):
    name: str
    short_name: str | None = None


class SubjectOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    short_name: str


class GroupIn(msgspec.Struct, frozen=True):
    kind: str
    name: str
    class_unit_id: int | None = None
    subject_id: int | None = None


class GroupOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    name: str
    class_unit_id: int | None
    subject_id: int | None


class GroupMemberIn(msgspec.Struct, frozen=True):
    student_id: int
    start_date: date
    end_date: date | None = None


class GroupMemberOut(msgspec.Struct, frozen=True):
    id: int
    group_id: int
    student_id: int
    start_date: date
    end_date: date | None


class TeachingLoadIn(msgspec.Struct, frozen=True):
    academic_year_id: int
    teacher_id: int
    subject_id: int
    hours_per_week: Decimal
    class_unit_id: int | None = None
    group_id: int | None = None


class TeachingLoadOut(msgspec.Struct, frozen=True):
    id: int
    academic_year_id: int
    teacher_id: int
    subject_id: int
    class_unit_id: int | None
    group_id: int | None
    hours_per_week: Decimal


class ArrivalIn(msgspec.Struct, frozen=True):
    student_id: int
    class_unit_id: int
    on_date: date
    reason: str | None = None
    document: str | None = None


class TransferIn(msgspec.Struct, frozen=True):
    student_id: int
    to_class_id: int
    on_date: date
    reason: str | None = None
    document: str | None = None


class WithdrawalIn(msgspec.Struct, frozen=True):
    student_id: int
    on_date: date
    reason: str | None = None
    document: str | None = None


class MovementOut(msgspec.Struct, frozen=True):
    id: int
    student_id: int
    kind: str
    on_date: date
    from_class_id: int | None
    to_class_id: int | None
    reason: str | None
    document: str | None


class EnrollmentOut(msgspec.Struct, frozen=True):
    student_id: int
    last_name: str
    first_name: str
    middle_name: str | None
    start_date: date
    end_date: date | None
