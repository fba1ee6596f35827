"""The school administrator's pages: invite codes in bulk (printable slips and CSV) and the school's users."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import invites, members
from services.identity.pages import Form
from services.identity.permissions import SCHOOL_ROLES
from services.identity.policy import Principal, needs, provide_principal
from services.identity.service import IdentityError
from services.runtime import Runtime
from services.structure import repository
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

# Codes and temporary passwords are in these pages: no cache may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}
_DEPENDENCIES = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}


def _values(data: dict[str, Any], key: str) -> list[str]:
    """A form field that may be sent once, many times or not at all."""
    raw = data.get(key, [])
    return [str(v) for v in ([raw] if isinstance(raw, str) else raw)]


def _class_choice(raw: str) -> int | None:
    raw = raw.strip()
    if raw in ("", "school"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise IdentityError("Выберите класс из списка.", status_code=422) from None


class InvitePages(Controller):
    """Пригласительные коды for a class or the whole school, as printable slips and a CSV (R-STR-7)."""

    path = "/s/{school_slug:str}/admin/invites"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("invites.manage"))
    async def form(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _invite_form(session, school)

    @post("/", opt=needs("invites.manage"), status_code=200)
    async def issue(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                    data: Form) -> Response[Any]:
        kinds = _values(data, "kind")
        choice = str(data.get("class_unit_id", ""))
        try:
            class_unit_id = _class_choice(choice)
            issued = await invites.issue_invites(
                runtime.db, school=school, class_unit_id=class_unit_id, kinds=kinds,
                actor_account_id=principal.account_id,
            )
        except IdentityError as exc:
            return await _invite_form(session, school, status_code=exc.status_code, errors=exc.messages,
                                      kinds=set(kinds), chosen=choice)
        today = invites.school_date(school)
        filename = invites.csv_filename(school, today)
        content = invites.invites_csv(issued)
        if data.get("format") == "csv":
            return Response(content, media_type="text/csv; charset=utf-8", headers={
                **NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})
        class_name = ""
        if class_unit_id is not None:
            found = await repository.class_with_count(session, class_unit_id, today)
            class_name = found[0].name if found else ""
        return Template("identity/admin/invite_slips.html", headers=NO_STORE, context={
            "school": school, "invites": issued, "class_name": class_name,
            "register_url": runtime.settings.public_url.rstrip("/") + "/register",
            "csv_href": "data:text/csv;charset=utf-8;base64," + base64.b64encode(content).decode(),
            "csv_filename": filename,
        })


async def _invite_form(session: AsyncSession, school: SchoolRecord, status_code: int = 200,
                       **context: Any) -> Template:
    classes = await repository.classes_with_counts(session, invites.school_date(school))
    context.setdefault("kinds", {"student", "parent"})
    return Template("identity/admin/invites.html", status_code=status_code, context={
        "school": school, "classes": classes, "kind_titles": invites.KIND_TITLES, **context})


class UserPages(Controller):
    """The school's users: roles, temporary passwords, removal (R-ROLE-3)."""

    path = "/s/{school_slug:str}/admin/users"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("users.manage"))
    async def show(self, school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime],
                   principal: NamedDependency[Principal]) -> Template:
        return await _users_page(runtime, school, principal)

    @post("/{account_id:int}/roles", opt=needs("users.manage"), status_code=200)
    async def set_roles(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                        runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                        data: Form) -> Template:
        try:
            await members.set_roles(runtime, school=school, account_id=account_id, roles=_values(data, "role"),
                                    actor_account_id=principal.account_id)
        except IdentityError as exc:
            return await _users_page(runtime, school, principal, status_code=exc.status_code, errors=exc.messages)
        return await _users_page(runtime, school, principal, done="Роли сохранены.")

    @post("/{account_id:int}/password-reset", opt=needs("users.manage"), status_code=200)
    async def reset_password(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                             runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Template:
        try:
            password = await members.reset_member_password(runtime, school=school, account_id=account_id,
                                                           actor_account_id=principal.account_id)
        except IdentityError as exc:
            return await _users_page(runtime, school, principal, status_code=exc.status_code, errors=exc.messages)
        return await _users_page(runtime, school, principal, reset={"account_id": account_id, "password": password})

    @post("/{account_id:int}/remove", opt=needs("users.manage"), status_code=200)
    async def remove(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Template:
        try:
            await members.remove_member(runtime, school=school, account_id=account_id,
                                        actor_account_id=principal.account_id)
        except IdentityError as exc:
            return await _users_page(runtime, school, principal, status_code=exc.status_code, errors=exc.messages)
        return await _users_page(runtime, school, principal, done="Пользователь удалён из школы.")


async def _users_page(runtime: Runtime, school: SchoolRecord, principal: Principal, status_code: int = 200,
                      **context: Any) -> Template:
    listing = await members.list_members(runtime, school)
    reset = context.get("reset")
    if reset:
        context["reset_login"] = next((m.login for m in listing if m.account_id == reset["account_id"]), "")
    return Template("identity/admin/users.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "members": listing, "roles": SCHOOL_ROLES,
        "me": principal.account_id, "can_invite": principal.can("invites.manage"), **context})
