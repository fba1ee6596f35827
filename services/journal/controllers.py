"""Journal API under /api/v1/schools/{school}/journal (R-JRN-1…7, R-REP-2). Every write goes through
`services.journal.service` / `finals` / `files`, which check the rules of `services.identity.policy`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import OutOfScope
from services.files.storage import FileMissing, FileStorage, require_storage
from services.identity.policy import Principal, journal_read, needs, provide_principal
from services.journal import files, finals, grants, history, queries, service, timeliness
from services.journal.schemas import (
    AttendanceIn,
    AttendanceOut,
    CellIn,
    CellOut,
    ChangeOut,
    ContentIn,
    DayLessonOut,
    FileOut,
    FinalIn,
    FinalOut,
    FinalSheetOut,
    GrantIn,
    GrantOut,
    GridOut,
    LatenessOut,
    LessonOut,
    MarkChangeIn,
    MarkIn,
    MarkOut,
    PermitIn,
    PermitOut,
    RecordOut,
    SettingsOut,
    TextIn,
)
from services.journal.scope import JournalError, JournalNotFound, Writer, clean_reason, lesson_scope
from services.journal.settings import journal_settings, update_journal_settings
from services.journal.views import (
    attendance_out,
    cell_out,
    day_out,
    final_out,
    grid_out,
    grid_range,
    lesson_out,
    mark_out,
    readable_load,
    sheet_out,
)
from services.runtime import Runtime, provide_storage
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

READ = journal_read()
MultiPart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def writer(principal: Principal, school: SchoolRecord, reason: str | None = None) -> Writer:
    return Writer(principal, school, clean_reason(reason))


async def readable_lesson(principal: Principal, session: AsyncSession, lesson_id: int) -> queries.LessonView:
    view = await queries.lesson_view(session, lesson_id)
    await readable_load(principal, session, view.load.id)
    return view


class JournalController(Controller):
    path = "/api/v1/schools/{school_slug:str}/journal"
    tags = ["journal"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False),
                    "storage": Provide(provide_storage, sync_to_thread=False)}

    # --- reading -------------------------------------------------------------------------------------------

    @get("/day", opt=READ, summary="My lessons of a day, with changes and substitutions")
    async def day(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                  school: NamedDependency[SchoolRecord], on: FromQuery[date | None] = None) -> list[DayLessonOut]:
        if principal.person_id is None:
            return []
        return [day_out(x) for x in await queries.my_day(session, principal.person_id, on or school.today())]

    @get("/lessons/{lesson_id:int}", opt=READ, summary="A lesson with its class and entries")
    async def lesson(self, *, lesson_id: FromPath[int], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal]) -> LessonOut:
        return lesson_out(await readable_lesson(principal, session, lesson_id))

    @get("/loads/{load_id:int}/grid", opt=READ,
         summary="The journal page: students × lessons of a period, topics and homework")
    async def grid(self, *, load_id: FromPath[int], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                   period_id: FromQuery[int | None] = None, start: FromQuery[date | None] = None,
                   end: FromQuery[date | None] = None) -> GridOut:
        load = await readable_load(principal, session, load_id)
        first, last, period = await grid_range(session, load, school.today(), period_id=period_id, start=start,
                                               end=end)
        return grid_out(await queries.grid(session, load.id, first, last, period))

    @get("/loads/{load_id:int}/finals", opt=READ,
         summary="Period marks: weighted average, suggested mark and entered marks per student")
    async def final_sheet(self, *, load_id: FromPath[int], period_id: FromQuery[int],
                          session: NamedDependency[AsyncSession],
                          principal: NamedDependency[Principal]) -> FinalSheetOut:
        await readable_load(principal, session, load_id)
        return sheet_out(await finals.final_sheet(session, load_id, period_id))

    @get("/lessons/{lesson_id:int}/students/{student_id:int}/history", opt=needs("audit.read"),
         summary="Every change of a cell: who, when, old → new, why")
    async def cell_history(self, *, lesson_id: FromPath[int], student_id: FromPath[int],
                           session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord]
                           ) -> list[ChangeOut]:
        await lesson_scope(session, lesson_id)
        return [ChangeOut(c.at, c.author, c.what, c.before, c.after, c.reason, c.reverted)
                for c in await history.cell_history(session, lesson_id, student_id, school.id)]

    @get("/lateness", opt=needs("journal.read_all"), summary="Timeliness indicators of lessons between two dates")
    async def lateness(self, *, start: FromQuery[date], end: FromQuery[date],
                       session: NamedDependency[AsyncSession]) -> list[LatenessOut]:
        return [LatenessOut(x.lesson_id, on, x.kind, x.teacher_id, x.due_at, x.done_at)
                for x, on in await timeliness.lateness_between(session, start, end)]

    @get("/files/{file_id:int}", opt=needs("school.view"), summary="Download a homework file")
    async def download(self, *, file_id: FromPath[int], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal],
                       storage: NamedDependency[FileStorage | None]) -> Response[bytes]:
        row = await files.readable_file(principal, session, file_id)
        if row is None:
            raise OutOfScope("Этот файл вам недоступен.")
        try:
            data, content_type = await require_storage(storage).get(row.storage_key)
        except FileMissing as exc:
            raise JournalNotFound("Файл не найден в хранилище.") from exc
        disposition = f"attachment; filename*=UTF-8''{_quote(row.filename)}"
        return Response(data, media_type=content_type or row.content_type,
                        headers={"content-disposition": disposition, "x-content-type-options": "nosniff"})

    @get("/settings", opt=needs("structure.read"), summary="The journal's school settings")
    async def settings(self, session: NamedDependency[AsyncSession]) -> SettingsOut:
        return SettingsOut(**_fields(await journal_settings(session)))

    @put("/settings", opt=needs("structure.manage"), summary="Change the journal's school settings")
    async def update_settings(self, data: JSONBody[dict[str, Any]], session: NamedDependency[AsyncSession]
                              ) -> SettingsOut:
        return SettingsOut(**_fields(await update_journal_settings(session, data)))

    # --- writing -------------------------------------------------------------------------------------------

    @put("/lessons/{lesson_id:int}", opt=needs("journal.write"), summary="Topic, material and homework of a lesson")
    async def content(self, *, lesson_id: FromPath[int], data: JSONBody[ContentIn],
                      session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> RecordOut:
        r = await service.save_content(session, writer(principal, school), lesson_id, service.LessonContent(
            data.topic, data.covered, data.homework, data.no_homework, data.plan_topic_id))
        return RecordOut(r.topic, r.covered, r.homework, r.no_homework, r.attendance_taken, r.plan_topic_id,
                         r.author_id)

    @put("/lessons/{lesson_id:int}/students/{student_id:int}/homework", opt=needs("journal.write"),
         summary="A student's individual homework (empty text removes it)")
    async def individual(self, *, lesson_id: FromPath[int], student_id: FromPath[int], data: JSONBody[TextIn],
                         session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                         school: NamedDependency[SchoolRecord]) -> TextIn:
        row = await service.set_individual_homework(session, writer(principal, school), lesson_id, student_id,
                                                    data.text)
        return TextIn(row.text if row else None)

    @post("/lessons/{lesson_id:int}/files", opt=needs("journal.write"),
          summary="Attach a file to the homework (multipart: file, optional student_id)")
    async def attach(self, *, lesson_id: FromPath[int], data: MultiPart, session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                     storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]) -> FileOut:
        upload = data.get("file")
        limit = runtime.settings.outbound.file_max_bytes
        content: bytes = await upload.read(limit + 1) if upload is not None and hasattr(upload, "read") else b""
        if len(content) > limit:
            raise JournalError(f"Файл больше {limit // (1024 * 1024)} МБ.", status_code=413)
        student = str(data.get("student_id") or "").strip()
        if student and not student.isdigit():
            raise JournalError("Ученик указан неверно.")
        row = await files.attach(
            session, writer(principal, school), require_storage(storage), lesson_id=lesson_id,
            student_id=int(student) if student else None, filename=getattr(upload, "filename", "") or "",
            data=content,
            content_type=getattr(upload, "content_type", "") or "application/octet-stream", max_bytes=limit)
        return FileOut(row.id, row.filename, row.size, row.content_type, row.student_id)

    @delete("/files/{file_id:int}", opt=needs("journal.write"), summary="Remove a homework file", status_code=204)
    async def detach(self, *, file_id: FromPath[int], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                     storage: NamedDependency[FileStorage | None]) -> None:
        await files.detach(session, writer(principal, school), require_storage(storage), file_id)

    @put("/lessons/{lesson_id:int}/attendance", opt=needs("journal.write"),
         summary="The attendance of a lesson: absences with reasons and latenesses; the others were present")
    async def attendance(self, *, lesson_id: FromPath[int], data: JSONBody[AttendanceIn],
                         session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                         school: NamedDependency[SchoolRecord]) -> list[AttendanceOut]:
        rows = await service.set_attendance(session, writer(principal, school, data.reason), lesson_id, [
            service.Presence(e.student_id, e.status, e.reason, e.late_minutes) for e in data.entries])
        return [a for a in map(attendance_out, rows) if a is not None]

    @post("/lessons/{lesson_id:int}/marks", opt=needs("journal.write"), summary="Add a mark")
    async def add_mark(self, *, lesson_id: FromPath[int], data: JSONBody[MarkIn],
                       session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> MarkOut:
        return mark_out(await service.add_mark(session, writer(principal, school), lesson_id, service.MarkDraft(
            data.student_id, data.value, data.work_kind_id, data.comment)))

    @patch("/marks/{mark_id:int}", opt=needs("journal.write"), summary="Correct a mark (an earlier day's: with reason)")
    async def change_mark(self, *, mark_id: FromPath[int], data: JSONBody[MarkChangeIn],
                          session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                          school: NamedDependency[SchoolRecord]) -> MarkOut:
        return mark_out(await service.change_mark(session, writer(principal, school, data.reason), mark_id,
                                                  service.MarkDraft(0, data.value, data.work_kind_id, data.comment)))

    @delete("/marks/{mark_id:int}", opt=needs("journal.write"), summary="Remove a mark", status_code=204)
    async def remove_mark(self, *, mark_id: FromPath[int], session: NamedDependency[AsyncSession],
                          principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                          reason: FromQuery[str | None] = None) -> None:
        await service.remove_mark(session, writer(principal, school, reason), mark_id)

    @put("/lessons/{lesson_id:int}/cells/{student_id:int}", opt=needs("journal.write"),
         summary="Type into a grid cell: «5», «2/5», «н», «б», «у», «оп» or nothing")
    async def cell(self, *, lesson_id: FromPath[int], student_id: FromPath[int], data: JSONBody[CellIn],
                   session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                   school: NamedDependency[SchoolRecord]) -> CellOut:
        return cell_out(await service.save_cell(session, writer(principal, school, data.reason), lesson_id,
                                                student_id, data.text, work_kind_id=data.work_kind_id))

    @put("/loads/{load_id:int}/finals/{student_id:int}", opt=needs("journal.write"),
         summary="Enter a period, year, exam, project, practice or final mark")
    async def set_final(self, *, load_id: FromPath[int], student_id: FromPath[int], data: JSONBody[FinalIn],
                        session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                        school: NamedDependency[SchoolRecord]) -> FinalOut:
        return final_out(await finals.set_final_mark(
            session, writer(principal, school, data.reason), load_id=load_id, student_id=student_id,
            kind=data.kind, value=data.value, period_id=data.period_id))

    # --- the deputy head -----------------------------------------------------------------------------------

    @post("/grants", opt=needs("structure.manage"),
          summary="Give a substitute the lesson's journal from the day before to the day after")
    async def grant(self, *, data: JSONBody[GrantIn], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal]) -> GrantOut:
        g = await grants.grant_substitution(session, lesson_id=data.lesson_id, teacher_id=data.teacher_id,
                                            reason=data.reason, granted_by=principal.account_id)
        return GrantOut(g.id, g.teacher_id, g.teaching_load_id, g.lesson_id, g.valid_from, g.valid_to)

    @post("/permits", opt=needs("journal.correct_closed"),
          summary="Let a teacher correct one journal in a closed period until a date")
    async def permit(self, *, data: JSONBody[PermitIn], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> PermitOut:
        p = await grants.permit_correction(
            session, teaching_load_id=data.teaching_load_id, study_period_id=data.study_period_id,
            teacher_id=data.teacher_id, valid_until=data.valid_until, reason=data.reason,
            granted_by=principal.account_id, today=school.today())
        return PermitOut(p.id, p.teacher_id, p.teaching_load_id, p.study_period_id, p.valid_until)


def _fields(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


def _quote(name: str) -> str:
    return quote(name, safe="")

