"""Журнал изменений: the school's audit log, one row per changed row of a school table, hash-chained."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CHAR, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase

AUDIT_ACTIONS = ("insert", "update", "delete")


class AuditLog(SchoolBase):
    """Who changed what and when, with the row before and after. Append-only (trigger), tamper-evident (chain).

    `hash` = sha256(`prev_hash` + canonical JSON of the content fields); the first row links to 64 zeros.
    Rows are written by `services.audit.service` only.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(f"action in {AUDIT_ACTIONS!r}", name="action"),
        Index("ix_audit_log_account_id_at", "account_id", "at"),
        Index("ix_audit_log_entity_entity_key", "entity", "entity_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The platform account that acted; no foreign key: a school's schema must stand on its own (exports).
    account_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(8))
    entity: Mapped[str] = mapped_column(String(63))
    entity_key: Mapped[dict[str, Any]] = mapped_column(JSONB)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(String(500))
    # Unique: an entry is reverted at most once, even by two administrators at the same moment.
    reverts_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("audit_log.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(CHAR(64))
    hash: Mapped[str] = mapped_column(CHAR(64))
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Set when an erasure removed personal fields from `before`/`after` (`services.audit.redact`); such an
    entry can no longer be re-hashed and is verified by its links."""
