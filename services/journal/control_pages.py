"""The deputy head's pages: period marks sheet, a cell's history, timeliness control, substitution grants and
correction permits (R-JRN-4…6, R-REP-2).

Every write goes through `services.journal.finals` / `grants` (the rules); a refused form rolls the request's
transaction back and shows the page again with the Russian messages, a saved one redirects back (303)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.service import ru_date
from services.errors import RuleError
from services.identity.policy import Principal, journal_read, needs, provide_principal
from services.journal import control_forms as cf
from services.journal import finals, grants, history, queries
from services.journal.scope import Writer, clean_reason, lesson_scope
from services.journal.views import readable_load
from services.structure.models import Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
YEAR_KINDS = [(k, finals.KIND_NAMES[k]) for k in finals.YEAR_KINDS]
DONE = {"finals": "Отметки сохранены.", "grant": "Доступ на замену выдан.",
        "permit": "Разрешение на исправление выдано."}


class JournalControlPages(Controller):
    path = "/s/{school_slug:str}/journal-control"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("", opt=needs("journal.read_all"))
    async def control(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      start: FromQuery[str | None] = None, end: FromQuery[str | None] = None) -> Template:
        first, last = cf.default_range(school.today())
        first, last = cf.query_date(start, first), cf.query_date(end, last)
        errors = ["Начало периода позже его конца."] if first > last else []
        report = [] if errors else await cf.lateness_report(session, first, last, school.time_zone)
        return Template("journal/control.html", status_code=422 if errors else 200, context={
            "school": school, "loads": await cf.loads(session, school.today()), "start": first, "end": last,
            "report": report, "errors": errors})

    # The sheet is the teacher's and the deputy head's: the route asks for a staff member, and the journal's own
    # read rule (own load, grant, class, or all journals) decides, as the API's `readable_load` does.
    @get("/loads/{load_id:int}/finals", opt=journal_read())
    async def final_sheet(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                          principal: NamedDependency[Principal], load_id: FromPath[int],
                          period_id: FromQuery[int | None] = None, done: FromQuery[str | None] = None) -> Template:
        return await _finals_page(session, school, principal, load_id, period_id, done=DONE.get(done or ""))

    @post("/loads/{load_id:int}/finals", opt=needs("journal.write"))
    async def save_finals(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                          principal: NamedDependency[Principal], load_id: FromPath[int],
                          data: Form) -> Response[Any]:
        period_id: int | None = None
        try:
            period_id = cf.number(data, "period_id", "учебный период")
            await readable_load(principal, session, load_id)
            writer = Writer(principal, school, clean_reason(cf.text(data, "reason")))
            if cf.text(data, "form") == "year":
                await finals.set_final_mark(
                    session, writer, load_id=load_id, student_id=cf.number(data, "student_id", "ученика"),
                    kind=cf.text(data, "kind"), value=cf.text(data, "value"))
            else:
                sheet = await finals.final_sheet(session, load_id, period_id)
                for row in sheet.rows:
                    value = cf.text(data, f"value_{row.student_id}")
                    if value and value != row.finals.get("period"):
                        await finals.set_final_mark(session, writer, load_id=load_id, student_id=row.student_id,
                                                    kind="period", value=value, period_id=period_id)
        except RuleError as exc:
            await session.rollback()
            return await _finals_page(session, school, principal, load_id, period_id, errors=exc.messages,
                                      form=data, status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/journal-control/loads/{load_id}/finals?period_id={period_id}&done=finals",
                        status_code=303)

    @get("/lessons/{lesson_id:int}/students/{student_id:int}/history", opt=needs("audit.read"))
    async def cell_history(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           lesson_id: FromPath[int], student_id: FromPath[int]) -> Template:
        scope = await lesson_scope(session, lesson_id)
        student = await session.get(Person, student_id)
        if student is None or student.kind != "student":
            raise NotFoundException("Ученик не найден.")
        changes = await history.cell_history(session, lesson_id, student_id, school.id)
        return Template("journal/history.html", context={
            "school": school, "student": student.full_name, "subject": scope.subject.name,
            "audience": scope.audience, "lesson": scope.lesson, "load_id": scope.load.id,
            "changes": [(cf.moment(c.at, school.time_zone), c) for c in changes]})

    @get("/grants", opt=needs("structure.manage"))
    async def grants_page(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                          on: FromQuery[str | None] = None, done: FromQuery[str | None] = None) -> Template:
        return await _grants_page(session, school, cf.query_date(on, school.today()), done=DONE.get(done or ""))

    @post("/grants", opt=needs("structure.manage"))
    async def grant(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        on = cf.query_date(cf.text(data, "on"), school.today())
        try:
            await grants.grant_substitution(
                session, lesson_id=cf.number(data, "lesson_id", "урок"),
                teacher_id=cf.number(data, "teacher_id", "учителя на замену"), reason=cf.text(data, "reason"),
                granted_by=principal.account_id)
        except RuleError as exc:
            await session.rollback()
            return await _grants_page(session, school, on, errors=exc.messages, form=data,
                                      status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/journal-control/grants?on={on.isoformat()}&done=grant", status_code=303)

    @post("/permits", opt=needs("journal.correct_closed"))
    async def permit(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        try:
            await grants.permit_correction(
                session, teaching_load_id=cf.number(data, "teaching_load_id", "журнал"),
                study_period_id=cf.number(data, "study_period_id", "закрытый период"),
                teacher_id=cf.number(data, "teacher_id", "учителя"),
                valid_until=cf.day(data, "valid_until", "срок действия"), reason=cf.text(data, "reason"),
                granted_by=principal.account_id, today=school.today())
        except RuleError as exc:
            await session.rollback()
            return await _grants_page(session, school, school.today(), errors=exc.messages, permit_form=data,
                                      status_code=exc.status_code)
        return Redirect(f"/s/{school.slug}/journal-control/grants?done=permit", status_code=303)


async def _finals_page(session: AsyncSession, school: SchoolRecord, principal: Principal, load_id: int,
                       period_id: int | None, *, status_code: int = 200, **context: Any) -> Template:
    load = await readable_load(principal, session, load_id)
    today = school.today()
    periods = [p for p in await queries.periods_of_load(session, load, today) if p.kind != "year"]
    if not periods:
        raise NotFoundException("Для этого журнала нет учебных периодов.")
    period = next((p for p in periods if p.id == period_id), None)
    if period is None:
        ended = [p for p in periods if p.start_date <= today]
        period = next((p for p in periods if p.start_date <= today <= p.end_date), ended[-1] if ended else periods[0])
    sheet = await finals.final_sheet(session, load_id, period.id)
    return Template("journal/finals.html", status_code=status_code, context={
        "school": school, "sheet": sheet, "periods": periods, "closed": period.closed_at is not None,
        "window": (ru_date(sheet.window[0]), ru_date(sheet.window[1])), "year_kinds": YEAR_KINDS,
        "kind_names": finals.KIND_NAMES, "may_write": principal.can("journal.write"),
        "may_read_all": principal.can("journal.read_all"), "form": {}, **context})


async def _grants_page(session: AsyncSession, school: SchoolRecord, on: date, *, status_code: int = 200,
                       **context: Any) -> Template:
    today = school.today()
    return Template("journal/grants.html", status_code=status_code, context={
        "school": school, "on": on, "today": today, "lessons": await cf.lessons(session, on_date=on),
        "staff": [(p.id, p.short_name) for p in (await cf.staff(session)).values()],
        "grants": await cf.grant_rows(session), "loads": await cf.loads(session, today),
        "closed_periods": await cf.closed_periods(session), "permits": await cf.permit_rows(session, today),
        "form": {}, "permit_form": {}, **context})
