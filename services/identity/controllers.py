"""Identity API: session login for API clients, the caller's account, roles and password resets of a school."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import OutOfScope, Problem
from services.identity import compromise, members, service
from services.identity.models import Membership, PlatformAudit, RolePermission
from services.identity.pages import client_address, session_cookie_response
from services.identity.permissions import SCHOOL_ROLES
from services.identity.policy import (
    PUBLIC,
    SIGNED_IN,
    Principal,
    may_read_student,
    needs,
    permission_edit_problems,
    provide_principal,
)
from services.identity.schemas import (
    ChangeOut,
    CompromisedIn,
    LoginIn,
    MembershipOut,
    MeOut,
    RevertAllOut,
    RevertConflictOut,
    RevertOut,
    RolePermissionsIn,
    SessionSettings,
    StudentOut,
    TemporaryPasswordOut,
)
from services.identity.sessions import COOKIE
from services.region.models import School
from services.runtime import Runtime, provide_runtime
from services.structure.models import Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

IDLE_MINUTES = (5, 240)
_PRINCIPAL = {"principal": Provide(provide_principal, sync_to_thread=False)}


class IdentityError(Problem):
    problem_type = "/problems/identity"


async def _since(runtime: Runtime, account_id: int, since: datetime | None) -> datetime:
    start = since or await compromise.compromised_since(runtime, account_id)
    if start is None:
        raise IdentityError("Укажите, с какого момента искать изменения (since).", status_code=422)
    return compromise.check_since(start)



class AuthController(Controller):
    path = "/api/v1"
    tags = ["identity"]
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False), **_PRINCIPAL}

    @post("/auth/login", opt=PUBLIC, status_code=204, summary="Start a session (sets the session cookie)")
    async def login(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime],
                    data: JSONBody[LoginIn]) -> Response[None]:
        result = await service.password_login(runtime, data.login, data.password, client_address(request))
        return session_cookie_response(Response(None, status_code=204), runtime, result.session_id)

    @post("/auth/logout", opt=SIGNED_IN, status_code=204, summary="End this session")
    async def logout(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> None:
        await runtime.sessions.destroy(principal.session_id)

    @post("/auth/logout-all", opt=SIGNED_IN, status_code=204, summary="End every session of the account")
    async def logout_all(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> None:
        await runtime.sessions.destroy_all(principal.account_id)

    @post("/auth/compromised", opt=SIGNED_IN, status_code=204,
          summary="Report one's own credentials compromised since T: every session ends, a new password is due")
    async def report_compromised(self, data: JSONBody[CompromisedIn], runtime: NamedDependency[Runtime],
                                 principal: NamedDependency[Principal]) -> Response[None]:
        await compromise.mark_compromised(runtime, account_id=principal.account_id, since=data.since,
                                          actor_account_id=principal.account_id)
        response: Response[None] = Response(None, status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    @get("/me", opt=SIGNED_IN, summary="The signed-in account and its schools")
    async def me(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> MeOut:
        async with runtime.db.platform_session() as session:
            rows = (await session.execute(
                select(School.slug, School.name, Membership.roles)
                .join(Membership, Membership.school_id == School.id)
                .where(Membership.account_id == principal.account_id)
                .order_by(School.name)
            )).all()
        return MeOut(principal.account_id, principal.login, principal.must_change_password,
                     sorted(principal.platform_roles), [MembershipOut(r.slug, r.name, list(r.roles)) for r in rows])


class SchoolAccessController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["identity"]
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/roles", opt=needs("roles.manage"), summary="Permissions of every role in this school")
    async def roles(self, session: NamedDependency[AsyncSession]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {role: [] for role in SCHOOL_ROLES}
        for row in (await session.execute(select(RolePermission).order_by(RolePermission.permission))).scalars():
            result.setdefault(row.role, []).append(row.permission)
        return result

    @put("/roles/{role:str}", opt=needs("roles.manage"), summary="Set the permissions of one role")
    async def set_role(self, role: FromPath[str], data: JSONBody[RolePermissionsIn],
                       school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       principal: NamedDependency[Principal]) -> list[str]:
        if role not in SCHOOL_ROLES:
            raise NotFoundException("Такой роли нет.")
        wanted = sorted(set(data.permissions))
        problems = [p for perm in wanted for p in permission_edit_problems(role, perm)]
        if problems:
            raise IdentityError(" ".join(sorted(set(problems))), status_code=422)
        before = set((await session.execute(
            select(RolePermission.permission).where(RolePermission.role == role))).scalars())
        await audit.delete_rows(session, RolePermission, RolePermission.role == role)
        await audit.insert_rows(session, RolePermission, [{"role": role, "permission": p} for p in wanted])
        session.add(PlatformAudit(actor=f"account:{principal.account_id}", action="roles.changed",
                                  school_id=school.id, detail={"role": role, "added": sorted(set(wanted) - before),
                                                               "removed": sorted(before - set(wanted))}))
        return wanted

    @post("/users/{account_id:int}/password-reset", opt=needs("users.manage"), status_code=200,
          summary="Give a member a temporary password to change at next login")
    async def reset_password(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                             runtime: NamedDependency[Runtime],
                             principal: NamedDependency[Principal]) -> TemporaryPasswordOut:
        password = await members.reset_member_password(runtime, school=school, account_id=account_id,
                                                       actor_account_id=principal.account_id)
        return TemporaryPasswordOut(password)

    @post("/users/{account_id:int}/compromised", opt=needs("compromise.manage"), status_code=204,
          summary="Record a member's credentials compromised since T")
    async def mark_compromised(self, account_id: FromPath[int], data: JSONBody[CompromisedIn],
                               school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime],
                               principal: NamedDependency[Principal]) -> None:
        await compromise.mark_compromised(runtime, account_id=account_id, since=data.since,
                                          actor_account_id=principal.account_id, school_id=school.id)

    @get("/users/{account_id:int}/changes", opt=needs("compromise.manage"),
         summary="Every change the member made in this school since T (default: since the recorded compromise)")
    async def changes(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                      runtime: NamedDependency[Runtime], since: FromQuery[datetime | None] = None) -> list[ChangeOut]:
        start = await _since(runtime, account_id, since)
        return [ChangeOut(c.id, c.at, c.action, c.entity, c.entity_key, c.before, c.after, c.reverted_by)
                for c in await compromise.changes(runtime, school, account_id, start)]

    @post("/audit/{entry_id:int}/revert", opt=needs("compromise.manage"), status_code=200,
          summary="Undo one change")
    async def revert(self, entry_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> RevertOut:
        return RevertOut(await compromise.revert_one(runtime, school, entry_id, principal.account_id))

    @post("/users/{account_id:int}/revert-all", opt=needs("compromise.manage"), status_code=200,
          summary="Undo every change the member made in this school since T, newest first")
    async def revert_all(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                         runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                         since: FromQuery[datetime | None] = None) -> RevertAllOut:
        start = await _since(runtime, account_id, since)
        report = await compromise.revert_everything(runtime, school, account_id, start, principal.account_id)
        return RevertAllOut([entry for entry, _ in report.reverted],
                            [RevertConflictOut(c.audit_id, c.message_ru) for c in report.conflicts], report.skipped)

    @get("/settings/session", opt=needs("users.manage"), summary="The school's session idle timeout")
    async def session_settings(self, school: NamedDependency[SchoolRecord],
                               runtime: NamedDependency[Runtime]) -> SessionSettings:
        return SessionSettings(school.session_idle_minutes)

    @put("/settings/session", opt=needs("users.manage"), summary="Set the school's session idle timeout")
    async def set_session_settings(self, data: JSONBody[SessionSettings], school: NamedDependency[SchoolRecord],
                                   runtime: NamedDependency[Runtime],
                                   principal: NamedDependency[Principal]) -> SessionSettings:
        minutes = data.idle_minutes
        if minutes is not None and not IDLE_MINUTES[0] <= minutes <= IDLE_MINUTES[1]:
            raise IdentityError(
                f"Время бездействия до выхода: от {IDLE_MINUTES[0]} до {IDLE_MINUTES[1]} минут.", status_code=422
            )
        async with runtime.db.transaction() as session:
            await session.execute(update(School).where(School.id == school.id).values(session_idle_minutes=minutes))
            session.add(PlatformAudit(actor=f"account:{principal.account_id}", action="school.session_idle",
                                      school_id=school.id, detail={"minutes": minutes}))
        runtime.registry.invalidate(school.slug)
        return SessionSettings(minutes)

    @get("/students/{student_id:int}", opt=needs("school.view"), summary="A student's card, within the caller's scope")
    async def student(self, student_id: FromPath[int], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal]) -> StudentOut:
        if not await may_read_student(principal, session, student_id):
            raise OutOfScope("Сведения об этом ученике вам недоступны.")
        person = await session.get(Person, student_id)
        if person is None or person.kind != "student":
            raise NotFoundException("Ученик не найден.")
        return StudentOut(person.id, person.last_name, person.first_name, person.middle_name)
