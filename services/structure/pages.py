"""Pages of a school under /s/{school}."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.structure import repository
from services.structure.controllers import school_today
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


class SchoolPages(Controller):
    path = "/s/{school_slug:str}"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("school.view"))
    async def home(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal]) -> Template:
        classes = await repository.classes_with_counts(session, school_today(school).date())
        return Template("school_home.html", context={"school": school, "classes": classes, "me": principal})
