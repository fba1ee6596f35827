"""КТП API: import a plan for a teaching-load item (dry run, then confirm), read it with its completion, and
the topic a lesson takes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports.tables import TOO_LARGE, read_upload
from services.plan import service
from services.plan.models import PlanTopic
from services.timetable.models import Lesson
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


class TopicOut(msgspec.Struct, frozen=True):
    position: int
    title: str
    hours: int
    planned_date: date | None


class PlanOut(msgspec.Struct, frozen=True):
    topics: list[TopicOut]
    planned_hours: int
    given_hours: int


class ImportOut(msgspec.Struct, frozen=True):
    written: bool
    topics: int
    problems: list[str]


class PlanController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["plan"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/loads/{load_id:int}/plan/import", opt=needs("structure.manage"), status_code=200,
          summary="Check a КТП file (CSV or XLSX); with confirm=true and no problems, replace the plan")
    async def import_plan(self, load_id: FromPath[int], session: NamedDependency[AsyncSession],
                          data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
                          confirm: FromQuery[bool] = False) -> ImportOut:
        upload = await read_upload(data)
        if upload is None:
            return ImportOut(False, 0, [TOO_LARGE])
        result = await service.import_plan(session, load_id, *upload, confirm=confirm)
        return ImportOut(result.written, len(result.topics), [str(p) for p in result.problems])

    @get("/loads/{load_id:int}/plan", opt=needs("structure.read"), summary="The plan and its completion")
    async def plan(self, load_id: FromPath[int], session: NamedDependency[AsyncSession],
                   school: NamedDependency[SchoolRecord], on_date: FromQuery[date | None] = None) -> PlanOut:
        topics = (await session.execute(select(PlanTopic).where(PlanTopic.teaching_load_id == load_id)
                                        .order_by(PlanTopic.position))).scalars().all()
        today = school.today()
        planned, given = await service.progress(session, load_id, on_date or today)
        return PlanOut([TopicOut(t.position, t.title, t.hours, t.planned_date) for t in topics], planned, given)

    @get("/lessons/{lesson_id:int}/topic", opt=needs("structure.read"), summary="The plan's topic for a lesson")
    async def topic(self, lesson_id: FromPath[int], session: NamedDependency[AsyncSession]) -> TopicOut | None:
        lesson = await session.get(Lesson, lesson_id)
        if lesson is None:
            raise NotFoundException("Урок не найден.")
        found = await service.topic_for_lesson(session, lesson)
        return TopicOut(found.position, found.title, found.hours, found.planned_date) if found else None
