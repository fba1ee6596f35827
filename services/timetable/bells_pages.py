"""Bell schedules as a page: the schedules with their lesson times, and a form to add one."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.timetable import service
from services.timetable.models import Bell, BellSchedule
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def parse_bells(text: str) -> tuple[list[tuple[int, time, time]], list[str]]:
    """Lines «1 08:30 09:15» → (number, starts, ends); every bad line is named."""
    bells: list[tuple[int, time, time]] = []
    problems: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("-", " ").replace("–", " ").split()
        if not parts:
            continue
        try:
            if len(parts) != 3:
                raise ValueError
            number, starts, ends = int(parts[0]), time.fromisoformat(parts[1].zfill(5)), \
                time.fromisoformat(parts[2].zfill(5))
        except ValueError:
            problems.append(f"Строка {line_no}: нужно «номер начало конец», например «1 08:30 09:15».")
            continue
        if not 0 <= number <= 12:
            problems.append(f"Строка {line_no}: номер урока от 0 до 12.")
        elif starts >= ends:
            problems.append(f"Строка {line_no}: урок {number} кончается не позже, чем начинается.")
        elif any(b[0] == number for b in bells):
            problems.append(f"Строка {line_no}: урок {number} уже указан.")
        else:
            bells.append((number, starts, ends))
    if not bells and not problems:
        problems.append("Укажите хотя бы один урок: «1 08:30 09:15».")
    return bells, problems


async def _page(session: AsyncSession, school: SchoolRecord, status_code: int = 200, **context: Any) -> Template:
    schedules = (await session.execute(
        select(BellSchedule).order_by(BellSchedule.is_default.desc(), BellSchedule.name))).scalars().all()
    bells = (await session.execute(select(Bell).order_by(Bell.number))).scalars().all()
    by_schedule: dict[int, list[Bell]] = {}
    for bell in bells:
        by_schedule.setdefault(bell.bell_schedule_id, []).append(bell)
    return Template("timetable/bells.html", status_code=status_code, context={
        "school": school, "schedules": [(s, by_schedule.get(s.id, [])) for s in schedules], **context})


class BellPages(Controller):
    path = "/s/{school_slug:str}/timetable/bells"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("structure.read"))
    async def bells(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _page(session, school)

    @post("/", opt=needs("structure.manage"), status_code=200)
    async def add(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                  data: Form) -> Template:
        name = str(data.get("name", "")).strip()[:100]
        text = str(data.get("bells", ""))
        form = {"name": name, "bells_text": text, "is_default": data.get("is_default") == "true"}
        bells, problems = parse_bells(text)
        if not name:
            problems.insert(0, "Укажите название расписания звонков.")
        if problems:
            return await _page(session, school, status_code=422, errors=problems, form=form)
        try:
            await service.add_bell_schedule(session, name=name, bells=bells, is_default=bool(form["is_default"]))
        except service.TimetableError as exc:
            await session.rollback()
            return await _page(session, school, status_code=exc.status_code, errors=exc.messages, form=form)
        return await _page(session, school, done=f"Расписание звонков «{name}» добавлено.")
