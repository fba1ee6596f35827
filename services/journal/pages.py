"""The teacher's pages: my day, a lesson, the journal grid with keyboard entry (R-JRN-1…3, R-JRN-7).

The pages call the same service functions as the API with a `Writer`, so the same rules apply; a refusal is shown
in the form (status 422 or the rule's own), nothing saved. The grid saves its cells through the JSON API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.service import ru_date
from services.errors import RuleError
from services.files.storage import NOT_CONFIGURED
from services.identity.policy import Principal, journal_read, needs, provide_principal
from services.journal import files, queries, service
from services.journal.page_forms import (
    DONE,
    day_rows,
    field,
    grid_context,
    int_field,
    lesson_context,
    mark_values,
    parse_date,
    parse_day,
    presences,
    work_kinds,
)
from services.journal.scope import JournalError, Writer, clean_reason
from services.journal.views import grid_range, readable_load
from services.runtime import Runtime
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultiPart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


async def _readable_lesson(principal: Principal, session: AsyncSession, lesson_id: int) -> queries.LessonView:
    view = await queries.lesson_view(session, lesson_id)
    await readable_load(principal, session, view.load.id)
    return view


async def _lesson_page(session: AsyncSession, school: SchoolRecord, principal: Principal, lesson_id: int, *,
                       status_code: int = 200, **context: Any) -> Template:
    view = await _readable_lesson(principal, session, lesson_id)
    today = school.today()
    return Template("journal/lesson.html", status_code=status_code, context={
        "school": school, "date": ru_date(view.lesson.on_date), **lesson_context(view, today),
        "values": await mark_values(session, view), "kinds": await work_kinds(session), **context})


async def _refused(session: AsyncSession, school: SchoolRecord, principal: Principal, lesson_id: int, *,
                   exc: RuleError, form: str, data: dict[str, Any] | None = None) -> Template:
    """The lesson page again with the refusal in Russian; nothing of the failed form was saved."""
    await session.rollback()
    return await _lesson_page(session, school, principal, lesson_id, status_code=exc.status_code,
                              errors=exc.messages, failed=form, form=data or {})


def _writer(principal: Principal, school: SchoolRecord, data: dict[str, Any]) -> Writer:
    """The writer of a form: the optional «Причина исправления» field is the reason of a correction."""
    return Writer(principal, school, clean_reason(field(data, "reason")))


def _back(school: SchoolRecord, lesson_id: int, done: str) -> Redirect:
    return Redirect(f"/s/{school.slug}/journal/lessons/{lesson_id}?done={done}", status_code=303)


class JournalPages(Controller):
    path = "/s/{school_slug:str}/journal"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("journal.read_own"))
    async def my_day(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], on: FromQuery[str | None] = None) -> Template:
        day = parse_day(on, school.today())
        lessons = [] if principal.person_id is None else await queries.my_day(session, principal.person_id, day)
        return Template("journal/day.html", context={
            "school": school, "day": day, "date": ru_date(day), "today": day == school.today(),
            "previous": (day - timedelta(days=1)).isoformat(), "next": (day + timedelta(days=1)).isoformat(),
            "lessons": day_rows(lessons), "linked": principal.person_id is not None})

    @get("/lessons/{lesson_id:int}", opt=journal_read())
    async def lesson(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], lesson_id: FromPath[int],
                     done: FromQuery[str | None] = None) -> Template:
        return await _lesson_page(session, school, principal, lesson_id, done=DONE.get(done or ""))

    @post("/lessons/{lesson_id:int}/content", opt=needs("journal.write"))
    async def content(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], lesson_id: FromPath[int], data: Form) -> Response[Any]:
        try:
            no_homework = field(data, "no_homework") in ("on", "true", "1")
            await service.save_content(session, _writer(principal, school, data), lesson_id, service.LessonContent(
                field(data, "topic"), field(data, "covered"), field(data, "homework"), no_homework,
                int_field(data, "plan_topic_id", "тему плана", required=False)))
        except RuleError as exc:
            return await _refused(session, school, principal, lesson_id, exc=exc, form="content", data=data)
        return _back(school, lesson_id, "content")

    @post("/lessons/{lesson_id:int}/attendance", opt=needs("journal.write"))
    async def attendance(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal], lesson_id: FromPath[int],
                         data: Form) -> Response[Any]:
        try:
            view = await _readable_lesson(principal, session, lesson_id)
            writer = _writer(principal, school, data)
            await service.set_attendance(session, writer, lesson_id, presences(view, data))
        except RuleError as exc:
            return await _refused(session, school, principal, lesson_id, exc=exc, form="attendance", data=data)
        return _back(school, lesson_id, "attendance")

    @post("/lessons/{lesson_id:int}/marks", opt=needs("journal.write"))
    async def add_mark(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], lesson_id: FromPath[int], data: Form) -> Response[Any]:
        try:
            student = int_field(data, "student_id", "ученика")
            assert student is not None
            value = field(data, "value")
            if not value:
                raise JournalError("Выберите отметку.")
            await service.add_mark(session, _writer(principal, school, data), lesson_id, service.MarkDraft(
                student, value, int_field(data, "work_kind_id", "вид работы", required=False),
                field(data, "comment")))
        except RuleError as exc:
            return await _refused(session, school, principal, lesson_id, exc=exc, form="mark", data=data)
        return _back(school, lesson_id, "mark")

    @post("/lessons/{lesson_id:int}/homework", opt=needs("journal.write"))
    async def individual(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal], lesson_id: FromPath[int],
                         data: Form) -> Response[Any]:
        try:
            view = await _readable_lesson(principal, session, lesson_id)
            writer = _writer(principal, school, data)
            for row in view.students:
                sid = row.student.id
                if f"homework_{sid}" not in data:
                    continue
                text = field(data, f"homework_{sid}")
                current = view.individual[sid].text if sid in view.individual else ""
                if text != current:
                    await service.set_individual_homework(session, writer, lesson_id, sid, text)
        except RuleError as exc:
            return await _refused(session, school, principal, lesson_id, exc=exc, form="homework", data=data)
        return _back(school, lesson_id, "homework")

    @post("/lessons/{lesson_id:int}/files", opt=needs("journal.write"))
    async def attach(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], runtime: NamedDependency[Runtime],
                     lesson_id: FromPath[int], data: MultiPart) -> Response[Any]:
        upload = data.get("file")
        limit = runtime.settings.outbound.file_max_bytes
        try:
            if runtime.storage is None:
                raise JournalError(NOT_CONFIGURED, status_code=503)
            if upload is None or not hasattr(upload, "read"):
                raise JournalError("Выберите файл.")
            content: bytes = await upload.read(limit + 1)
            if len(content) > limit:
                raise JournalError(f"Файл больше {limit // (1024 * 1024)} МБ.", status_code=413)
            await files.attach(
                session, _writer(principal, school, data), runtime.storage, lesson_id=lesson_id,
                student_id=int_field(data, "student_id", "ученика", required=False),
                filename=getattr(upload, "filename", "") or "", data=content,
                content_type=getattr(upload, "content_type", "") or "application/octet-stream", max_bytes=limit)
        except RuleError as exc:
            return await _refused(session, school, principal, lesson_id, exc=exc, form="file")
        return _back(school, lesson_id, "file")

    @get("/loads/{load_id:int}", opt=journal_read())
    async def grid(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], load_id: FromPath[int],
                   period_id: FromQuery[int | None] = None, start: FromQuery[str | None] = None,
                   end: FromQuery[str | None] = None) -> Template:
        load = await readable_load(principal, session, load_id)
        today = school.today()
        first, last, period = await grid_range(session, load, today, period_id=period_id,
                                               start=parse_date(start), end=parse_date(end))
        g = await queries.grid(session, load.id, first, last, period)
        return Template("journal/grid.html", context={
            "school": school, "load": load, "subject": g.subject.name, "audience": g.audience,
            "start": ru_date(first), "end": ru_date(last), "period": period,
            "periods": await queries.periods_of_load(session, load, today), "kinds": await work_kinds(session),
            "can_write": principal.can("journal.write"), **grid_context(g, today)})
