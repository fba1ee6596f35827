"""The members of one school as its administrator manages them: roles, temporary passwords, removal (R-ROLE-3).

Memberships live in `platform`, the people they are linked to in the school's schema. Every change is
recorded in `platform_audit` with ids and role names only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import service
from services.identity.models import Account, Membership, PlatformAudit
from services.identity.permissions import FAMILY_ROLES, SCHOOL_ROLES
from services.identity.service import IdentityError
from services.runtime import Runtime
from services.structure.models import Person
from tenants.registry import SchoolRecord

ADMINISTRATOR = "administrator"


@dataclass(frozen=True, slots=True)
class Member:
    account_id: int
    login: str
    roles: tuple[str, ...]
    person_id: int | None
    person_name: str | None
    must_change_password: bool
    disabled: bool

    @property
    def role_titles(self) -> list[str]:
        return [SCHOOL_ROLES.get(r, r) for r in self.roles]


def role_set_problems(roles: Iterable[str]) -> list[str]:
    """Why a membership may not hold this set of roles, in Russian; empty when it may."""
    roles = set(roles)
    problems = []
    if not roles:
        problems.append("Отметьте хотя бы одну роль. Чтобы закрыть пользователю доступ к школе, удалите его.")
    unknown = roles - SCHOOL_ROLES.keys()
    if unknown:
        problems.append("Неизвестная роль: " + ", ".join(sorted(unknown)) + ".")
    family, staff = roles & FAMILY_ROLES, roles - FAMILY_ROLES - unknown
    if family and staff:
        problems.append("Роли ученика, родителя и члена родительского комитета нельзя совмещать с ролями "
                        "сотрудников школы в одной учётной записи.")
    return problems


async def list_members(runtime: Runtime, school: SchoolRecord) -> list[Member]:
    """Every account with a membership in the school, with the name of the person it is linked to."""
    async with runtime.db.platform_session() as session:
        rows = (await session.execute(
            select(Membership.account_id, Account.login, Membership.roles, Membership.person_id,
                   Account.must_change_password, Account.disabled_at)
            .join(Account, Account.id == Membership.account_id)
            .where(Membership.school_id == school.id)
            .order_by(Account.login)
        )).all()
    person_ids = {r.person_id for r in rows if r.person_id is not None}
    names: dict[int, str] = {}
    if person_ids:
        async with runtime.db.school_session(school.schema) as session:
            for pid, last, first, middle in (await session.execute(
                select(Person.id, Person.last_name, Person.first_name, Person.middle_name)
                .where(Person.id.in_(person_ids))
            )).tuples():
                names[pid] = " ".join(p for p in (last, first, middle) if p)
    return [
        Member(r.account_id, r.login, tuple(sorted(r.roles, key=_role_order)), r.person_id,
               names.get(r.person_id) if r.person_id is not None else None, r.must_change_password,
               r.disabled_at is not None)
        for r in rows
    ]


def _role_order(role: str) -> int:
    order = list(SCHOOL_ROLES)
    return order.index(role) if role in order else len(order)


async def _locked_membership(session: AsyncSession, school: SchoolRecord, account_id: int) -> tuple[Membership,
                                                                                                   set[int]]:
    """The member's row and the school's administrators, locked so that two administrators removing each other
    at the same moment cannot leave the school without one."""
    admins = set((await session.execute(
        select(Membership.account_id)
        .where(Membership.school_id == school.id, Membership.roles.contains([ADMINISTRATOR]))
        .order_by(Membership.id).with_for_update()
    )).scalars())
    membership = (await session.execute(
        select(Membership).where(Membership.school_id == school.id, Membership.account_id == account_id)
        .with_for_update()
    )).scalar_one_or_none()
    if membership is None:
        raise IdentityError("Пользователь не состоит в этой школе.", status_code=404)
    return membership, admins


_LAST_ADMIN = ("В школе должен остаться хотя бы один администратор журнала: сначала назначьте другого "
               "администратора.")


async def set_roles(runtime: Runtime, *, school: SchoolRecord, account_id: int, roles: Iterable[str],
                    actor_account_id: int) -> Member:
    """Replace a member's roles in the school; refuses sets that break the rules above or the last administrator."""
    wanted = sorted(set(roles), key=_role_order)
    problems = role_set_problems(wanted)
    if problems:
        raise IdentityError(*problems, status_code=422)
    async with runtime.db.transaction() as session:
        membership, admins = await _locked_membership(session, school, account_id)
        before = set(membership.roles)
        if ADMINISTRATOR in before ^ set(wanted) and actor_account_id not in admins:
            # users.manage may be given to a secretary; making or unmaking administrators stays with them.
            raise IdentityError("Назначать и снимать администраторов журнала может только администратор.",
                                status_code=403)
        if ADMINISTRATOR in before and ADMINISTRATOR not in wanted and admins <= {account_id}:
            raise IdentityError(_LAST_ADMIN, status_code=409)
        if before != set(wanted):
            membership.roles = wanted
            session.add(PlatformAudit(
                actor=f"account:{actor_account_id}", action="membership.roles_changed", school_id=school.id,
                detail={"account_id": account_id, "added": sorted(set(wanted) - before),
                        "removed": sorted(before - set(wanted))},
            ))
    found = [m for m in await list_members(runtime, school) if m.account_id == account_id]
    return found[0]


async def remove_member(runtime: Runtime, *, school: SchoolRecord, account_id: int, actor_account_id: int) -> None:
    """End an account's membership in the school (the account and its other schools stay)."""
    if account_id == actor_account_id:
        raise IdentityError("Нельзя удалить из школы самого себя.", status_code=409)
    async with runtime.db.transaction() as session:
        membership, admins = await _locked_membership(session, school, account_id)
        if ADMINISTRATOR in membership.roles and admins <= {account_id}:
            raise IdentityError(_LAST_ADMIN, status_code=409)
        await session.execute(delete(Membership).where(Membership.id == membership.id))
        session.add(PlatformAudit(
            actor=f"account:{actor_account_id}", action="membership.removed", school_id=school.id,
            detail={"account_id": account_id, "roles": sorted(membership.roles)},
        ))


async def reset_member_password(runtime: Runtime, *, school: SchoolRecord, account_id: int,
                                actor_account_id: int) -> str:
    """A temporary password for a member, to be changed at their next login; one's own is changed in the profile."""
    if account_id == actor_account_id:
        raise IdentityError("Свой пароль смените в профиле.", status_code=409)
    return await service.reset_password(runtime, school_id=school.id, account_id=account_id,
                                        actor_account_id=actor_account_id)
