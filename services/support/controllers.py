"""Support pages and API (R-COM-4): a member files a request, anyone asks for password recovery, the
administrator works the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.access.forms import TooManySubmissions, count_submission
from services.identity.pages import Form, client_address
from services.identity.policy import PUBLIC, Principal, needs, provide_principal
from services.identity.service import IdentityError
from services.runtime import Runtime
from services.support import service
from services.support.models import SupportRequest
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

NO_STORE = {"Cache-Control": "no-store"}
_DEPENDENCIES = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}


def _s(data: dict[str, Any], key: str) -> str:
    return str(data.get(key, "")).strip()


class SupportPages(Controller):
    """A member's own requests; the public password-recovery form."""

    path = "/s/{school_slug:str}/support"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("school.view"))
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal]) -> Template:
        return await _own_page(session, school, principal)

    @post("/", opt=needs("school.view"), status_code=200)
    async def file(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], data: Form) -> Template:
        try:
            request = await service.file_support(runtime, school, account_id=principal.account_id,
                                                 subject=_s(data, "subject"), body=_s(data, "body"))
        except service.SupportError as exc:
            return await _own_page(session, school, principal, exc.status_code, errors=exc.messages,
                                   form={"subject": _s(data, "subject"), "body": _s(data, "body")})
        return await _own_page(session, school, principal,
                               done=f"Обращение № {request.id} принято. Ответ появится на этой странице.")

    @get("/password", opt=PUBLIC)
    async def password_form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return Template("support/password.html", context={"school": school, "form": {}})

    @post("/password", opt=PUBLIC, status_code=200)
    async def password_request(self, request: Request[Any, Any, Any], school: NamedDependency[SchoolRecord],
                               runtime: NamedDependency[Runtime], data: Form) -> Template:
        form = {k: _s(data, k) for k in ("login", "name", "contact")}
        try:
            await count_submission(runtime, f"password:{school.slug}", client_address(request))
            await service.file_password_request(runtime, school, login=form["login"], name=form["name"],
                                                contact=form["contact"])
        except (TooManySubmissions, service.SupportError) as exc:
            return Template("support/password.html", status_code=exc.status_code, context={
                "school": school, "form": form, "errors": exc.messages})
        return Template("support/password.html", headers=NO_STORE, context={
            "school": school, "form": {}, "done": service.RECOVERY_ANSWER})


async def _own_page(session: AsyncSession, school: SchoolRecord, principal: Principal, status_code: int = 200,
                    **context: Any) -> Template:
    context.setdefault("form", {})
    return Template("support/index.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "requests": await service.own_requests(session, principal.account_id),
        "statuses": service.STATUS_TITLES, **context})


async def _queue_page(session: AsyncSession, school: SchoolRecord, status_code: int = 200,
                      **context: Any) -> Template:
    return Template("support/queue.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "items": await service.queue(session), "statuses": service.STATUS_TITLES,
        "kinds": service.KIND_TITLES, **context})


class SupportQueuePages(Controller):
    """The administrator's queue."""

    path = "/s/{school_slug:str}/admin/support"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("support.manage"))
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _queue_page(session, school)

    @post("/{request_id:int}", opt=needs("support.manage"), status_code=200)
    async def handle(self, request_id: FromPath[int], *, school: NamedDependency[SchoolRecord],
                     session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                     principal: NamedDependency[Principal], data: Form) -> Template:
        try:
            await service.handle(runtime, school, request_id, status=_s(data, "status"), answer=_s(data, "answer"),
                                 actor_account_id=principal.account_id)
        except service.SupportError as exc:
            return await _queue_page(session, school, exc.status_code, errors=exc.messages)
        return await _queue_page(session, school, done=f"Обращение № {request_id} сохранено.")

    @post("/{request_id:int}/password-reset", opt=needs("support.manage"), status_code=200)
    async def reset(self, request_id: FromPath[int], school: NamedDependency[SchoolRecord],
                    session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                    principal: NamedDependency[Principal]) -> Template:
        try:
            _, login, password = await service.reset_password(runtime, school, request_id,
                                                              actor_account_id=principal.account_id)
        except (service.SupportError, IdentityError) as exc:
            return await _queue_page(session, school, exc.status_code, errors=exc.messages)
        return await _queue_page(session, school, reset={"login": login, "password": password})


class SupportRequestIn(msgspec.Struct, frozen=True):
    subject: str
    body: str


class HandleIn(msgspec.Struct, frozen=True):
    status: str
    answer: str = ""


class SupportRequestOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    status: str
    subject: str
    body: str
    account_id: int | None
    login: str | None
    contact: str | None
    created_at: datetime
    answer: str | None
    handled_by_account_id: int | None
    password_reset_at: datetime | None


class PasswordResetOut(msgspec.Struct, frozen=True):
    request: SupportRequestOut
    login: str
    temporary_password: str


def _out(r: SupportRequest, login: str | None = None) -> SupportRequestOut:
    return SupportRequestOut(r.id, r.kind, r.status, r.subject, r.body, r.account_id, login, r.contact, r.created_at,
                             r.answer, r.handled_by_account_id, r.password_reset_at)


class SupportController(Controller):
    path = "/api/v1/schools/{school_slug:str}/support"
    tags = ["support"]
    dependencies = _DEPENDENCIES

    @post("/requests", opt=needs("school.view"), status_code=201, summary="File a support request")
    async def file(self, school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime],
                   principal: NamedDependency[Principal], data: JSONBody[SupportRequestIn]) -> SupportRequestOut:
        request = await service.file_support(runtime, school, account_id=principal.account_id,
                                             subject=data.subject, body=data.body)
        return _out(request, principal.login)

    @get("/requests", opt=needs("support.manage"), summary="The queue: support and password-recovery requests")
    async def queue(self, session: NamedDependency[AsyncSession]) -> list[SupportRequestOut]:
        return [_out(i.request, i.login) for i in await service.queue(session)]

    @post("/requests/{request_id:int}", opt=needs("support.manage"), status_code=200,
          summary="Move a request along new → in_progress → done, with the answer")
    async def handle(self, request_id: FromPath[int], *, school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                     data: JSONBody[HandleIn]) -> SupportRequestOut:
        return _out(await service.handle(runtime, school, request_id, status=data.status, answer=data.answer,
                                         actor_account_id=principal.account_id))

    @post("/requests/{request_id:int}/password-reset", opt=needs("support.manage"), status_code=200,
          summary="Give the member a password request names a temporary password",
          response_headers={"Cache-Control": "no-store"})
    async def reset(self, request_id: FromPath[int], school: NamedDependency[SchoolRecord],
                    runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> PasswordResetOut:
        request, login, password = await service.reset_password(runtime, school, request_id,
                                                                actor_account_id=principal.account_id)
        return PasswordResetOut(_out(request, login), login, password)
