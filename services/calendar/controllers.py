"""Calendar API under /api/v1/schools/{school}/calendar: years, periods, holidays, closing periods (R-STR-1)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar import repository, service
from services.calendar.models import AcademicYear, Holiday, StudyPeriod
from services.calendar.schemas import (
    HolidayIn,
    HolidayOut,
    LayoutIn,
    PeriodIn,
    PeriodOut,
    SchoolDayOut,
    YearIn,
    YearOut,
)
from services.errors import Problem
from services.identity.policy import Principal, needs, provide_principal
from tenants.routing import SCHOOL_DEPENDENCIES

READ, MANAGE = needs("structure.read"), needs("structure.manage")


class CalendarProblem(Problem):
    problem_type = "/problems/calendar"



def period_out(p: StudyPeriod) -> PeriodOut:
    return PeriodOut(p.id, p.kind, p.number, p.name, p.grade_from, p.grade_to, p.start_date, p.end_date,
                     p.closed_at, p.closed_by)


def holiday_out(h: Holiday) -> HolidayOut:
    return HolidayOut(h.id, h.name, h.start_date, h.end_date, h.grade_from, h.grade_to)


async def year_out(session: AsyncSession, year: AcademicYear) -> YearOut:
    return YearOut(year.id, year.name, year.start_date, year.end_date,
                   [period_out(p) for p in await repository.periods(session, year.id)],
                   [holiday_out(h) for h in await repository.holidays(session, year.id)])


def draft(data: JSONBody[PeriodIn]) -> service.PeriodDraft:
    return service.PeriodDraft(data.kind, data.number, data.grade_from, data.grade_to, data.start_date,
                               data.end_date, (data.name or "").strip())


class CalendarController(Controller):
    path = "/api/v1/schools/{school_slug:str}/calendar"
    tags = ["calendar"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/years", opt=READ, summary="Academic years with their periods and holidays")
    async def years(self, session: NamedDependency[AsyncSession]) -> list[YearOut]:
        return [await year_out(session, y) for y in await repository.years(session)]

    @get("/years/{year_id:int}", opt=READ, summary="One academic year with its periods and holidays")
    async def year(self, year_id: FromPath[int], session: NamedDependency[AsyncSession]) -> YearOut:
        found = await repository.year(session, year_id)
        if found is None:
            raise CalendarProblem("Учебный год не найден.", status_code=404)
        return await year_out(session, found)

    @post("/years", opt=MANAGE, summary="Create an academic year")
    async def create_year(self, data: JSONBody[YearIn], session: NamedDependency[AsyncSession]) -> YearOut:
        created = await service.create_year(session, data.name, data.start_date, data.end_date)
        return await year_out(session, created)

    @put("/years/{year_id:int}", opt=MANAGE, summary="Change an academic year's name or dates")
    async def update_year(self, year_id: FromPath[int], data: JSONBody[YearIn], session: NamedDependency[AsyncSession]
                          ) -> YearOut:
        changed = await service.update_year(session, year_id, data.name, data.start_date, data.end_date)
        return await year_out(session, changed)

    @post("/years/{year_id:int}/periods", opt=MANAGE, summary="Add a study period")
    async def add_period(self, year_id: FromPath[int], data: JSONBody[PeriodIn], session: NamedDependency[AsyncSession]
                         ) -> PeriodOut:
        (created,) = await service.add_periods(session, year_id, [draft(data)])
        return period_out(created)

    @post("/years/{year_id:int}/periods/standard", opt=MANAGE,
          summary="Add the standard periods (quarters and halves, or trimesters), optionally with edited dates")
    async def add_layout(self, year_id: FromPath[int], data: JSONBody[LayoutIn], session: NamedDependency[AsyncSession]
                         ) -> list[PeriodOut]:
        drafts = [draft(p) for p in data.periods] if data.periods is not None else None
        created = await service.add_standard_layout(session, year_id, data.layout, drafts)
        return [period_out(p) for p in created]

    @put("/periods/{period_id:int}", opt=MANAGE, summary="Change a study period")
    async def update_period(self, period_id: FromPath[int], data: JSONBody[PeriodIn],
                            session: NamedDependency[AsyncSession]) -> PeriodOut:
        return period_out(await service.update_period(session, period_id, draft(data)))

    @delete("/periods/{period_id:int}", opt=MANAGE, summary="Remove a study period that is not closed")
    async def delete_period(self, period_id: FromPath[int], session: NamedDependency[AsyncSession]) -> None:
        await service.delete_period(session, period_id)

    @post("/periods/{period_id:int}/close", opt=MANAGE, status_code=200, summary="Close a study period")
    async def close_period(self, period_id: FromPath[int], session: NamedDependency[AsyncSession],
                           principal: NamedDependency[Principal]) -> PeriodOut:
        return period_out(await service.close_period(session, period_id, principal.account_id))

    @post("/periods/{period_id:int}/reopen", opt=MANAGE, status_code=200, summary="Reopen a closed study period")
    async def reopen_period(self, period_id: FromPath[int], session: NamedDependency[AsyncSession]) -> PeriodOut:
        return period_out(await service.reopen_period(session, period_id))

    @post("/years/{year_id:int}/holidays", opt=MANAGE, summary="Add holidays")
    async def add_holiday(self, year_id: FromPath[int], data: JSONBody[HolidayIn],
                          session: NamedDependency[AsyncSession]) -> HolidayOut:
        return holiday_out(await service.add_holiday(session, year_id, data.name, data.start_date,
                                                     data.end_date, grade_from=data.grade_from,
                                                     grade_to=data.grade_to))

    @delete("/holidays/{holiday_id:int}", opt=MANAGE, summary="Remove holidays")
    async def delete_holiday(self, holiday_id: FromPath[int], session: NamedDependency[AsyncSession]) -> None:
        await service.delete_holiday(session, holiday_id)

    @get("/school-day", opt=READ, summary="Whether a grade has lessons on a date, and the period of that date")
    async def school_day(self, grade: FromQuery[int], on: FromQuery[date], session: NamedDependency[AsyncSession],
                         saturday: FromQuery[bool] = False) -> SchoolDayOut:
        period = await service.period_for(session, grade, on)
        return SchoolDayOut(grade, on, await service.is_school_day(session, grade, on, saturday=saturday),
                            period_out(period) if period else None)
