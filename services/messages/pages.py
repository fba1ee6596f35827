"""Mail pages under /s/{school}/messages: the inbox, a thread (opening it marks it read), writing a message and
an announcement to the parents of a class. Refusals come back in the form, in Russian, with nothing sent."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.files.storage import FileStorage
from services.identity.policy import Principal, announcing, provide_principal
from services.messages import service
from services.messages.controllers import (
    READ,
    WRITE,
    MultiPart,
    attachment_url,
    person_ids,
    text_field,
    uploads,
)
from services.runtime import Runtime, provide_storage
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

DONE = {"sent": "Сообщение отправлено.", "announced": "Объявление отправлено родителям класса."}
KIND_GROUPS = (("staff", "Сотрудники школы"), ("student", "Ученики"), ("guardian", "Родители"))


def _form(data: dict[str, Any]) -> dict[str, Any]:
    return {"subject": text_field(data, "subject"), "body": text_field(data, "body"),
            "class_unit_id": text_field(data, "class_unit_id"),
            "to": {str(v).strip() for v in _to_values(data)}}


def _to_values(data: dict[str, Any]) -> list[str]:
    found = data.get("to")
    if found is None:
        return []
    return [str(v) for v in (found if isinstance(found, list) else [found])]


async def _compose(session: AsyncSession, school: SchoolRecord, principal: Principal, *, status_code: int = 200,
                   **context: Any) -> Template:
    contacts = await service.contacts(session, principal, school.today())
    groups = [(title, [c for c in contacts if c.kind == kind]) for kind, title in KIND_GROUPS]
    return Template("messages/compose.html", status_code=status_code, context={
        "school": school, "groups": [g for g in groups if g[1]], "linked": principal.person_id is not None,
        "form": context.pop("form", {"to": set()}), **context})


async def _announce_page(session: AsyncSession, school: SchoolRecord, principal: Principal, *,
                         status_code: int = 200, **context: Any) -> Template:
    classes = await service.announce_classes(session, principal)
    counts = {c.id: len(await service.class_guardians(session, c.id, school.today())) for c in classes}
    return Template("messages/announce.html", status_code=status_code, context={
        "school": school, "classes": [{"id": c.id, "name": c.name, "parents": counts[c.id]} for c in classes],
        "form": context.pop("form", {}), **context})


async def _thread_page(session: AsyncSession, school: SchoolRecord, principal: Principal, thread_id: int, *,
                       status_code: int = 200, **context: Any) -> Template:
    view = await service.thread_view(session, principal, thread_id, school.today())
    return Template("messages/thread.html", status_code=status_code, context={
        "school": school, "view": view, "me": principal.person_id,
        "file_url": lambda a: attachment_url(school, a.id), **context})


class MessagePages(Controller):
    path = "/s/{school_slug:str}/messages"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False),
                    "storage": Provide(provide_storage, sync_to_thread=False)}

    @get("/", opt=READ)
    async def inbox(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], done: FromQuery[str | None] = None) -> Template:
        return Template("messages/inbox.html", context={
            "school": school, "threads": await service.inbox(session, principal),
            "unread": await service.unread_count(session, principal), "linked": principal.person_id is not None,
            "may_write": principal.can("messages.to_staff") or principal.can("messages.to_families"),
            "may_announce": (principal.can("messages.announce") or principal.can("messages.announce_all"))
            and not principal.is_family_only,
            "done": DONE.get(done or "")})

    @get("/threads/{thread_id:int}", opt=READ)
    async def thread(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], thread_id: FromPath[int],
                     done: FromQuery[str | None] = None) -> Template:
        page = await _thread_page(session, school, principal, thread_id, done=DONE.get(done or ""))
        await service.mark_read(session, principal, thread_id)
        return page

    @post("/threads/{thread_id:int}", opt=READ)
    async def reply(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], thread_id: FromPath[int], data: MultiPart,
                    storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]
                    ) -> Response[Any]:
        limit = runtime.settings.outbound.file_max_bytes
        try:
            await service.reply(session, principal, school, thread_id, body=text_field(data, "body"),
                                uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        except RuleError as exc:
            await session.rollback()
            return await _thread_page(session, school, principal, thread_id, status_code=exc.status_code,
                                      errors=exc.messages, form=_form(data))
        return Redirect(f"/s/{school.slug}/messages/threads/{thread_id}?done=sent", status_code=303)

    @get("/new", opt=WRITE)
    async def compose(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], to: FromQuery[int | None] = None) -> Template:
        return await _compose(session, school, principal, form={"to": {str(to)} if to else set()})

    @post("/new", opt=WRITE)
    async def send(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], data: MultiPart,
                   storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]) -> Response[Any]:
        limit = runtime.settings.outbound.file_max_bytes
        try:
            thread = await service.start_thread(
                session, principal, school, to=person_ids(data), subject=text_field(data, "subject"),
                body=text_field(data, "body"), uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        except RuleError as exc:
            await session.rollback()
            return await _compose(session, school, principal, status_code=exc.status_code, errors=exc.messages,
                                  form=_form(data))
        return Redirect(f"/s/{school.slug}/messages/threads/{thread.id}?done=sent", status_code=303)

    @get("/announce", opt=announcing())
    async def announce_form(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                            principal: NamedDependency[Principal]) -> Template:
        return await _announce_page(session, school, principal)

    @post("/announce", opt=announcing())
    async def announce(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], data: MultiPart,
                       storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]
                       ) -> Response[Any]:
        limit = runtime.settings.outbound.file_max_bytes
        try:
            class_id = text_field(data, "class_unit_id").strip()
            if not class_id.isdigit():
                raise service.MailError("Выберите класс.")
            thread = await service.announce(
                session, principal, school, class_unit_id=int(class_id), subject=text_field(data, "subject"),
                body=text_field(data, "body"), uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        except RuleError as exc:
            await session.rollback()
            return await _announce_page(session, school, principal, status_code=exc.status_code,
                                        errors=exc.messages, form=_form(data))
        return Redirect(f"/s/{school.slug}/messages/threads/{thread.id}?done=announced", status_code=303)
