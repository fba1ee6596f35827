"""Mail API under /api/v1/schools/{school}/messages (R-COM-1). Sending takes multipart form data (the text fields
and any number of `files`), so a message and its attachments are stored together or not at all."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.files.storage import FileMissing, FileStorage, require_storage
from services.identity.policy import Principal, announcing, needs, provide_principal
from services.messages import service
from services.messages.models import MailMessage
from services.messages.schemas import (
    AttachmentOut,
    ClassOut,
    ContactOut,
    InboxOut,
    MessageOut,
    ReadOut,
    RecipientOut,
    SentOut,
    ThreadOut,
    ThreadSummaryOut,
)
from services.runtime import Runtime, provide_storage
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

MultiPart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
READ = needs("messages.read")
WRITE = needs("messages.to_staff", "messages.to_families")


def values(data: dict[str, Any], name: str) -> list[Any]:
    """Every value of a form field (a repeated field arrives as a list)."""
    value = data.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def text_field(data: dict[str, Any], name: str) -> str:
    found = values(data, name)
    return str(found[0]) if found and not isinstance(found[0], UploadFile) else ""


def person_ids(data: dict[str, Any], name: str = "to") -> list[int]:
    """Recipient ids from repeated fields or comma-separated text."""
    ids: list[int] = []
    for value in values(data, name):
        for raw in str(value).replace(";", ",").split(","):
            part = raw.strip()
            if not part:
                continue
            if not part.isdigit():
                raise service.MailError("Получатель указан неверно.")
            ids.append(int(part))
    return ids


async def uploads(data: dict[str, Any], max_bytes: int) -> list[service.Upload]:
    """The uploaded files of the form (fields `files` or `file`), read up to one byte over the limit."""
    result = []
    for value in [*values(data, "files"), *values(data, "file")]:
        if not isinstance(value, UploadFile):
            continue
        content = await value.read(max_bytes + 1)
        if not content and not value.filename:
            continue
        result.append(service.Upload(value.filename or "", content, value.content_type or ""))
    return result


def attachment_url(school: SchoolRecord, attachment_id: int) -> str:
    return f"/api/v1/schools/{school.slug}/messages/attachments/{attachment_id}"


def thread_out(school: SchoolRecord, view: service.ThreadView) -> ThreadOut:
    return ThreadOut(view.thread.id, view.thread.subject, view.thread.kind, view.class_name, view.people,
                     view.can_reply, [
                         MessageOut(m.message.id, m.author, m.message.author_id, m.message.body, m.message.sent_at,
                                    [RecipientOut(n, r) for n, r in m.recipients],
                                    [AttachmentOut(a.id, a.filename, a.size, a.content_type,
                                                   attachment_url(school, a.id)) for a in m.attachments])
                         for m in view.messages])


async def download(session: AsyncSession, principal: Principal, storage: FileStorage | None,
                   attachment_id: int) -> Response[bytes]:
    row = await service.readable_attachment(session, principal, attachment_id)
    try:
        data, content_type = await require_storage(storage).get(row.storage_key)
    except FileMissing as exc:
        raise service.MailNotFound("Файл не найден в хранилище.") from exc
    disposition = f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
    return Response(data, media_type=content_type or row.content_type,
                    headers={"content-disposition": disposition, "x-content-type-options": "nosniff"})


class MessagesController(Controller):
    path = "/api/v1/schools/{school_slug:str}/messages"
    tags = ["messages"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False),
                    "storage": Provide(provide_storage, sync_to_thread=False)}

    @get("/threads", opt=READ, summary="My threads, newest first, with unread counts")
    async def inbox(self, *, session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal]) -> InboxOut:
        threads = await service.inbox(session, principal)
        return InboxOut(await service.unread_count(session, principal), [
            ThreadSummaryOut(t.id, t.subject, t.kind, t.last_message_at, t.unread, t.people) for t in threads])

    @get("/threads/{thread_id:int}", opt=READ, summary="A thread: the messages I wrote or received")
    async def thread(self, *, thread_id: FromPath[int], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> ThreadOut:
        return thread_out(school, await service.thread_view(session, principal, thread_id, school.today()))

    @post("/threads/{thread_id:int}/read", opt=READ, status_code=200, summary="Mark my messages of a thread read")
    async def read(self, *, thread_id: FromPath[int], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal]) -> ReadOut:
        return ReadOut(await service.mark_read(session, principal, thread_id))

    @get("/recipients", opt=WRITE, summary="Whom I may write to")
    async def recipients(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                         school: NamedDependency[SchoolRecord]) -> list[ContactOut]:
        return [ContactOut(c.id, c.name, c.kind, c.note)
                for c in await service.contacts(session, principal, school.today())]

    @post("/threads", opt=WRITE, summary="A new thread (multipart: to (ids, repeated or comma-separated), subject, "
                                         "body, files)")
    async def send(self, *, data: MultiPart, session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                   storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]) -> SentOut:
        limit = runtime.settings.outbound.file_max_bytes
        thread = await service.start_thread(
            session, principal, school, to=person_ids(data), subject=text_field(data, "subject"),
            body=text_field(data, "body"), uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        return await _sent(session, thread.id)

    @post("/threads/{thread_id:int}/messages", opt=READ, summary="Reply in a thread (multipart: body, files)")
    async def reply(self, *, thread_id: FromPath[int], data: MultiPart, session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                    storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]) -> SentOut:
        limit = runtime.settings.outbound.file_max_bytes
        message = await service.reply(session, principal, school, thread_id, body=text_field(data, "body"),
                                      uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        return SentOut(thread_id, message.id, len(await service.recipients_of(session, message.id)))

    @get("/announcements/classes", opt=announcing(), summary="Classes I may send announcements to")
    async def announce_classes(self, *, session: NamedDependency[AsyncSession],
                               principal: NamedDependency[Principal]) -> list[ClassOut]:
        return [ClassOut(c.id, c.name) for c in await service.announce_classes(session, principal)]

    @post("/announcements", opt=announcing(),
          summary="An announcement to every parent of a class (multipart: class_unit_id, subject, body, files)")
    async def announce(self, *, data: MultiPart, session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord],
                       storage: NamedDependency[FileStorage | None], runtime: NamedDependency[Runtime]) -> SentOut:
        limit = runtime.settings.outbound.file_max_bytes
        class_id = text_field(data, "class_unit_id").strip()
        if not class_id.isdigit():
            raise service.MailError("Выберите класс.")
        thread = await service.announce(
            session, principal, school, class_unit_id=int(class_id), subject=text_field(data, "subject"),
            body=text_field(data, "body"), uploads=await uploads(data, limit), storage=storage, max_bytes=limit)
        return await _sent(session, thread.id)

    @get("/attachments/{attachment_id:int}", opt=READ, summary="Download an attachment of a message I wrote or got")
    async def attachment(self, *, attachment_id: FromPath[int], session: NamedDependency[AsyncSession],
                         principal: NamedDependency[Principal],
                         storage: NamedDependency[FileStorage | None]) -> Response[bytes]:
        return await download(session, principal, storage, attachment_id)


async def _sent(session: AsyncSession, thread_id: int) -> SentOut:
    message_id = await session.scalar(select(func.min(MailMessage.id)).where(MailMessage.thread_id == thread_id))
    assert message_id is not None
    return SentOut(thread_id, message_id, len(await service.recipients_of(session, message_id)))
