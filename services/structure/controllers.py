"""Structure API under /api/v1/schools/{school}. Read-only until identity lands: nothing here is personal data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import PUBLIC, needs
from services.structure import repository
from services.structure.models import ClassUnit
from services.structure.schemas import ClassUnitOut, SchoolCard
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


def _out(unit: ClassUnit, students: int) -> ClassUnitOut:
    return ClassUnitOut(id=unit.id, name=unit.name, grade=unit.grade, letter=unit.letter, students=students)


def school_today(school: SchoolRecord) -> datetime:
    return datetime.now(ZoneInfo(school.time_zone))


class StructureController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["structure"]
    dependencies = SCHOOL_DEPENDENCIES

    @get("/", summary="The school's card", opt=PUBLIC)
    async def card(self, school: NamedDependency[SchoolRecord]) -> SchoolCard:
        return SchoolCard(slug=school.slug, name=school.name, time_zone=school.time_zone, status=school.status)

    @get("/classes", summary="Classes with today's number of students", opt=needs("structure.read"))
    async def classes(
        self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]
    ) -> list[ClassUnitOut]:
        rows = await repository.classes_with_counts(session, school_today(school).date())
        return [_out(unit, n) for unit, n in rows]

    @get("/classes/{class_id:int}", summary="One class", opt=needs("structure.read"))
    async def class_unit(
        self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession], class_id: FromPath[int]
    ) -> ClassUnitOut:
        found = await repository.class_with_count(session, class_id, school_today(school).date())
        if found is None:
            raise NotFoundException("Класс не найден.")
        return _out(*found)
