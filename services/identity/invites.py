"""Invite codes in bulk (R-STR-7): one пригласительный код per student, guardian and staff member of a school.

People live in the school's schema, invites in `platform`: the people are read first, then every invite of the
batch is written in one platform transaction. Codes are stored hashed, so the batch returned here is the only
time anyone sees them; the caller prints them or hands over the CSV at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Row, and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.identity.models import Invite, Membership, PlatformAudit
from services.identity.permissions import SCHOOL_ROLES
from services.identity.service import IdentityError
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person
from tenants.provisioning import invite_code_hash, new_invite_code
from tenants.registry import SchoolRecord

# What the administrator ticks → the role the invite grants.
KIND_ROLES: dict[str, str] = {"student": "student", "parent": "parent", "staff": "teacher"}
KIND_TITLES: dict[str, str] = {"student": "ученики", "parent": "родители", "staff": "сотрудники"}
VALID_DAYS = (1, 365)
# Two-key advisory lock (this constant, school id): two batches of one school never issue the same person twice.
_LOCK_KEY = 0x494E56  # "INV"
_ROLE_ORDER = {"student": 0, "parent": 1, "teacher": 2}
CSV_HEADER = ("Фамилия", "Имя", "Отчество", "Класс", "Роль", "Код", "Действует до")


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    """One slip: the person, the role and the plain code (shown once)."""

    person_id: int
    last_name: str
    first_name: str
    middle_name: str | None
    class_name: str
    role: str
    code: str
    expires_at: datetime
    valid_until: date
    """The last day the code works, in the school's time zone."""
    children: tuple[str, ...] = ()
    """For a parent's slip: whose parent, "Фамилия Имя (5А)", so the slip reaches the right home."""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def role_title(self) -> str:
        return SCHOOL_ROLES.get(self.role, self.role)


@dataclass(slots=True)
class _Candidate:
    person_id: int
    last_name: str
    first_name: str
    middle_name: str | None
    role: str
    classes: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def _name(last: str, first: str) -> str:
    return f"{last} {first}"


def school_date(school: SchoolRecord, at: datetime | None = None) -> date:
    return (at or datetime.now(UTC)).astimezone(ZoneInfo(school.time_zone)).date()


def kinds_problems(kinds: Iterable[str], class_unit_id: int | None, valid_days: int) -> list[str]:
    """Why a batch request cannot be issued, in Russian; empty when it can."""
    kinds = set(kinds)
    problems = []
    if not kinds:
        problems.append("Отметьте, кому выдать коды: ученикам, родителям или сотрудникам.")
    unknown = kinds - KIND_ROLES.keys()
    if unknown:
        problems.append("Неизвестная группа получателей: " + ", ".join(sorted(unknown)) + ".")
    if "staff" in kinds and class_unit_id is not None:
        problems.append("Коды сотрудникам выдаются для всей школы, а не для класса.")
    if not VALID_DAYS[0] <= valid_days <= VALID_DAYS[1]:
        problems.append(f"Срок действия кода: от {VALID_DAYS[0]} до {VALID_DAYS[1]} дней.")
    return problems


async def _people(db: Database, school: SchoolRecord, class_unit_id: int | None, kinds: set[str],
                  today: date) -> list[_Candidate]:
    """Everyone the batch is for, in handing-out order: per class, each student followed by their guardians."""
    current = and_(Enrollment.start_date <= today, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today))
    async with db.school_session(school.schema) as session:
        if class_unit_id is not None and await session.get(ClassUnit, class_unit_id) is None:
            raise IdentityError("Класс не найден.", status_code=404)
        students_q = (
            select(Person.id, Person.last_name, Person.first_name, Person.middle_name, ClassUnit.grade,
                   ClassUnit.letter)
            .join(Enrollment, Enrollment.student_id == Person.id)
            .join(ClassUnit, ClassUnit.id == Enrollment.class_unit_id)
            .where(Person.kind == "student", current)
            .order_by(ClassUnit.grade, ClassUnit.letter, Person.last_name, Person.first_name, Person.id)
        )
        if class_unit_id is not None:
            students_q = students_q.where(Enrollment.class_unit_id == class_unit_id)
        students = (await session.execute(students_q)).all() if kinds & {"student", "parent"} else []
        guardians: dict[int, list[tuple[int, str, str, str | None]]] = {}
        if "parent" in kinds and students:
            rows = await session.execute(
                select(Guardianship.student_id, Person.id, Person.last_name, Person.first_name, Person.middle_name)
                .join(Person, Person.id == Guardianship.guardian_id)
                .where(Guardianship.student_id.in_({s.id for s in students}), Person.kind == "guardian")
                .order_by(Person.last_name, Person.first_name, Person.id)
            )
            for student_id, gid, last, first, middle in rows.tuples():
                guardians.setdefault(student_id, []).append((gid, last, first, middle))
        staff: Sequence[Row[tuple[int, str, str, str | None]]] = []
        if "staff" in kinds and class_unit_id is None:
            staff = (await session.execute(
                select(Person.id, Person.last_name, Person.first_name, Person.middle_name)
                .where(Person.kind == "staff").order_by(Person.last_name, Person.first_name, Person.id)
            )).all()

    out: list[_Candidate] = []
    seen_students: set[int] = set()
    parents: dict[int, _Candidate] = {}
    for s in students:
        if s.id in seen_students:  # enrolled in two classes at once: one code is enough
            continue
        seen_students.add(s.id)
        class_name = f"{s.grade}{s.letter}"
        if "student" in kinds:
            out.append(_Candidate(s.id, s.last_name, s.first_name, s.middle_name, "student", [class_name]))
        for gid, last, first, middle in guardians.get(s.id, ()):
            parent = parents.get(gid)
            if parent is None:
                parent = parents[gid] = _Candidate(gid, last, first, middle, "parent")
                out.append(parent)
            if class_name not in parent.classes:
                parent.classes.append(class_name)
            parent.children.append(f"{_name(s.last_name, s.first_name)} ({class_name})")
    out += [_Candidate(p.id, p.last_name, p.first_name, p.middle_name, "teacher") for p in staff]
    return out


