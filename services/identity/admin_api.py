"""School administration API: invite codes in bulk and the school's users (R-STR-7, R-ROLE-3)."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from services.identity import invites, members
from services.identity.policy import Principal, needs, provide_principal
from services.runtime import Runtime
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES


class InvitesIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    kinds: list[str]
    """Who gets codes: any of "student", "parent", "staff" (staff only for the whole school)."""
    class_unit_id: int | None = None
    """A class, or null for the whole school."""
    valid_days: int = 30


class MemberOut(msgspec.Struct, frozen=True):
    account_id: int
    login: str
    roles: list[str]
    person_id: int | None
    person_name: str | None
    must_change_password: bool
    disabled: bool


class MemberRolesIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    roles: list[str]



def _member_out(m: members.Member) -> MemberOut:
    return MemberOut(m.account_id, m.login, list(m.roles), m.person_id, m.person_name, m.must_change_password,
                     m.disabled)


class SchoolAdminController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["identity"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/invites", opt=needs("invites.manage"), status_code=201, response_headers={"Cache-Control": "no-store"},
          summary="Issue the missing invite codes of a class or the whole school (codes are returned only here)")
    async def issue_invites(self, data: JSONBody[InvitesIn], school: NamedDependency[SchoolRecord],
                            runtime: NamedDependency[Runtime],
                            principal: NamedDependency[Principal]) -> list[invites.IssuedInvite]:
        issued = await invites.issue_invites(runtime.db, school=school, class_unit_id=data.class_unit_id,
                                             kinds=data.kinds, valid_days=data.valid_days,
                                             actor_account_id=principal.account_id)
        return issued

    @get("/users", opt=needs("users.manage"), summary="The school's members with their roles")
    async def users(self, school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime]) -> list[MemberOut]:
        return [_member_out(m) for m in await members.list_members(runtime, school)]

    @put("/users/{account_id:int}/roles", opt=needs("users.manage"), summary="Replace a member's roles")
    async def set_roles(self, account_id: FromPath[int], data: JSONBody[MemberRolesIn],
                        school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime],
                        principal: NamedDependency[Principal]) -> MemberOut:
        member = await members.set_roles(runtime, school=school, account_id=account_id, roles=data.roles,
                                         actor_account_id=principal.account_id)
        return _member_out(member)

    @delete("/users/{account_id:int}", opt=needs("users.manage"), status_code=204,
            summary="End a member's membership in this school")
    async def remove(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> None:
        await members.remove_member(runtime, school=school, account_id=account_id,
                                    actor_account_id=principal.account_id)
