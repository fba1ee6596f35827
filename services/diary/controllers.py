"""Diary API (R-DRY-1…3): a student's week and subjects under /api/v1/schools/{school}/diary, and a family's
children across schools at /api/v1/diary/children. Read-only; the data scope is `may_read_student`."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession

from services.diary import live, service
from services.diary.schemas import (
    ChildOut,
    SubjectsOut,
    VersionOut,
    WeekOut,
    child_out,
    subjects_out,
    week_out,
)
from services.errors import OutOfScope
from services.identity.policy import SIGNED_IN, Principal, may_read_student, needs, provide_principal
from services.runtime import Runtime, provide_runtime
from services.structure.models import Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

READ = needs("diary.read_own", "people.read")
"""Students and parents (their own diary), and staff who read people's records (optional for them)."""
NO_STORE = {"Cache-Control": "no-store"}
_PRINCIPAL = {"principal": Provide(provide_principal, sync_to_thread=False)}


async def readable_student(principal: Principal, session: AsyncSession, student_id: int) -> Person:
    """403 out-of-scope for another family's child; 404 when the id is not a student."""
    if not await may_read_student(principal, session, student_id):
        raise OutOfScope("Дневник этого ученика вам недоступен.")
    try:
        return await service.student(session, student_id)
    except service.DiaryNotFound as exc:
        raise NotFoundException(str(exc)) from exc


def week_of(school: SchoolRecord, week: date | None) -> date:
    return service.week_start(week) if week else service.default_week(school.today())


class DiaryController(Controller):
    path = "/api/v1/schools/{school_slug:str}/diary/students/{student_id:int}"
    tags = ["diary"]
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/week", opt=READ, summary="The student's week: lessons, changes, topics, homework, marks, absences")
    async def week(self, *, student_id: FromPath[int], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                   week: FromQuery[date | None] = None) -> Response[WeekOut]:
        person = await readable_student(principal, session, student_id)
        monday = week_of(school, week)
        content = await service.week(session, student_id, monday, person)
        version = await service.week_version(session, student_id, monday)
        return Response(week_out(school.slug, content, version), headers=NO_STORE)

    @get("/version", opt=READ, summary="A fingerprint of the week's entries: poll it, re-read the week on change")
    async def version(self, *, student_id: FromPath[int], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                      week: FromQuery[date | None] = None) -> Response[VersionOut]:
        if not await may_read_student(principal, session, student_id):
            raise OutOfScope("Дневник этого ученика вам недоступен.")
        return Response(VersionOut(await service.week_version(session, student_id, week_of(school, week))),
                        headers=NO_STORE)

    @get("/changes", opt=READ, summary="Server-sent events of an open week: `changed` with the new fingerprint")
    async def changes(self, *, student_id: FromPath[int], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                      runtime: NamedDependency[Runtime], week: FromQuery[date | None] = None) -> ServerSentEvent:
        if not await may_read_student(principal, session, student_id):
            raise OutOfScope("Дневник этого ученика вам недоступен.")
        if runtime.diary is None:
            raise ServiceUnavailableException("Автообновление дневника недоступно.")
        monday = week_of(school, week)
        version = await service.week_version(session, student_id, monday)
        # The request's session closes before the stream starts: the stream reads in sessions of its own.
        return ServerSentEvent(live.changes(runtime.diary, runtime.db, schema=school.schema, school_id=school.id,
                                            student_id=student_id, monday=monday, version=version),
                               headers={**NO_STORE, "X-Accel-Buffering": "no"})

    @get("/subjects", opt=READ,
         summary="Per subject of a period: marks, weighted average and how it is computed, forecast, final marks")
    async def subjects(self, *, student_id: FromPath[int], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                       period_id: FromQuery[int | None] = None) -> Response[SubjectsOut]:
        person = await readable_student(principal, session, student_id)
        try:
            view = await service.subjects(session, student_id, school.today(), period_id, person)
        except service.DiaryNotFound as exc:
            raise NotFoundException(str(exc)) from exc
        return Response(subjects_out(view), headers=NO_STORE)


class ChildrenController(Controller):
    path = "/api/v1/diary"
    tags = ["diary"]
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False), **_PRINCIPAL}

    @get("/children", opt=SIGNED_IN, summary="The diaries the account may open, across its schools")
    async def children(self, runtime: NamedDependency[Runtime],
                       principal: NamedDependency[Principal]) -> list[ChildOut]:
        return [child_out(c) for c in await service.children(runtime, principal.account_id)]
