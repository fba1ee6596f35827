"""A day's lessons with their changes as a page: substitution, cancellation, room change and extra lessons,
each with its reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from services.structure.names import short_name
from services.timetable import service
from services.timetable.models import Lesson, LessonChange
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
KINDS = {"substitution": "Замена", "cancellation": "Отмена", "room": "Другой кабинет", "extra": "Дополнительный урок"}
STATUSES = {"planned": "по расписанию", "cancelled": "отменён"}


def _day(school: SchoolRecord, on: str | None) -> date:
    if on:
        try:
            return date.fromisoformat(on)
        except ValueError:
            pass
    return school.today()


async def _page(session: AsyncSession, school: SchoolRecord, day: date, status_code: int = 200,
                **context: Any) -> Template:
    staff = {p.id: p for p in (await session.execute(
        select(Person).where(Person.kind == "staff").order_by(Person.last_name, Person.first_name))).scalars()}
    rows = (await session.execute(
        select(Lesson, Subject.name, ClassUnit.grade, ClassUnit.letter, StudyGroup.name)
        .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
        .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id, StudyGroup.class_unit_id))
        .where(Lesson.on_date == day)
        .order_by(Lesson.lesson_number, ClassUnit.grade, ClassUnit.letter, Subject.name)
    )).all()
    changes: dict[int, list[LessonChange]] = {}
    if rows:
        for change in (await session.execute(select(LessonChange).where(
                LessonChange.lesson_id.in_([r[0].id for r in rows])).order_by(LessonChange.id))).scalars():
            changes.setdefault(change.lesson_id, []).append(change)

    def who(person_id: int | None) -> str:
        person = staff.get(person_id or 0)
        return short_name(person.last_name, person.first_name) if person else "—"

    lessons = []
    for lesson, subject, grade, letter, group in rows:
        audience = f"{grade}{letter}" if grade is not None else ""
        lessons.append({
            "id": lesson.id, "load_id": lesson.teaching_load_id, "number": lesson.lesson_number, "subject": subject,
            "audience": audience + (f", группа «{group}»" if group else ""), "teacher": who(lesson.teacher_id),
            "room": lesson.room or "—", "status": STATUSES.get(lesson.status, lesson.status),
            "cancelled": lesson.status == "cancelled",
            "changes": [{"kind": KINDS.get(c.kind, c.kind), "reason": c.reason,
                         "was": (f"вместо {who(c.previous_teacher_id)}" if c.previous_teacher_id else
                                 f"был каб. {c.previous_room}" if c.previous_room else "")}
                        for c in changes.get(lesson.id, [])]})
    loads = (await session.execute(
        select(TeachingLoad.id, Subject.name, ClassUnit.grade, ClassUnit.letter, StudyGroup.name,
               Person.last_name, Person.first_name)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .join(Person, Person.id == TeachingLoad.teacher_id)
        .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
        .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id, StudyGroup.class_unit_id))
        .order_by(ClassUnit.grade, ClassUnit.letter, Subject.name)
    )).all()
    load_titles = [
        {"id": i, "title": f"{g or ''}{ltr or ''} {s}{f' ({grp})' if grp else ''} — {short_name(last, first)}"}
        for i, s, g, ltr, grp, last, first in loads]
    return Template("timetable/day.html", status_code=status_code, context={
        "school": school, "day": day, "lessons": lessons, "loads": load_titles,
        "staff": [{"id": p.id, "name": short_name(p.last_name, p.first_name)} for p in staff.values()], **context})


class DayPages(Controller):
    path = "/s/{school_slug:str}/timetable/day"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("structure.read"))
    async def day(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                  on: FromQuery[str | None] = None) -> Template:
        return await _page(session, school, _day(school, on))

    @post("/", opt=needs("structure.manage"), status_code=200)
    async def change(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], data: Form, on: FromQuery[str | None] = None) -> Template:
        day = _day(school, on)
        action = str(data.get("action", ""))
        reason = str(data.get("reason", ""))
        actor = principal.account_id
        try:
            if action == "extra":
                await service.extra_lesson(
                    session, teaching_load_id=int(data.get("teaching_load_id", 0)), on_date=day,
                    lesson_number=int(data.get("lesson_number", -1)), room=str(data.get("room", "")),
                    reason=reason, actor_account_id=actor)
                done = "Дополнительный урок добавлен."
            else:
                lesson_id = int(data.get("lesson_id", 0))
                if action == "substitution":
                    await service.substitute(session, lesson_id, teacher_id=int(data.get("teacher_id", 0)),
                                             reason=reason, actor_account_id=actor)
                    done = "Замена записана."
                elif action == "cancellation":
                    await service.cancel(session, lesson_id, reason=reason, actor_account_id=actor)
                    done = "Урок отменён."
                elif action == "room":
                    await service.change_room(session, lesson_id, room=str(data.get("room", "")), reason=reason,
                                              actor_account_id=actor)
                    done = "Кабинет изменён."
                else:
                    raise ValueError(action)
        except (service.TimetableError, ValueError) as exc:
            await session.rollback()
            if isinstance(exc, service.TimetableError):
                return await _page(session, school, day, status_code=exc.status_code, errors=exc.messages)
            return await _page(session, school, day, status_code=422, errors=["Проверьте поля формы."])
        return await _page(session, school, day, done=done)
