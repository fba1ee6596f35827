"""Timetable API under /api/v1/schools/{school}: bells, the weekly timetable, lessons and their changes."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.timetable import service
from services.timetable.models import Bell, BellSchedule, Lesson, LessonChange, TimetableEntry
from services.timetable.schemas import (
    BellIn,
    BellScheduleIn,
    BellScheduleOut,
    ChangeOut,
    EntryIn,
    EntryOut,
    ExtraLessonIn,
    GenerateIn,
    GenerateOut,
    LessonOut,
    ReasonIn,
    RoomIn,
    SubstitutionIn,
)
from tenants.routing import SCHOOL_DEPENDENCIES


def _entry(e: TimetableEntry) -> EntryOut:
    return EntryOut(e.id, e.teaching_load_id, e.weekday, e.lesson_number, e.room, e.valid_from, e.valid_to)


async def _lessons(session: AsyncSession, ids: list[int]) -> list[LessonOut]:
    lessons = (await session.execute(select(Lesson).where(Lesson.id.in_(ids)).order_by(
        Lesson.on_date, Lesson.lesson_number))).scalars().all()
    changes = (await session.execute(select(LessonChange).where(LessonChange.lesson_id.in_(ids)).order_by(
        LessonChange.id))).scalars().all()
    by_lesson: dict[int, list[ChangeOut]] = {}
    for change in changes:
        by_lesson.setdefault(change.lesson_id, []).append(ChangeOut(change.kind, change.reason))
    return [LessonOut(x.id, x.teaching_load_id, x.on_date, x.lesson_number, x.teacher_id, x.room, x.status,
                      by_lesson.get(x.id, [])) for x in lessons]


class TimetableController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["timetable"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/timetable/bell-schedules", opt=needs("structure.read"), summary="Bell schedules with their lessons")
    async def bell_schedules(self, session: NamedDependency[AsyncSession]) -> list[BellScheduleOut]:
        schedules = (await session.execute(select(BellSchedule).order_by(BellSchedule.id))).scalars().all()
        bells = (await session.execute(select(Bell).order_by(Bell.bell_schedule_id, Bell.number))).scalars().all()
        return [BellScheduleOut(s.id, s.name, s.is_default, [BellIn(b.number, b.starts, b.ends) for b in bells
                                                             if b.bell_schedule_id == s.id]) for s in schedules]

    @post("/timetable/bell-schedules", opt=needs("structure.manage"), summary="Add a bell schedule")
    async def add_bell_schedule(self, data: JSONBody[BellScheduleIn],
                                session: NamedDependency[AsyncSession]) -> BellScheduleOut:
        schedule = await service.add_bell_schedule(
            session, name=data.name.strip(), is_default=data.is_default,
            bells=[(b.number, b.starts, b.ends) for b in data.bells])
        return BellScheduleOut(schedule.id, schedule.name, schedule.is_default, sorted(data.bells,
                                                                                      key=lambda b: b.number))

    @get("/timetable/entries", opt=needs("structure.read"), summary="The weekly timetable")
    async def entries(self, session: NamedDependency[AsyncSession]) -> list[EntryOut]:
        rows = await session.execute(select(TimetableEntry).order_by(TimetableEntry.weekday,
                                                                    TimetableEntry.lesson_number))
        return [_entry(e) for e in rows.scalars()]

    @post("/timetable/entries", opt=needs("structure.manage"),
          summary="Put a teaching-load item into the weekly timetable (clashes are refused by name)")
    async def add_entry(self, data: JSONBody[EntryIn], session: NamedDependency[AsyncSession]) -> EntryOut:
        return _entry(await service.add_entry(
            session, teaching_load_id=data.teaching_load_id, weekday=data.weekday, lesson_number=data.lesson_number,
            room=data.room, valid_from=data.valid_from, valid_to=data.valid_to))

    @post("/timetable/generate", opt=needs("structure.manage"), summary="Create the lessons of a date range")
    async def generate(self, data: JSONBody[GenerateIn], session: NamedDependency[AsyncSession]) -> GenerateOut:
        return GenerateOut(await service.generate_lessons(session, data.start, data.end))

    @get("/lessons", opt=needs("structure.read"), summary="Lessons of a day with their changes")
    async def lessons(self, session: NamedDependency[AsyncSession], on_date: FromQuery[date]) -> list[LessonOut]:
        ids = list((await session.execute(select(Lesson.id).where(Lesson.on_date == on_date))).scalars())
        return await _lessons(session, ids)

    @post("/lessons/{lesson_id:int}/substitution", opt=needs("structure.manage"), summary="Another teacher takes it")
    async def substitution(self, lesson_id: FromPath[int], data: JSONBody[SubstitutionIn],
                           session: NamedDependency[AsyncSession], principal: NamedDependency[Principal]) -> LessonOut:
        await service.substitute(session, lesson_id, teacher_id=data.teacher_id, reason=data.reason,
                                           actor_account_id=principal.account_id)
        return (await _lessons(session, [lesson_id]))[0]

    @post("/lessons/{lesson_id:int}/cancellation", opt=needs("structure.manage"), summary="Cancel the lesson")
    async def cancellation(self, lesson_id: FromPath[int], data: JSONBody[ReasonIn],
                           session: NamedDependency[AsyncSession], principal: NamedDependency[Principal]) -> LessonOut:
        await service.cancel(session, lesson_id, reason=data.reason, actor_account_id=principal.account_id)
        return (await _lessons(session, [lesson_id]))[0]

    @post("/lessons/{lesson_id:int}/room", opt=needs("structure.manage"), summary="Move the lesson to another room")
    async def room(self, lesson_id: FromPath[int], data: JSONBody[RoomIn], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal]) -> LessonOut:
        await service.change_room(session, lesson_id, room=data.room, reason=data.reason,
                                            actor_account_id=principal.account_id)
        return (await _lessons(session, [lesson_id]))[0]

    @post("/lessons/extra", opt=needs("structure.manage"), summary="Add a lesson outside the weekly timetable")
    async def extra(self, data: JSONBody[ExtraLessonIn], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal]) -> LessonOut:
        lesson = await service.extra_lesson(
            session, teaching_load_id=data.teaching_load_id, on_date=data.on_date, lesson_number=data.lesson_number,
            room=data.room, reason=data.reason, actor_account_id=principal.account_id)
        return (await _lessons(session, [lesson.id]))[0]
