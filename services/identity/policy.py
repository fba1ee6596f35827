"""Who may do what: the one place every controller, page and worker asks (R-ROLE-1…5, R-SEC-1).

Every route declares its policy in `opt`: `PUBLIC`, `SIGNED_IN`, or `needs("permission")` for school routes.
The app-wide guard `authorize` enforces it before the handler runs; a route with no policy is refused (and
tests/identity/test_route_policy.py fails the suite). Which roles hold which permission is the school's data
(`role_permission`); what a role can never hold (R-ROLE-4) is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import StudyPeriod
from services.identity.models import Account, Membership, RolePermission
from services.identity.permissions import FAMILY_ROLES, PERMISSIONS, STAFF_ONLY
from services.identity.sessions import COOKIE, SessionData
from services.journal.models import CorrectionPermit, JournalGrant
from services.runtime import Runtime
from services.structure.models import ClassUnit, Guardianship, StudyGroup, TeachingLoad
from tenants.registry import SchoolRecord
from tenants.routing import resolve_school

PUBLIC: dict[str, Any] = {"policy": "public"}
OPENAPI_PATH = "/schema"
SIGNED_IN: dict[str, Any] = {"policy": "signed_in"}


def needs(permission: str, *or_any_of: str) -> dict[str, Any]:
    """The policy of a school route: the caller's roles in that school must hold `permission` (or one of the
    alternatives: the journal is read with any of `journal.read_own`, `journal.read_class`, `journal.read_all`,
    each then narrowed to its records by the handler)."""
    for name in (permission, *or_any_of):
        if name not in PERMISSIONS:
            raise ValueError(f"unknown permission {name!r}")
    return {"policy": "school", "permission": permission, "any_of": (permission, *or_any_of)}


def announcing() -> dict[str, Any]:
    """The policy of the announcement routes: to the classes one leads (`messages.announce`) or to any class
    (`messages.announce_all`); `services.messages.service.announce_classes` lists which."""
    return needs("messages.announce", "messages.announce_all")


def journal_read() -> dict[str, Any]:
    """The policy of routes that show a journal: its teacher, its class teacher or the administration; the
    handler narrows it to the journals the caller may read (`may_read_journal`)."""
    return needs("journal.read_own", "journal.read_class", "journal.read_all")


def route_permissions(opt: dict[str, Any]) -> tuple[str, ...]:
    """The permissions any one of which lets a caller through a school route."""
    return tuple(opt.get("any_of") or (opt["permission"],))


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in account as one request sees it; `school` fields are set on school routes."""

    account_id: int
    login: str
    platform_roles: frozenset[str]
    must_change_password: bool
    session_id: str
    session: SessionData
    school: SchoolRecord | None = None
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    person_id: int | None = None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_family_only(self) -> bool:
        return bool(self.roles) and self.roles <= FAMILY_ROLES


def allowed_permissions(roles: frozenset[str], granted: set[str]) -> frozenset[str]:
    """What a set of roles may actually use: family-only role sets never get staff permissions (R-ROLE-4),
    whatever the school's table says."""
    if roles and roles <= FAMILY_ROLES:
        return frozenset(granted - STAFF_ONLY)
    return frozenset(granted)


def permission_edit_problems(role: str, permission: str) -> list[str]:
    """Why a role may not be given a permission, in Russian; empty when it may."""
    if permission not in PERMISSIONS:
        return [f"Неизвестное право: {permission}."]
    if role in FAMILY_ROLES and permission in STAFF_ONLY:
        return ["Ученикам и родителям нельзя давать права сотрудников: запись в журнал и чужие данные."]
    return []


@dataclass(frozen=True, slots=True)
class _Grant:
    """The account's roles, person and granted permissions in one school."""

    roles: frozenset[str]
    person_id: int | None
    permissions: set[str]


async def _signed_in(connection: ASGIConnection[Any, Any, Any, Any], runtime: Runtime,
                     school: SchoolRecord | None) -> tuple[Account, str, SessionData, _Grant | None]:
    """The session's account and, on a school's routes, its grant there — one statement for both; a school's own
    idle timeout applies on that school's routes (R-SEC-4)."""
    sid = connection.cookies.get(COOKIE)
    if not sid:
        raise NotAuthorizedException("Войдите в систему.")
    idle = (school.session_idle_minutes if school else None) or runtime.settings.security.session_idle_minutes
    data = await runtime.sessions.load(sid, idle_s=idle * 60)
    if data is None:
        raise NotAuthorizedException("Сеанс завершён. Войдите снова.")
    grant = None
    if school is None:
        async with runtime.db.platform_session() as session:
            account = await session.get(Account, data.account_id)
    else:
        account, grant = await _account_and_grant(runtime, school, data.account_id)
    if account is None or account.disabled_at is not None:
        await runtime.sessions.destroy(sid)
        raise NotAuthorizedException("Учётная запись заблокирована.")
    return account, sid, data, grant


