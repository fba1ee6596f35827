"""The school registry as request code sees it: slug → school, cached, never by listing schemas."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.db import Database
from services.region.models import School


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    id: int
    slug: str
    name: str
    schema: str
    time_zone: str
    status: str
    session_idle_minutes: int | None = None

    def now(self) -> datetime:
        """The school's wall clock: every deadline and "today" is the school's own (11 time zones)."""
        return datetime.now(ZoneInfo(self.time_zone))

    def today(self) -> date:
        return self.now().date()


class SchoolRegistry:
    """Slug lookups cached for `ttl` seconds, misses included, so unknown slugs cost no query storm."""

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._cache: dict[str, tuple[float, SchoolRecord | None]] = {}

    async def resolve(self, slug: str) -> SchoolRecord | None:
        now = time.monotonic()
        hit = self._cache.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._db.platform_session() as session:
            row = (await session.execute(select(School).where(School.slug == slug))).scalar_one_or_none()
        record = None
        if row is not None and row.schema_name is not None and row.status != "provisioning":
            record = SchoolRecord(row.id, row.slug, row.name, row.schema_name, row.time_zone, row.status,
                                  row.session_idle_minutes)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[slug] = (now + self._ttl, record)
        return record

    def invalidate(self, slug: str | None = None) -> None:
        """Forget one school (after its status changed in this process) or all of them."""
        if slug is None:
            self._cache.clear()
        else:
            self._cache.pop(slug, None)
