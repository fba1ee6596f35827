"""The page for loading students from a file: check first, write only a clean file, all of it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import needs, provide_principal
from services.imports import students
from services.imports.controllers import MAX_UPLOAD
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


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
        upload = data.get("data")
        content = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
        context: dict[str, Any] = {"school": school}
        if len(content) > MAX_UPLOAD:
            return Template("imports/students.html", status_code=400,
                            context={**context, "problems": ["Файл больше 5 МБ."]})
        today = datetime.now(ZoneInfo(school.time_zone)).date()
        result = await students.import_students(
            session, content, upload.filename if isinstance(upload, UploadFile) else "", today=today,
            confirm=str(data.get("confirm", "")) == "true")
        return Template("imports/students.html", status_code=400 if result.problems else 200, context={
            **context, "problems": [str(p) for p in result.problems], "written": result.written,
            "checked": True, "count": len(result.rows)})
