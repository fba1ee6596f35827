"""Parent access applications, consents to personal-data processing and erasure tasks (school schema).

Account ids (`*_by_account_id`) point at `platform.account` without a foreign key, as every school table does:
the audit log says the same, these columns make the decision readable on its own row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - person is referred to

APPLICATION_SOURCES = ("paper", "online")
APPLICATION_STATUSES = ("open", "approved", "refused")
REFUSAL_REASONS = ("not_guardian", "not_student", "adult", "documents", "withdrawn")


class AccessApplication(SchoolBase):
    """Заявление родителя (законного представителя) на доступ к электронному дневнику ребёнка: registered,
    decided within 3 working days, answered with an invite code or a written refusal (R-DRY-4)."""

    __tablename__ = "access_application"
    __table_args__ = (
        CheckConstraint(f"source in {APPLICATION_SOURCES!r}", name="source"),
        CheckConstraint(f"status in {APPLICATION_STATUSES!r}", name="status"),
        CheckConstraint(f"refusal_reason in {REFUSAL_REASONS!r}", name="refusal_reason"),
        CheckConstraint("(status = 'refused') = (refusal_reason IS NOT NULL)", name="refused_with_reason"),
        CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided"),
        Index("ix_access_application_open", "due_on", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    applicant_name: Mapped[str] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    child_name: Mapped[str] = mapped_column(String(300))
    child_class: Mapped[str] = mapped_column(String(10))
    child_birth_date: Mapped[date] = mapped_column(Date)
    relationship: Mapped[str] = mapped_column(String(40))
    documents: Mapped[str] = mapped_column(Text)
    registered_on: Mapped[date] = mapped_column(Date)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    registered_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    student_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    invite_id: Mapped[int | None] = mapped_column(BigInteger)
    refusal_reason: Mapped[str | None] = mapped_column(String(20))
    answer_text: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    """None with a decision: refused automatically (the student is 18 or older)."""


class Consent(SchoolBase):
    """One item of the consent sheet (лист согласия, 002 annex 2) given by a person, and its revocation.
    Giving an item again after a revocation adds a new row: the history stays."""

    __tablename__ = "consent"
    __table_args__ = (
        Index("ux_consent_active", "person_id", "item_code", unique=True, postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(10))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    given_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_account_id: Mapped[int | None] = mapped_column(BigInteger)


class ErasureTask(SchoolBase):
    """Destroying a person's data after consent was revoked: due within 10 working days (R-SEC-5)."""

    __tablename__ = "erasure_task"
    __table_args__ = (
        Index("ux_erasure_task_open", "person_id", unique=True, postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    requested_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(String(500))
