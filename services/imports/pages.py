"""The pages for loading students, staff, classes, teaching load and guardians from a file: check first, write only
a clean file, all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports import students
from services.imports.controllers import KINDS
from services.imports.tables import TOO_LARGE, read_upload
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


@dataclass(frozen=True, slots=True)
class Page:
    heading: str
    columns: str
    noun: str


PAGES = {
    "staff": Page("Загрузка сотрудников из файла", "Фамилия, Имя, Отчество, Дата рождения", "сотрудников"),
    "classes": Page("Загрузка классов из файла", "Класс (например, 5А), Классный руководитель (Фамилия Имя Отчество "
                    "или Фамилия И.О.)", "классов"),
    "load": Page("Загрузка учебной нагрузки из файла", "Учитель (ФИО), Предмет, Класс (5А) или Группа, Часов в неделю "
                 "(например, 4,5), Учебный год (например, 2026/2027; если не указан — текущий)", "строк нагрузки"),
    "guardians": Page("Загрузка родителей из файла", "Фамилия ученика, Имя ученика, Класс ученика, Фамилия родителя, "
                      "Имя родителя, Отчество родителя, Кем приходится", "строк"),
    "groups": Page("Загрузка групп из файла", "Группа, Вид (подгруппа, межклассная или индивидуальная), Класс (для "
                   "подгруппы), Предмет, Фамилия ученика, Имя ученика, Класс ученика, С даты (ДД.ММ.ГГГГ) — "
                   "по строке на ученика", "строк"),
}


async def _checked(template: str, importer: Any, context: dict[str, Any], *, school: SchoolRecord,
                   session: AsyncSession, data: dict[str, Any]) -> Template:
    """Check (and, when confirmed and clean, write) the uploaded file; the page shows what happened."""
    read = await read_upload(data.get("data"))
    if read is None:
        return Template(template, status_code=400, context={**context, "problems": [TOO_LARGE]})
    content, filename = read
    result = await importer(session, content, filename, today=school.today(),
                            confirm=str(data.get("confirm", "")) == "true")
    return Template(template, status_code=400 if result.problems else 200, context={
        **context, "problems": [str(p) for p in result.problems], "written": result.written, "checked": True,
        "count": len(result.rows)})


async def _upload(kind: str, school: SchoolRecord, session: AsyncSession, data: dict[str, Any]) -> Template:
    context = {"school": school, "kind": kind, "page": PAGES[kind]}
    return await _checked("imports/table.html", KINDS[kind].importer, context, school=school, session=session,
                          data=data)


def _form(kind: str, school: SchoolRecord) -> Template:
    return Template("imports/table.html", context={"school": school, "kind": kind, "page": PAGES[kind]})


MultiPart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class ImportPages(Controller):
    path = "/s/{school_slug:str}/import"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/students", opt=needs("structure.manage"))
    async def form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return Template("imports/students.html", context={"school": school})

    @post("/students", opt=needs("structure.manage"), status_code=200)
    async def upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> Template:
        return await _checked("imports/students.html", students.import_students, {"school": school},
                              school=school, session=session, data=data)

    @get("/staff", opt=needs("structure.manage"))
    async def staff_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return _form("staff", school)

    @post("/staff", opt=needs("structure.manage"), status_code=200)
    async def staff_upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           data: MultiPart) -> Template:
        return await _upload("staff", school, session, data)

    @get("/classes", opt=needs("structure.manage"))
    async def classes_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return _form("classes", school)

    @post("/classes", opt=needs("structure.manage"), status_code=200)
    async def classes_upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           data: MultiPart) -> Template:
        return await _upload("classes", school, session, data)

    @get("/load", opt=needs("structure.manage"))
    async def load_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return _form("load", school)

    @post("/load", opt=needs("structure.manage"), status_code=200)
    async def load_upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           data: MultiPart) -> Template:
        return await _upload("load", school, session, data)

    @get("/guardians", opt=needs("structure.manage"))
    async def guardians_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return _form("guardians", school)

    @post("/guardians", opt=needs("structure.manage"), status_code=200)
    async def guardians_upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                           data: MultiPart) -> Template:
        return await _upload("guardians", school, session, data)

    @get("/groups", opt=needs("structure.manage"))
    async def groups_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return _form("groups", school)

    @post("/groups", opt=needs("structure.manage"), status_code=200)
    async def groups_upload(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                            data: MultiPart) -> Template:
        return await _upload("groups", school, session, data)
