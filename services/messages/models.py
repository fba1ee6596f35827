"""School mail tables (in the school's schema): threads, their participants, messages, per-recipient read marks
and attachments. A message is seen by its author and its recipients only; recipients are fixed at send time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - the tables refer to person and class_unit

THREAD_KINDS = ("personal", "announcement")


class MailThread(SchoolBase):
    """Переписка: a subject and the people in it; an announcement is addressed to the parents of one class."""

    __tablename__ = "mail_thread"
    __table_args__ = (
        CheckConstraint(f"kind in {THREAD_KINDS!r}", name="kind"),
        CheckConstraint("(kind = 'announcement') = (class_unit_id is not null)", name="announcement_class"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    class_unit_id: Mapped[int | None] = mapped_column(ForeignKey("class_unit.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MailParticipant(SchoolBase):
    """A person in a thread: who may open it."""

    __tablename__ = "mail_participant"

    thread_id: Mapped[int] = mapped_column(ForeignKey("mail_thread.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)


class MailMessage(SchoolBase):
    """One message of a thread."""

    __tablename__ = "mail_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("mail_thread.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MailRecipient(SchoolBase):
    """A recipient of a message and when they read it (null: unread)."""

    __tablename__ = "mail_recipient"

    message_id: Mapped[int] = mapped_column(ForeignKey("mail_message.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MailAttachment(SchoolBase):
    """A file of a message: the bytes in S3 under `storage_key`, the cleaned name people see."""

    __tablename__ = "mail_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_message.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
