"""The support queue of a school (school schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase

REQUEST_KINDS = ("support", "password")
REQUEST_STATUSES = ("new", "in_progress", "done")


class SupportRequest(SchoolBase):
    """Обращение в поддержку (from a signed-in member) or запрос на восстановление пароля (from anyone)."""

    __tablename__ = "support_request"
    __table_args__ = (
        CheckConstraint(f"kind in {REQUEST_KINDS!r}", name="kind"),
        CheckConstraint(f"status in {REQUEST_STATUSES!r}", name="status"),
        CheckConstraint("status <> 'done' OR answer IS NOT NULL", name="answered"),
        Index("ix_support_request_pending", "created_at", postgresql_where=text("status <> 'done'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), server_default="new")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """Who filed a support request; for a password request, the member account the login named (if any)."""
    login_given: Mapped[str | None] = mapped_column(String(100))
    name_given: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answer: Mapped[str | None] = mapped_column(Text)
    handled_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_reset_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