def invite_expiry(school: SchoolRecord, today: date, valid_days: int) -> tuple[date, datetime]:
    """(last valid day, the moment it ends): valid through the whole of the last day in the school's time zone,
    as the slip says."""
    valid_until = today + timedelta(days=valid_days)
    return valid_until, datetime.combine(valid_until + timedelta(days=1), time(0), ZoneInfo(school.time_zone))


async def issue_one(session: AsyncSession, *, school: SchoolRecord, role: str, person_id: int, today: date,
                    valid_days: int = 30) -> tuple[Invite, str, date]:
    """One person-bound invite in the caller's transaction (an approved access application): the row, the plain
    code (shown once) and the last valid day. Serialised with the bulk issue by the same lock."""
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY, school.id)))
    code = new_invite_code()
    valid_until, expires_at = invite_expiry(school, today, valid_days)
    invite = Invite(code_hash=invite_code_hash(code), school_id=school.id, role=role, person_id=person_id,
                    expires_at=expires_at)
    session.add(invite)
    await session.flush()
    return invite, code, valid_until


async def issue_invites(db: Database, *, school: SchoolRecord, class_unit_id: int | None, kinds: Iterable[str],
                        valid_days: int = 30, actor_account_id: int) -> list[IssuedInvite]:
    """Issue the missing person-bound invites of a class or of the whole school; return them with plain codes.

    Skips everyone who already holds an unused, unexpired invite for the role or already has a membership
    linked to their person record, so running it again issues only what is missing.
    """
    kinds = set(kinds)
    problems = kinds_problems(kinds, class_unit_id, valid_days)
    if problems:
        raise IdentityError(*problems, status_code=422)
    now = datetime.now(UTC)
    today = school_date(school, now)
    candidates = await _people(db, school, class_unit_id, kinds, today)
    valid_until, expires_at = invite_expiry(school, today, valid_days)
    issued: list[IssuedInvite] = []
    async with db.transaction() as session:
        await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY, school.id)))
        pending = set((await session.execute(
            select(Invite.person_id, Invite.role).where(
                Invite.school_id == school.id, Invite.person_id.is_not(None), Invite.used_at.is_(None),
                Invite.expires_at > now)
        )).tuples())
        linked = set((await session.execute(
            select(Membership.person_id).where(Membership.school_id == school.id, Membership.person_id.is_not(None))
        )).scalars())
        rows = []
        for c in candidates:
            if (c.person_id, c.role) in pending or c.person_id in linked:
                continue
            code = new_invite_code()
            rows.append({"code_hash": invite_code_hash(code), "school_id": school.id, "role": c.role,
                         "person_id": c.person_id, "expires_at": expires_at})
            issued.append(IssuedInvite(c.person_id, c.last_name, c.first_name, c.middle_name, ", ".join(c.classes),
                                       c.role, code, expires_at, valid_until, tuple(c.children)))
        if rows:
            await session.execute(insert(Invite), rows)
        counts = {role: sum(1 for i in issued if i.role == role) for role in sorted({*KIND_ROLES.values()})}
        session.add(PlatformAudit(
            actor=f"account:{actor_account_id}", action="invites.issued", school_id=school.id,
            detail={"class_unit_id": class_unit_id, "kinds": sorted(kinds), "issued": counts,
                    "skipped": len(candidates) - len(issued), "valid_days": valid_days},
        ))
    return issued


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to Excel; a name never needs to be one.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def invites_csv(invites: Iterable[IssuedInvite]) -> bytes:
    """The batch as Excel in Russia opens it: UTF-8 with BOM, `;` between fields, one row per slip."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for i in invites:
        writer.writerow([_cell(v) for v in (i.last_name, i.first_name, i.middle_name or "", i.class_name,
                                            i.role_title, i.code, i.valid_until.strftime("%d.%m.%Y"))])
    return "\ufeff".encode() + buffer.getvalue().encode()


def csv_filename(school: SchoolRecord, on: date) -> str:
    return f"invites-{school.slug}-{on.isoformat()}.csv"
