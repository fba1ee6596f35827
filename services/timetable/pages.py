"""The weekly timetable of a class as a grid, adding to it (clashes named), and creating the lessons."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from services.timetable import service
from services.timetable.models import TimetableEntry
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
DAYS = ["Пн", "Вт", "Ср", "Чт", "Пт", "Сб"]


async def _page(session: AsyncSession, school: SchoolRecord, class_id: int | None, status_code: int = 200,
                **context: Any) -> Template:
    classes = (await session.execute(select(ClassUnit).order_by(ClassUnit.grade, ClassUnit.letter))).scalars().all()
    unit = next((c for c in classes if c.id == class_id), classes[0] if classes else None)
    grid: dict[tuple[int, int], list[str]] = {}
    loads: list[dict[str, Any]] = []
    if unit is not None:
        rows = (await session.execute(
            select(TeachingLoad, Subject.name, Person.last_name, Person.first_name, StudyGroup.name)
            .join(Subject, Subject.id == TeachingLoad.subject_id)
            .join(Person, Person.id == TeachingLoad.teacher_id)
            .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
            .where(or_(TeachingLoad.class_unit_id == unit.id, StudyGroup.class_unit_id == unit.id))
            .order_by(Subject.name)
        )).all()
        titles = {}
        for load, subject, last, first, group in rows:
            titles[load.id] = f"{subject}{f' ({group})' if group else ''} — {last} {first[:1]}."
            loads.append({"id": load.id, "title": titles[load.id]})
        entries = (await session.execute(select(TimetableEntry).where(
            TimetableEntry.teaching_load_id.in_(list(titles))))).scalars().all()
        for e in entries:
            grid.setdefault((e.weekday, e.lesson_number), []).append(
                titles[e.teaching_load_id] + (f", каб. {e.room}" if e.room else ""))
    numbers = range(1, max([8, *[n for _, n in grid]]) + 1)
    today = date.today()
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    return Template("timetable/week.html", status_code=status_code, context={
        "school": school, "classes": classes, "unit": unit, "grid": grid, "loads": loads, "days": DAYS,
        "numbers": numbers, "year_start": year_start.isoformat(), **context})


class TimetablePages(Controller):
    path = "/s/{school_slug:str}/timetable"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("structure.read"))
    async def week(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   class_id: FromQuery[int | None] = None) -> Template:
        return await _page(session, school, class_id)

    @post("/", opt=needs("structure.manage"), status_code=200)
    async def add(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession], data: Form,
                  class_id: FromQuery[int | None] = None) -> Template:
        try:
            await service.add_entry(
                session, teaching_load_id=int(data.get("teaching_load_id", 0)), weekday=int(data.get("weekday", 0)),
                lesson_number=int(data.get("lesson_number", -1)), room=str(data.get("room", "")),
                valid_from=date.fromisoformat(str(data.get("valid_from", ""))))
        except (service.TimetableError, ValueError) as exc:
            await session.rollback()
            messages = exc.messages if isinstance(exc, service.TimetableError) else ["Проверьте поля формы."]
            return await _page(session, school, class_id, status_code=409, errors=messages)
        return await _page(session, school, class_id, done="Урок добавлен в расписание.")

    @post("/generate", opt=needs("structure.manage"), status_code=200)
    async def generate(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       data: Form, class_id: FromQuery[int | None] = None) -> Template:
        try:
            created = await service.generate_lessons(session, date.fromisoformat(str(data.get("start", ""))),
                                                     date.fromisoformat(str(data.get("end", ""))))
        except (service.TimetableError, ValueError) as exc:
            await session.rollback()
            messages = exc.messages if isinstance(exc, service.TimetableError) else ["Укажите даты."]
            return await _page(session, school, class_id, status_code=422, errors=messages)
        return await _page(session, school, class_id, done=f"Создано уроков: {created}.")
