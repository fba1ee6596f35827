"""Import and export of a school's tables (R-STR-7): students with their guardians, staff, classes, teaching
load and guardians, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports import classes, groups, guardians, load, staff, students
from services.imports.tables import TOO_LARGE, read_upload
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOut(msgspec.Struct, frozen=True):
    written: bool
    students: int
    problems: list[str]


class TableOut(msgspec.Struct, frozen=True):
    written: bool
    rows: int
    problems: list[str]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of table: how it is imported and exported, in which columns."""

    importer: Callable[..., Awaitable[staff.Import]]
    export_rows: Callable[[AsyncSession, date], Awaitable[list[list[str]]]]
    header: list[str]
    title: str


KINDS = {
    "staff": Kind(staff.import_staff, staff.export_rows, staff.HEADER, staff.TITLE),
    "classes": Kind(classes.import_classes, classes.export_rows, classes.HEADER, classes.TITLE),
    "load": Kind(load.import_load, load.export_rows, load.HEADER, load.TITLE),
    "guardians": Kind(guardians.import_guardians, guardians.export_rows, guardians.HEADER, guardians.TITLE),
    "groups": Kind(groups.import_groups, groups.export_rows, groups.HEADER, groups.TITLE),
}


async def _import(kind: str, session: AsyncSession, school: SchoolRecord, data: UploadFile,
                  confirm: bool) -> TableOut:
    upload = await read_upload(data)
    if upload is None:
        return TableOut(False, 0, [TOO_LARGE])
    today = school.today()
    result = await KINDS[kind].importer(session, *upload, today=today, confirm=confirm)
    return TableOut(result.written, len(result.rows), [str(p) for p in result.problems])


async def _export(kind: str, session: AsyncSession, school: SchoolRecord, format: str) -> Response[bytes]:
    if format not in ("csv", "xlsx"):
        raise ValidationException("Формат: csv или xlsx.")
    module = KINDS[kind]
    today = school.today()
    rows = await module.export_rows(session, today)
    body, media = (staff.csv_bytes(module.header, rows), "text/csv; charset=utf-8") if format == "csv" else \
        (staff.xlsx_bytes(module.header, rows, module.title), XLSX)
    name = f"{kind}-{school.slug}-{today:%Y-%m-%d}.{format}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


UPLOAD = Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)]


class ImportController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["import"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/imports/students", opt=needs("structure.manage"), status_code=200,
          summary="Check a students file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_students(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                              data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
                              confirm: FromQuery[bool] = False) -> ImportOut:
        upload = await read_upload(data)
        if upload is None:
            return ImportOut(False, 0, [TOO_LARGE])
        today = school.today()
        result = await students.import_students(session, *upload, today=today, confirm=confirm)
        return ImportOut(result.written, len(result.rows), [str(p) for p in result.problems])

    @get("/exports/students", opt=needs("people.read"), summary="Students enrolled today, as CSV or XLSX")
    async def export_students(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                              format: FromQuery[str] = "csv") -> Response[bytes]:
        if format not in ("csv", "xlsx"):
            raise ValidationException("Формат: csv или xlsx.")
        today = school.today()
        rows = await students.export_rows(session, today)
        body, media = (students.as_csv(rows), "text/csv; charset=utf-8") if format == "csv" else \
            (students.as_xlsx(rows), XLSX)
        name = f"students-{school.slug}-{today:%Y-%m-%d}.{format}"
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    @post("/imports/staff", opt=needs("structure.manage"), status_code=200,
          summary="Check a staff file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_staff(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                           data: UPLOAD, confirm: FromQuery[bool] = False) -> TableOut:
        return await _import("staff", session, school, data, confirm)

    @post("/imports/classes", opt=needs("structure.manage"), status_code=200,
          summary="Check a classes file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_classes(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                             data: UPLOAD, confirm: FromQuery[bool] = False) -> TableOut:
        return await _import("classes", session, school, data, confirm)

    @post("/imports/load", opt=needs("structure.manage"), status_code=200,
          summary="Check a teaching load file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_load(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                          data: UPLOAD, confirm: FromQuery[bool] = False) -> TableOut:
        return await _import("load", session, school, data, confirm)

    @post("/imports/guardians", opt=needs("structure.manage"), status_code=200,
          summary="Check a guardians file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_guardians(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                               data: UPLOAD, confirm: FromQuery[bool] = False) -> TableOut:
        return await _import("guardians", session, school, data, confirm)

    @get("/exports/staff", opt=needs("people.read"), summary="Staff, as CSV or XLSX")
    async def export_staff(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                           format: FromQuery[str] = "csv") -> Response[bytes]:
        return await _export("staff", session, school, format)

    @get("/exports/classes", opt=needs("people.read"), summary="Classes with class teachers, as CSV or XLSX")
    async def export_classes(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                             format: FromQuery[str] = "csv") -> Response[bytes]:
        return await _export("classes", session, school, format)

    @get("/exports/load", opt=needs("people.read"), summary="Teaching load of all years, as CSV or XLSX")
    async def export_load(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                          format: FromQuery[str] = "csv") -> Response[bytes]:
        return await _export("load", session, school, format)

    @get("/exports/guardians", opt=needs("people.read"),
         summary="Guardians of the students enrolled today, as CSV or XLSX")
    async def export_guardians(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                               format: FromQuery[str] = "csv") -> Response[bytes]:
        return await _export("guardians", session, school, format)

    @post("/imports/groups", opt=needs("structure.manage"), status_code=200,
          summary="Check a study groups file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_groups(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                            data: UPLOAD, confirm: FromQuery[bool] = False) -> TableOut:
        return await _import("groups", session, school, data, confirm)

    @get("/exports/groups", opt=needs("people.read"), summary="Study groups with their members, as CSV or XLSX")
    async def export_groups(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                            format: FromQuery[str] = "csv") -> Response[bytes]:
        return await _export("groups", session, school, format)
