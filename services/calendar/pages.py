"""The set-up page under /s/{school}/setup: year, periods, holidays, then grading (R-STR-1, R-STR-2)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar import repository, service
from services.calendar.models import AcademicYear
from services.grading import repository as grading_repository
from services.identity.policy import Principal, needs, provide_principal
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MANAGE = needs("structure.manage")


def form_text(data: dict[str, Any], key: str) -> str:
    raw = data.get(key, "")
    return str(raw[-1] if isinstance(raw, list) and raw else raw).strip()


def form_date(data: dict[str, Any], key: str, what: str) -> date:
    text = form_text(data, key)
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            day, month, year = (int(x) for x in text.split("."))
            return date(year, month, day)
        except ValueError:
            raise service.CalendarError(f"{what}: укажите дату, например 01.09.2026.") from None


def form_int(data: dict[str, Any], key: str, what: str) -> int:
    try:
        return int(form_text(data, key))
    except ValueError:
        raise service.CalendarError(f"{what}: укажите число.") from None


def form_year_id(data: dict[str, Any]) -> int:
    return form_int(data, "year_id", "Учебный год")


async def _chosen_year(session: AsyncSession, school: SchoolRecord, year_id: int | None) -> AcademicYear | None:
    if year_id is not None:
        return await repository.year(session, year_id)
    years = await repository.years(session)
    today = school.today()
    current = [y for y in years if y.end_date >= today]
    return current[0] if current else (years[-1] if years else None)


async def setup_page(session: AsyncSession, school: SchoolRecord, year_id: int | None = None,
                     status_code: int = 200, **context: Any) -> Template:
    """The set-up page with what is set and what is missing at each step."""
    year = await _chosen_year(session, school, year_id)
    periods = await repository.periods(session, year.id) if year else []
    holidays = await repository.holidays(session, year.id) if year else []
    today = school.today()
    first = today.year if today.month >= 6 else today.year - 1
    name, start, end = service.default_year_dates(first if year is None else year.start_date.year + 1)
    uncovered = [g for g in range(1, 12) if not any(p.grade_from <= g <= p.grade_to for p in periods)]
    layouts = {key: service.standard_layout(year, key) for key in service.LAYOUTS} if year else {}
    return Template("calendar/setup.html", status_code=status_code, context={
        "school": school, "years": await repository.years(session), "year": year, "periods": periods,
        "holidays": holidays, "uncovered": uncovered, "layouts": layouts, "layout_titles": service.LAYOUTS,
        "standard_holidays": service.standard_holidays(year) if year else [],
        "new_year": {"name": name, "start": start, "end": end}, "kinds": service.KIND_NAMES,
        "systems": await grading_repository.systems(session),
        "work_kinds": [k for k in await grading_repository.work_kinds(session) if k.active],
        "grades_text": service.grades_text, "ru_date": service.ru_date, **context})


class SetupPages(Controller):
    """Step by step: 1) учебный год, 2) периоды, 3) каникулы, 4) оценивание."""

    path = "/s/{school_slug:str}/setup"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=MANAGE)
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   year: FromQuery[int | None] = None) -> Template:
        return await setup_page(session, school, year)

    async def _refused(self, session: AsyncSession, school: SchoolRecord, year_id: int | None,
                       exc: service.CalendarError) -> Template:
        # Nothing of a refused form is kept, even when an earlier row of it was fine.
        await session.rollback()
        return await setup_page(session, school, year_id, status_code=400, errors=exc.messages)

    @post("/year", opt=MANAGE, status_code=200)
    async def save_year(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                        data: Form) -> Template:
        year_id = int(form_text(data, "year_id")) if form_text(data, "year_id").isdigit() else None
        try:
            name = form_text(data, "name")
            start = form_date(data, "start_date", "Начало учебного года")
            end = form_date(data, "end_date", "Окончание учебного года")
            if year_id is None:
                year = await service.create_year(session, name, start, end)
                done = f"Учебный год «{year.name}» создан. Теперь задайте периоды."
            else:
                year = await service.update_year(session, year_id, name, start, end)
                done = f"Учебный год «{year.name}» сохранён."
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year.id, done=done)

    @post("/periods/standard", opt=MANAGE, status_code=200)
    async def standard_periods(self, school: NamedDependency[SchoolRecord],
                               session: NamedDependency[AsyncSession], data: Form) -> Template:
        year_id = None
        try:
            year_id = form_year_id(data)
            year = await repository.year(session, year_id)
            if year is None:
                raise service.CalendarError("Учебный год не найден.")
            layout = form_text(data, "layout")
            drafts = []
            for i, d in enumerate(service.standard_layout(year, layout)):
                start = form_date(data, f"start_{i}", d.title) if form_text(data, f"start_{i}") else d.start_date
                end = form_date(data, f"end_{i}", d.title) if form_text(data, f"end_{i}") else d.end_date
                drafts.append(service.PeriodDraft(d.kind, d.number, d.grade_from, d.grade_to, start, end, d.name))
            created = await service.add_standard_layout(session, year_id, layout, drafts)
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done=f"Добавлено периодов: {len(created)}.")

    @post("/periods", opt=MANAGE, status_code=200)
    async def add_period(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         data: Form) -> Template:
        year_id = None
        try:
            year_id = form_year_id(data)
            draft = service.PeriodDraft(
                form_text(data, "kind"), form_int(data, "number", "Номер периода"),
                form_int(data, "grade_from", "С какого класса"), form_int(data, "grade_to", "По какой класс"),
                form_date(data, "start_date", "Начало периода"), form_date(data, "end_date", "Окончание периода"),
                form_text(data, "name"))
            (created,) = await service.add_periods(session, year_id, [draft])
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done=f"Период «{created.name}» добавлен.")

    @post("/periods/{period_id:int}/{action:str}", opt=MANAGE, status_code=200)
    async def period_action(self, period_id: FromPath[int], action: FromPath[str],
                            school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                            principal: NamedDependency[Principal]) -> Template:
        found = await repository.period(session, period_id)
        year_id = found.academic_year_id if found else None
        try:
            if action == "close":
                period = await service.close_period(session, period_id, principal.account_id)
                done = f"Период «{period.name}» ({service.grades_text(period.grade_from, period.grade_to)}) закрыт."
            elif action == "reopen":
                period = await service.reopen_period(session, period_id)
                done = f"Период «{period.name}» ({service.grades_text(period.grade_from, period.grade_to)}) открыт."
            elif action == "delete":
                await service.delete_period(session, period_id)
                done = "Период удалён."
            else:
                raise service.CalendarError("Неизвестное действие.", status_code=404)
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done=done)

    @post("/holidays", opt=MANAGE, status_code=200)
    async def add_holiday(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                          data: Form) -> Template:
        year_id = None
        try:
            year_id = form_year_id(data)
            holiday = await service.add_holiday(
                session, year_id, form_text(data, "name"), form_date(data, "start_date", "Начало каникул"),
                form_date(data, "end_date", "Окончание каникул"),
                grade_from=form_int(data, "grade_from", "С какого класса"),
                grade_to=form_int(data, "grade_to", "По какой класс"))
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done=f"Каникулы «{holiday.name}» добавлены.")

    @post("/holidays/standard", opt=MANAGE, status_code=200)
    async def standard_holidays(self, school: NamedDependency[SchoolRecord],
                                session: NamedDependency[AsyncSession], data: Form) -> Template:
        year_id = None
        try:
            year_id = form_year_id(data)
            year = await repository.year(session, year_id)
            if year is None:
                raise service.CalendarError("Учебный год не найден.")
            for i, (name, start, end, grade_from, grade_to) in enumerate(service.standard_holidays(year)):
                if form_text(data, f"skip_{i}"):
                    continue
                await service.add_holiday(
                    session, year_id, name,
                    form_date(data, f"start_{i}", name) if form_text(data, f"start_{i}") else start,
                    form_date(data, f"end_{i}", name) if form_text(data, f"end_{i}") else end,
                    grade_from=grade_from, grade_to=grade_to)
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done="Каникулы добавлены.")

    @post("/holidays/{holiday_id:int}/delete", opt=MANAGE, status_code=200)
    async def delete_holiday(self, holiday_id: FromPath[int], school: NamedDependency[SchoolRecord],
                             session: NamedDependency[AsyncSession]) -> Template:
        found = await repository.holiday(session, holiday_id)
        year_id = found.academic_year_id if found else None
        try:
            await service.delete_holiday(session, holiday_id)
        except service.CalendarError as exc:
            return await self._refused(session, school, year_id, exc)
        return await setup_page(session, school, year_id, done="Каникулы удалены.")
