"""Study groups pages under /s/{school}/groups: the list with a create form, a group with its members.

The rules live in services.structure.service (create_group, add_group_member); a refused form rolls the request's
transaction back and shows the page again with the Russian message, a saved one redirects back.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.structure import repository, service
from services.structure.pages import Form, _date, _field, _int, _required_date, _required_int
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

KIND_TITLES = {"subgroup": "подгруппа класса", "cross_class": "межклассная группа",
               "individual": "индивидуальное обучение"}
DONE = {"created": "Группа создана.", "member": "Ученик добавлен в группу."}


class GroupPages(Controller):
    path = "/s/{school_slug:str}"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/groups", opt=needs("structure.read"))
    async def groups(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal]) -> Template:
        return await _groups_page(session, school, principal)

    @post("/groups", opt=needs("structure.manage"))
    async def create_group(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        try:
            group = await service.create_group(
                session, kind=_field(data, "kind"), name=_field(data, "name"),
                class_unit_id=_int(data, "class_unit_id", "класс", required=False),
                subject_id=_int(data, "subject_id", "предмет", required=False))
        except service.StructureError as exc:
            await session.rollback()
            return await _groups_page(session, school, principal, errors=[exc.message_ru], form=data,
                                      status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/groups/{group.id}?done=created", status_code=303)

    @get("/groups/{group_id:int}", opt=needs("structure.read"))
    async def group(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], group_id: FromPath[int],
                    done: FromQuery[str | None] = None) -> Template:
        return await _group_page(session, school, principal, group_id, done=DONE.get(done or ""))

    @post("/groups/{group_id:int}", opt=needs("structure.manage"))
    async def add_member(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal], group_id: FromPath[int],
                         data: Form) -> Response[Any]:
        try:
            await service.add_group_member(
                session, group_id, student_id=_required_int(data, "student_id", "ученика"),
                start_date=_required_date(data, "start_date", "дату начала"),
                end_date=_date(data, "end_date", "дату окончания", required=False))
        except service.StructureError as exc:
            await session.rollback()
            return await _group_page(session, school, principal, group_id, errors=[exc.message_ru], form=data,
                                     status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/groups/{group_id}?done=member", status_code=303)


async def _groups_page(session: AsyncSession, school: SchoolRecord, principal: Principal, *,
                       status_code: int = 200, **context: Any) -> Template:
    groups = await repository.groups(session)
    today = school.today()
    counts: dict[int, int] = {}
    for group in groups:
        members = await repository.group_members(session, group.id)
        counts[group.id] = sum(1 for m in members if m.start_date <= today and (m.end_date is None
                                                                                 or m.end_date >= today))
    return Template("structure/groups.html", status_code=status_code, context={
        "school": school, "me": principal, "groups": groups, "counts": counts, "kinds": KIND_TITLES,
        "classes": {c.id: c for c in await repository.classes(session)},
        "subjects": {s.id: s for s in await repository.subjects(session)}, "form": {}, **context})


async def _group_page(session: AsyncSession, school: SchoolRecord, principal: Principal, group_id: int, *,
                      status_code: int = 200, **context: Any) -> Template:
    group = await repository.get_group(session, group_id)
    if group is None:
        raise NotFoundException("Группа не найдена.")
    members = await repository.group_members(session, group_id)
    people = await repository.people_by_id(session, [m.student_id for m in members])
    today = school.today()
    if group.kind == "subgroup" and group.class_unit_id is not None:
        candidates = await repository.students_of_class_on(session, group.class_unit_id, today)
    else:
        candidates = await repository.people(session, "student")
    unit = await repository.get_class(session, group.class_unit_id) if group.class_unit_id else None
    subject = await repository.get_subject(session, group.subject_id) if group.subject_id else None
    return Template("structure/group.html", status_code=status_code, context={
        "school": school, "me": principal, "group": group, "kind": KIND_TITLES.get(group.kind, group.kind),
        "unit": unit, "subject": subject, "today": today,
        "members": [(m, people[m.student_id].full_name if m.student_id in people else "—") for m in members],
        "students": await repository.people(session, "student"), "candidates": candidates,
        "ru_date": service.ru_date, "form": {}, **context})
