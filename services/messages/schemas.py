"""What the mail API sends."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ContactOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    kind: str
    note: str


class ClassOut(msgspec.Struct, frozen=True):
    id: int
    name: str


class ThreadSummaryOut(msgspec.Struct, frozen=True):
    id: int
    subject: str
    kind: str
    last_message_at: datetime
    unread: int
    people: list[str]


class InboxOut(msgspec.Struct, frozen=True):
    unread: int
    threads: list[ThreadSummaryOut]


class AttachmentOut(msgspec.Struct, frozen=True):
    id: int
    filename: str
    size: int
    content_type: str
    url: str


class RecipientOut(msgspec.Struct, frozen=True):
    name: str
    read_at: datetime | None


class MessageOut(msgspec.Struct, frozen=True):
    id: int
    author: str
    author_id: int
    body: str
    sent_at: datetime
    recipients: list[RecipientOut]
    attachments: list[AttachmentOut]


class ThreadOut(msgspec.Struct, frozen=True):
    id: int
    subject: str
    kind: str
    class_name: str | None
    people: list[str]
    can_reply: bool
    messages: list[MessageOut]


class SentOut(msgspec.Struct, frozen=True):
    thread_id: int
    message_id: int
    recipients: int


class ReadOut(msgspec.Struct, frozen=True):
    marked: int
