"""The weekly printed report's PDFs (R-DRY-5):

- `GET /s/{school}/reports/weekly/students/{student_id}.pdf?week=YYYY-MM-DD` — one student's week: the student and
  their parents (the diary's own scope, `readable_student`), staff with `people.read`, and the class teacher of the
  class the student was in that week;
- `GET /s/{school}/reports/weekly/classes/{class_id}.pdf?week=` — every current student of a class, each from a
  new page: the class teacher of that class, and holders of `journal.read_all`.

Anyone else is refused with 403 out-of-scope. The database is read on the event loop, the PDF drawn in a worker
thread (`anyio.to_thread`), so a class of thirty does not stall other requests.
"""

from __future__ import annotations

import re
from datetime import date

import anyio.to_thread
from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from services.diary import service as diary
from services.diary.controllers import readable_student, week_of
from services.errors import OutOfScope, Problem
from services.identity.policy import Principal, needs, provide_principal
from services.reports import weekly
from services.structure.models import ClassUnit, Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

STUDENT = needs("diary.read_own", "people.read", "journal.read_class")
"""A student and their parents, staff who read people's records, class teachers (narrowed to their classes)."""
CLASS = needs("journal.read_class", "journal.read_all")
"""The class teacher (narrowed to their class) and the administration."""
_PRINCIPAL = {"principal": Provide(provide_principal, sync_to_thread=False)}
_FILE = re.compile(r"(\d{1,18})\.pdf")


class ReportUnavailable(Problem):
    problem_type = "/problems/report-unavailable"
    status_code = 503


def _id_of(file: str) -> int:
    found = _FILE.fullmatch(file)
    if found is None:
        raise NotFoundException("Нет такого отчёта: адрес должен кончаться на <номер>.pdf.")
    return int(found.group(1))


def is_class_teacher(principal: Principal, unit: ClassUnit) -> bool:
    return (principal.can("journal.read_class") and not principal.is_family_only
            and principal.person_id is not None and unit.class_teacher_id == principal.person_id)


def may_print_class(principal: Principal, unit: ClassUnit) -> bool:
    return (principal.can("journal.read_all") and not principal.is_family_only) or is_class_teacher(principal, unit)


async def reportable_student(principal: Principal, session: AsyncSession, student_id: int, monday: date) -> Person:
    """The diary's scope (`readable_student`), widened to the class teacher of the student's class that week."""
    try:
        return await readable_student(principal, session, student_id)
    except OutOfScope:
        if (principal.person_id is None or principal.is_family_only or not principal.can("journal.read_class")
                or not await weekly.is_class_teacher_of_student(session, principal.person_id, student_id, monday)):
            raise OutOfScope("Отчёт по этому ученику вам недоступен.") from None
    try:
        return await diary.student(session, student_id)
    except diary.DiaryNotFound as exc:
        raise NotFoundException(str(exc)) from exc


def ascii_filename(*parts: object) -> str:
    """`weekly-…-YYYY-MM-DD.pdf`, only [A-Za-z0-9.-]: safe in any Content-Disposition parser."""
    name = "-".join(str(p) for p in parts)
    return re.sub(r"[^A-Za-z0-9.-]+", "_", name) + ".pdf"


async def pdf_response(reports: list[weekly.StudentReport], filename: str) -> Response[bytes]:
    try:
        content = await anyio.to_thread.run_sync(weekly.render, reports)
    except weekly.FontMissing as exc:
        raise ReportUnavailable("Печатный отчёт временно недоступен: на сервере не установлен шрифт "
                                "(пакет fonts-dejavu-core).") from exc
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


class WeeklyReportController(Controller):
    path = "/s/{school_slug:str}/reports/weekly"
    tags = ["reports"]
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/students/{file:str}", opt=STUDENT, summary="A student's weekly report, PDF (R-DRY-5)")
    async def student_pdf(self, *, file: FromPath[str], session: NamedDependency[AsyncSession],
                          principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                          week: FromQuery[date | None] = None) -> Response[bytes]:
        student_id = _id_of(file)
        monday = week_of(school, week)
        person = await reportable_student(principal, session, student_id, monday)
        report = await weekly.student_report(session, school.name, person, monday, school.today())
        return await pdf_response([report], ascii_filename("weekly", student_id, monday.isoformat()))

    @get("/classes/{file:str}", opt=CLASS, summary="Weekly reports of every current student of a class, PDF")
    async def class_pdf(self, *, file: FromPath[str], session: NamedDependency[AsyncSession],
                        principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                        week: FromQuery[date | None] = None) -> Response[bytes]:
        class_id = _id_of(file)
        unit = await session.get(ClassUnit, class_id)
        if unit is None:
            raise NotFoundException("Класс не найден.")
        if not may_print_class(principal, unit):
            raise OutOfScope("Отчёты этого класса печатает его классный руководитель или администрация.")
        monday = week_of(school, week)
        reports = await weekly.class_reports(session, school.name, unit, monday, school.today())
        return await pdf_response(reports, ascii_filename("weekly-class", class_id, monday.isoformat()))
