"""Creating a school and changing its status. A school is created whole or not at all: one transaction
holds its registry row, its schema, its migrations, its reference data and its first administrator's invite."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db import Database
from services.identity.models import Invite, PlatformAudit
from services.region.models import Municipality, School
from services.structure.models import Subject
from tenants.names import check_slug, quoted, schema_for
from tenants.schema_migrations import upgrade_school

ADMIN_INVITE_VALID_FOR = timedelta(days=14)

# The core curriculum subjects (ФГОС), so a new school can start filling its load without typing them.
REFERENCE_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Русский язык", "Рус. яз."),
    ("Литературное чтение", "Лит. чт."),
    ("Литература", "Лит-ра"),
    ("Иностранный язык (английский)", "Англ. яз."),
    ("Математика", "Матем."),
    ("Алгебра", "Алгебра"),
    ("Геометрия", "Геом."),
    ("Вероятность и статистика", "Вер. и стат."),
    ("Информатика", "Информ."),
    ("Окружающий мир", "Окр. мир"),
    ("История", "История"),
    ("Обществознание", "Общ."),
    ("География", "Геогр."),
    ("Биология", "Биол."),
    ("Физика", "Физика"),
    ("Химия", "Химия"),
    ("Музыка", "Музыка"),
    ("Изобразительное искусство", "ИЗО"),
    ("Труд (технология)", "Труд"),
    ("Физическая культура", "Физ-ра"),
    ("Основы безопасности и защиты Родины", "ОБЗР"),
)


class ProvisioningError(ValueError):
    """A request to create or change a school that cannot be carried out; the message says why."""


@dataclass(frozen=True, slots=True)
class ProvisionedSchool:
    id: int
    slug: str
    schema: str
    admin_invite_code: str


def new_invite_code() -> str:
    """A code a person can type: 12 characters from an alphabet without look-alikes, in groups of four."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def invite_code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().upper().encode()).hexdigest()


def check_time_zone(time_zone: str) -> str:
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ProvisioningError(f"time zone {time_zone!r} is not an IANA zone such as 'Asia/Yekaterinburg'") from exc
    return time_zone


async def create_school(
    db: Database, *, municipality_id: int, slug: str, name: str, time_zone: str, actor: str, revision: str = "head"
) -> ProvisionedSchool:
    """Create the school's registry row, schema, tables, reference data and its administrator's invite.

    `revision` other than head leaves the school for `tenants migrate` to finish (used by the scale benchmark).
    """
    check_slug(slug)
    check_time_zone(time_zone)
    if not name.strip():
        raise ProvisioningError("a school needs a name")
    code = new_invite_code()
    try:
        async with db.engine.begin() as conn:
            if await conn.scalar(select(Municipality.id).where(Municipality.id == municipality_id)) is None:
                raise ProvisioningError(f"municipality {municipality_id} does not exist")
            school_id = await conn.scalar(
                insert(School)
                .values(municipality_id=municipality_id, slug=slug, name=name.strip(), time_zone=time_zone,
                        status="provisioning", status_version=0)
                .returning(School.id)
            )
            assert school_id is not None
            schema = schema_for(school_id)
            await conn.execute(text(f"CREATE SCHEMA {quoted(schema)}"))
            reached = await upgrade_school(conn, schema, revision)
            await _insert_reference_data(conn, schema)
            await conn.execute(
                update(School)
                .where(School.id == school_id)
                .values(schema_name=schema, status="active", schema_revision=reached, migrated_at=func.now())
            )
            await conn.execute(
                insert(Invite).values(
                    code_hash=invite_code_hash(code), school_id=school_id, role="administrator",
                    expires_at=datetime.now(UTC) + ADMIN_INVITE_VALID_FOR,
                )
            )
            await conn.execute(
                insert(PlatformAudit).values(actor=actor, action="school.created", school_id=school_id,
                                             detail={"slug": slug, "schema": schema})
            )
    except IntegrityError as exc:
        if "uq_school_slug" in str(exc.orig):
            raise ProvisioningError(f"a school with slug {slug!r} already exists") from exc
        raise
    return ProvisionedSchool(school_id, slug, schema, code)


async def _insert_reference_data(conn: AsyncConnection, schema: str) -> None:
    school_conn = await conn.execution_options(schema_translate_map={None: schema})
    await school_conn.execute(
        insert(Subject), [{"name": name, "short_name": short} for name, short in REFERENCE_SUBJECTS]
    )


# status → the statuses it may move to
_TRANSITIONS = {
    "active": ("suspended", "archived"),
    "suspended": ("active", "archived"),
    "archived": (),
}


async def set_status(db: Database, slug: str, status: str, *, actor: str, reason: str = "") -> str:
    """Suspend, resume or archive a school; return the previous status. Archiving is final."""
    async with db.transaction() as session:
        query = select(School).where(School.slug == slug).with_for_update()
        school = (await session.execute(query)).scalar_one_or_none()
        if school is None:
            raise ProvisioningError(f"no school with slug {slug!r}")
        previous = school.status
        if status == previous:
            return previous
        if status not in _TRANSITIONS.get(previous, ()):
            raise ProvisioningError(f"school {slug!r} is {previous} and cannot become {status}")
        school.status = status
        school.status_changed_at = datetime.now(UTC)
        school.status_version += 1
        session.add(PlatformAudit(actor=actor, action=f"school.{status}", school_id=school.id,
                                  detail={"from": previous, "reason": reason[:500]}))
    return previous
