"""What the structure API sends and receives."""

from __future__ import annotations

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
