"""Notification tables, in the school's schema (they hold personal data: addresses, names, marks).

* `notification_setting` — a parent's (guardian person's) choice: the e-mail address, kept only with the consent
  it was given under, a frequency per channel and quiet hours in the school's time zone. No row: in-app
  notifications of each entry, no mail.
* `notification_mail` — one outgoing letter (a single entry or a digest). The row is the truth about delivery:
  it stays unsent, with its attempts and the next attempt's time, until the SMTP server accepted it.
* `notification` — what one journal event means to one guardian: the text of the entry, whether it shows in the
  inbox (and from when), how it goes by mail (`email_mode`) and in which letter it went. Unique per (outbox
  event, guardian), so a redelivered event adds nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.audit.service import NOT_AUDITED
from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - person is referred to

FREQUENCIES = ("each", "daily", "weekly", "off")
MAIL_MODES = ("each", "daily", "weekly")
NOTIFICATION_KINDS = ("mark", "absence")


class NotificationSetting(SchoolBase):
    """How a parent wants to hear about their children's marks and absences."""

    __tablename__ = "notification_setting"
    __table_args__ = (
        CheckConstraint(f"email_frequency in {FREQUENCIES!r}", name="email_frequency"),
        CheckConstraint(f"inapp_frequency in {FREQUENCIES!r}", name="inapp_frequency"),
        CheckConstraint("email is null or email_consent_at is not null", name="consent"),
        CheckConstraint("(quiet_from is null) = (quiet_to is null)", name="quiet_hours"),
    )

    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the parent agreed to have the address kept and written to; cleared with the address."""
    email_frequency: Mapped[str] = mapped_column(String(8), server_default="off")
    inapp_frequency: Mapped[str] = mapped_column(String(8), server_default="each")
    quiet_from: Mapped[time | None] = mapped_column(Time)
    quiet_to: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NotificationMail(SchoolBase):
    """A letter to a parent: sent by `notifications.send_mail`, re-sent by the scheduler until it went."""

    __tablename__ = "notification_mail"
    __table_args__ = (
        CheckConstraint(f"mode in {MAIL_MODES!r}", name="mode"),
        Index("ix_notification_mail_unsent", "next_attempt_at", postgresql_where=text("sent_at IS NULL")),
        NOT_AUDITED,
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """Not before this (the end of the parent's quiet hours)."""
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When the scheduler hands it to a worker again: the due time, a lease while queued, the backoff after a
    failure."""
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(200))
    """The failure's type and SMTP code, never the server's text (it may quote the address)."""
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Notification(SchoolBase):
    """A journal entry told to one guardian: in the inbox, by mail, or both."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "guardian_id"),
        CheckConstraint(f"kind in {NOTIFICATION_KINDS!r}", name="kind"),
        CheckConstraint(f"email_mode is null or email_mode in {MAIL_MODES!r}", name="email_mode"),
        Index("ix_notification_inbox", "guardian_id", "show_at", postgresql_where=text("inapp")),
        Index("ix_notification_digest", "guardian_id", "created_at",
              postgresql_where=text("email_mode IS NOT NULL AND mail_id IS NULL")),
        NOT_AUDITED,
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    """The outbox event (platform.outbox.id) it came from: the idempotency key."""
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    inapp: Mapped[bool] = mapped_column(Boolean)
    show_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The inbox shows it from then on: at once, or at the parent's daily or weekly digest time."""
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_mode: Mapped[str | None] = mapped_column(String(8))
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("notification_mail.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
