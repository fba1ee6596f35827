"""The КТП of a teaching-load item as a page: topics with hours and planned dates, planned against given hours,
and loading the plan from a file (check first, write only a clean file)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports.tables import TOO_LARGE, read_upload
from services.plan import service
from services.plan.models import PlanTopic
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

MultiPart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


async def _page(session: AsyncSession, school: SchoolRecord, load_id: int, status_code: int = 200,
                **context: Any) -> Template:
    row = (await session.execute(
        select(Subject.name, ClassUnit.grade, ClassUnit.letter, StudyGroup.name, Person.last_name, Person.first_name)
        .select_from(TeachingLoad)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .join(Person, Person.id == TeachingLoad.teacher_id)
        .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
        .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id, StudyGroup.class_unit_id))
        .where(TeachingLoad.id == load_id))).first()
    if row is None:
        raise NotFoundException("Строка нагрузки не найдена.")
    subject, grade, letter, group, last, first = row
    title = (f"{subject}, {grade or ''}{letter or ''}{f' (группа «{group}»)' if group else ''} — "
             f"{last} {first[:1]}.")
    topics = (await session.execute(select(PlanTopic).where(PlanTopic.teaching_load_id == load_id)
                                    .order_by(PlanTopic.position))).scalars().all()
    today = school.today()
    planned, given = await service.progress(session, load_id, today)
    return Template("plan/topics.html", status_code=status_code, context={
        "school": school, "load_id": load_id, "title": title, "topics": topics, "planned": planned,
        "given": given, "today": today, **context})


class PlanPages(Controller):
    path = "/s/{school_slug:str}/plan"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/{load_id:int}", opt=needs("structure.read"))
    async def plan(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   load_id: FromPath[int]) -> Template:
        return await _page(session, school, load_id)

    @post("/{load_id:int}", opt=needs("structure.manage"), status_code=200)
    async def upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     load_id: FromPath[int], data: MultiPart) -> Template:
        read = await read_upload(data.get("data"))
        if read is None:
            return await _page(session, school, load_id, status_code=400, problems=[TOO_LARGE])
        content, filename = read
        result = await service.import_plan(session, load_id, content, filename,
                                           confirm=str(data.get("confirm", "")) == "true")
        if result.problems:
            await session.rollback()
        return await _page(session, school, load_id, status_code=400 if result.problems else 200,
                           problems=[str(p) for p in result.problems], written=result.written, checked=True,
                           count=len(result.topics))
