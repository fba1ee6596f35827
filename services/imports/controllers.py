"""Import and export of a school's tables (R-STR-7): students with their guardians, CSV or XLSX."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports import students
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

MAX_UPLOAD = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOut(msgspec.Struct, frozen=True):
    written: bool
    students: int
    problems: list[str]


class ImportController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["import"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/imports/students", opt=needs("structure.manage"), status_code=200,
          summary="Check a students file (CSV or XLSX); with confirm=true and no problems, write all of it")
    async def import_students(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                              data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
                              confirm: bool = False) -> ImportOut:
        content = await data.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            return ImportOut(False, 0, ["Файл больше 5 МБ."])
        today = datetime.now(ZoneInfo(school.time_zone)).date()
        result = await students.import_students(session, content, data.filename or "", today=today, confirm=confirm)
        return ImportOut(result.written, len(result.rows), [str(p) for p in result.problems])

    @get("/exports/students", opt=needs("people.read"), summary="Students enrolled today, as CSV or XLSX")
    async def export_students(self, session: NamedDependency[AsyncSession], school: NamedDependency[SchoolRecord],
                              format: str = "csv") -> Response[bytes]:
        if format not in ("csv", "xlsx"):
            raise ValidationException("Формат: csv или xlsx.")
        today = datetime.now(ZoneInfo(school.time_zone)).date()
        rows = await students.export_rows(session, today)
        body, media = (students.as_csv(rows), "text/csv; charset=utf-8") if format == "csv" else \
            (students.as_xlsx(rows), XLSX)
        name = f"students-{school.slug}-{today:%Y-%m-%d}.{format}"
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
