"""The region's registry: regions, municipalities and their schools (tenants)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.db import PlatformBase

SCHOOL_STATUSES = ("provisioning", "active", "suspended", "archived")


class Region(PlatformBase):
    """Субъект РФ: the whole deployment usually serves one."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Municipality(PlatformBase):
    """Муниципальный орган управления образованием: onboards and runs its schools."""

    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class School(PlatformBase):
    """A tenant: one school, one `school_<id>` schema."""

    __tablename__ = "school"
    __table_args__ = (CheckConstraint(f"status in {SCHOOL_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    schema_name: Mapped[str | None] = mapped_column(String(63), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="provisioning")
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    migrated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_migration_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status_version: Mapped[int] = mapped_column(Integer, default=0)
    session_idle_minutes: Mapped[int | None] = mapped_column(SmallInteger)
