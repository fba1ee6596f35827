"""The diary's pages (R-DRY-1…3): `/diary` chooses a child (across schools), `/s/{school}/diary/{student}` shows
a week with previous/next links and refreshes itself when the journal changes (see `live.py`), `…/subjects` the
marks, averages and forecast of a period. Phone-first: one stacked card per day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.diary import live, service
from services.diary.controllers import NO_STORE, READ, readable_student, week_of
from services.diary.schemas import child_out, diary_url, file_url, full_name
from services.identity.policy import SIGNED_IN, Principal, provide_principal
from services.runtime import Runtime, provide_runtime
from services.structure.models import Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

_PRINCIPAL = {"principal": Provide(provide_principal, sync_to_thread=False)}


def _parse_week(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _dm(day: date) -> str:
    return day.strftime("%d.%m")


async def _week_context(session: AsyncSession, school: SchoolRecord, person: Person,
                        week: date | None) -> dict[str, Any]:
    student_id = person.id
    monday = week_of(school, week)
    content = await service.week(session, student_id, monday, person)
    version = await service.week_version(session, student_id, monday)
    base = diary_url(school.slug, student_id)
    return {
        "school": school, "week": content, "version": version, "base": base, "today": school.today(),
        "title": f"{_dm(content.monday)}–{content.last_day.strftime('%d.%m.%Y')}",
        "previous": (monday - timedelta(days=7)).isoformat(), "next": (monday + timedelta(days=7)).isoformat(),
        "current": service.default_week(school.today()).isoformat(), "monday": monday.isoformat(),
        "version_url": live.week_api_url(school.slug, student_id, monday, "version"),
        "changes_url": live.week_api_url(school.slug, student_id, monday, "changes"),
        "fragment_url": f"{base}/week?week={monday.isoformat()}",
        "file_url": lambda file_id: file_url(school.slug, file_id), "dm": _dm,
        "student_name": full_name(content.student), "poll_ms": live.POLL_MS, "idle_ms": live.IDLE_STOP_MS,
    }


class ChildrenPages(Controller):
    path = "/diary"
    include_in_schema = False
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False), **_PRINCIPAL}

    @get("/", opt=SIGNED_IN)
    async def choose(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[Any]:
        found = [child_out(c) for c in await service.children(runtime, principal.account_id)]
        if len(found) == 1:
            return Redirect(found[0].url, status_code=303)
        return Template("diary/children.html", context={"children": found})


class DiaryPages(Controller):
    path = "/s/{school_slug:str}/diary/{student_id:int}"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/", opt=READ)
    async def week_page(self, student_id: FromPath[int], school: NamedDependency[SchoolRecord],
                        session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                        week: FromQuery[str | None] = None) -> Template:
        person = await readable_student(principal, session, student_id)
        context = await _week_context(session, school, person, _parse_week(week))
        return Template("diary/week.html", context=context, headers=NO_STORE)

    @get("/week", opt=READ)
    async def week_fragment(self, student_id: FromPath[int], school: NamedDependency[SchoolRecord],
                            session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                            week: FromQuery[str | None] = None) -> Template:
        """The week alone, which an open page swaps in when the journal changed."""
        person = await readable_student(principal, session, student_id)
        context = await _week_context(session, school, person, _parse_week(week))
        return Template("diary/_week.html", context=context, headers=NO_STORE)

    @get("/subjects", opt=READ)
    async def subjects_page(self, student_id: FromPath[int], school: NamedDependency[SchoolRecord],
                            session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                            period_id: FromQuery[str | None] = None) -> Template:
        person = await readable_student(principal, session, student_id)
        chosen = int(period_id) if period_id and period_id.isdigit() else None
        try:
            view = await service.subjects(session, student_id, school.today(), chosen, person)
        except service.DiaryNotFound as exc:
            raise NotFoundException(str(exc)) from exc
        return Template("diary/subjects.html", headers=NO_STORE, context={
            "school": school, "view": view, "base": diary_url(school.slug, student_id),
            "student_name": full_name(view.student), "dm": _dm, "period_name": service.period_name})