async def _account_and_grant(runtime: Runtime, school: SchoolRecord, account_id: int
                             ) -> tuple[Account | None, _Grant]:
    """The account with its roles, person and granted permissions in one school, in one round trip."""
    granted = (
        select(func.array_agg(func.distinct(RolePermission.permission)))
        .where(RolePermission.role == func.any(Membership.roles))
        .scalar_subquery()
    )
    async with runtime.db.school_session(school.schema) as session:
        row = (await session.execute(
            select(Account, Membership.roles, Membership.person_id, granted)
            .outerjoin(Membership, and_(Membership.account_id == Account.id, Membership.school_id == school.id))
            .where(Account.id == account_id)
        )).first()
    if row is None:
        return None, _Grant(frozenset(), None, set())
    account, roles, person_id, permissions = row
    return account, _Grant(frozenset(roles or ()), person_id, set(permissions or ()))


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide guard: enforce the route's declared policy and leave the Principal in `state`."""
    policy = handler.opt.get("policy")
    # The OpenAPI document is generated by Litestar's own controller, which carries no policy of ours.
    if policy == "public" or (policy is None and connection.scope["path"].startswith(OPENAPI_PATH)):
        return
    runtime: Runtime = connection.app.state.runtime
    if policy not in ("signed_in", "school"):
        raise PermissionDeniedException("Доступ к этому адресу не настроен.")
    school = None
    if policy == "school":
        school = await resolve_school(runtime, connection.path_params.get("school_slug", ""))
    account, sid, data, grant = await _signed_in(connection, runtime, school)
    principal = Principal(account.id, account.login, frozenset(account.platform_roles or ()),
                          account.must_change_password, sid, data)
    if school is not None:
        if account.must_change_password:
            raise PermissionDeniedException("Сначала смените пароль: это требование администратора.")
        assert grant is not None
        if not grant.roles:
            raise PermissionDeniedException("У вас нет доступа к этой школе.")
        principal = Principal(
            account.id, account.login, principal.platform_roles, False, sid, data, school, grant.roles,
            allowed_permissions(grant.roles, grant.permissions), grant.person_id,
        )
        if not any(principal.can(p) for p in route_permissions(handler.opt)):
            raise PermissionDeniedException("Недостаточно прав для этого действия.")
    connection.state.principal = principal


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state.principal
    return principal


# --- data scope (R-ROLE-4) ------------------------------------------------------------------------------------


async def may_read_student(principal: Principal, session: AsyncSession, student_id: int) -> bool:
    """Staff with `people.read` see any student; a student sees themself; a parent sees only their children."""
    if principal.can("people.read") and not principal.is_family_only:
        return True
    if principal.person_id is None or not principal.can("diary.read_own"):
        return False
    if "student" in principal.roles and principal.person_id == student_id:
        return True
    if "parent" in principal.roles:
        found = await session.scalar(
            select(Guardianship.student_id).where(
                Guardianship.guardian_id == principal.person_id, Guardianship.student_id == student_id
            )
        )
        return found is not None
    return False


async def may_write_journal(principal: Principal, session: AsyncSession, *, load: TeachingLoad,
                            on_date: date) -> bool:
    """Who may write a journal entry dated `on_date` in the journal of `load` (R-JRN-5, R-ROLE-4): the load's own
    teacher, or a substitute holding the deputy head's grant that covers the date; students and parents never,
    whatever the school's role table says."""
    if principal.is_family_only or not principal.can("journal.write") or principal.person_id is None:
        return False
    if load.teacher_id == principal.person_id:
        return True
    found = await session.scalar(select(JournalGrant.id).where(
        JournalGrant.teacher_id == principal.person_id, JournalGrant.teaching_load_id == load.id,
        JournalGrant.valid_from <= on_date, JournalGrant.valid_to >= on_date).limit(1))
    return found is not None


async def may_write_closed_period(principal: Principal, session: AsyncSession, *, load: TeachingLoad,
                                  period: StudyPeriod, today: date) -> bool:
    """A closed period is locked (R-JRN-4): only holders of `journal.correct_closed` (the deputy head) correct it,
    or a teacher the deputy head gave a permit for this load and period that has not run out. The caller must
    also pass `may_write_journal`; a reason is recorded with every such correction."""
    if principal.is_family_only or principal.person_id is None:
        return False
    if principal.can("journal.correct_closed"):
        return True
    found = await session.scalar(select(CorrectionPermit.id).where(
        CorrectionPermit.teacher_id == principal.person_id, CorrectionPermit.teaching_load_id == load.id,
        CorrectionPermit.study_period_id == period.id, CorrectionPermit.valid_until >= today).limit(1))
    return found is not None


async def may_read_journal(principal: Principal, session: AsyncSession, *, load: TeachingLoad) -> bool:
    """Administration reads every journal; a class teacher the whole journal of their class, every subject and
    every group of it (R-ROLE-5); a teacher the journals of their load and of their substitution grants."""
    if principal.is_family_only:
        return False
    if principal.can("journal.read_all"):
        return True
    if principal.person_id is None:
        return False
    if principal.can("journal.read_class"):
        class_id = load.class_unit_id
        if class_id is None:
            class_id = await session.scalar(select(StudyGroup.class_unit_id).where(StudyGroup.id == load.group_id))
        if class_id is not None:
            teacher = await session.scalar(select(ClassUnit.class_teacher_id).where(ClassUnit.id == class_id))
            if teacher == principal.person_id:
                return True
    if principal.can("journal.read_own"):
        if load.teacher_id == principal.person_id:
            return True
        found = await session.scalar(select(JournalGrant.id).where(
            JournalGrant.teacher_id == principal.person_id, JournalGrant.teaching_load_id == load.id).limit(1))
        return found is not None
    return False
