"""Identity pages: login, registration by invite code, choosing a school, profile and password, roles."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from services import audit
from services.identity import compromise, oidc, oidc_login, service
from services.identity.models import Account, Membership, OidcProvider, PlatformAudit, RolePermission
from services.identity.permissions import FAMILY_ROLES, PERMISSIONS, SCHOOL_ROLES, STAFF_ONLY
from services.identity.policy import PUBLIC, SIGNED_IN, Principal, needs, permission_edit_problems, provide_principal
from services.identity.sessions import COOKIE
from services.region.models import School
from services.runtime import Runtime, provide_runtime
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

log = logging.getLogger("journal.identity")

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

_DEPENDENCIES = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
}


def safe_next(target: str | None) -> str:
    """Only paths of this site: an open redirect would let a phishing link borrow our address."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/schools"


def session_cookie_response(response: Response[Any], runtime: Runtime, session_id: str) -> Response[Any]:
    response.set_cookie(
        COOKIE, session_id, httponly=True, samesite="lax", path="/",
        secure=runtime.settings.public_url.startswith("https://"),
        max_age=runtime.sessions.max_age_s,
    )
    return response


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class IdentityPages(Controller):
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/login", opt=PUBLIC)
    async def login_form(self, runtime: NamedDependency[Runtime], next: FromQuery[str | None] = None) -> Template:
        return Template("identity/login.html", context={
            "next": safe_next(next) if next else "", "providers": await oidc_login.providers_for_login(runtime)})

    @post("/login", opt=PUBLIC)
    async def login(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime],
                    data: Form) -> Response[Any]:
        login, password = str(data.get("login", "")), str(data.get("password", ""))
        try:
            result = await service.password_login(runtime, login, password, client_address(request))
        except service.IdentityError as exc:
            return Template("identity/login.html", status_code=exc.status_code,
                            context={"errors": exc.messages, "login": login, "next": data.get("next", "")})
        target = "/profile" if result.account.must_change_password else safe_next(str(data.get("next") or ""))
        return session_cookie_response(Redirect(target, status_code=303), runtime, result.session_id)

    @get("/login/oidc/{provider_id:int}", opt=PUBLIC)
    async def oidc_start(self, provider_id: FromPath[int], runtime: NamedDependency[Runtime],
                         next: FromQuery[str | None] = None) -> Response[Any]:
        try:
            url, token = await oidc_login.start(runtime, provider_id, safe_next(next))
        except oidc.OidcError as exc:
            log.warning("oidc start refused: %s", exc.reason)
            return Template("identity/login.html", status_code=400, context={"errors": [exc.message]})
        response = Redirect(url, status_code=303)
        _pending_cookie(response, runtime, token)
        return response

    @get(oidc_login.CALLBACK_PATH, opt=PUBLIC)
    async def oidc_callback(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
        try:
            account_id, external, id_token, target = await oidc_login.finish(
                runtime, request.cookies.get(oidc_login.PENDING_COOKIE), dict(request.query_params))
        except oidc.OidcError as exc:
            log.warning("oidc callback refused: %s", exc.reason)
            return Template("identity/login.html", status_code=400, context={"errors": [exc.message]})
        if account_id is None:
            response: Response[Any] = Redirect("/register", status_code=303)
            _pending_cookie(response, runtime, await oidc_login.remember_unlinked(runtime, external))
            return response
        extra = {"oidc_provider_id": external.provider_id, "id_token": id_token}
        sid = await runtime.sessions.create(account_id, extra)
        response = session_cookie_response(Redirect(safe_next(target), status_code=303), runtime, sid)
        response.delete_cookie(oidc_login.PENDING_COOKIE, path="/")
        return response

    @post("/logout", opt=SIGNED_IN)
    async def logout(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Redirect:
        await runtime.sessions.destroy(principal.session_id)
        target = await _provider_logout(runtime, principal) or "/login"
        response = Redirect(target, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @post("/logout/all", opt=SIGNED_IN)
    async def logout_everywhere(self, runtime: NamedDependency[Runtime],
                                principal: NamedDependency[Principal]) -> Redirect:
        await runtime.sessions.destroy_all(principal.account_id)
        response = Redirect("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @get("/schools", opt=SIGNED_IN)
    async def schools(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[Any]:
        async with runtime.db.platform_session() as session:
            rows = (await session.execute(
                select(School.slug, School.name, Membership.roles)
                .join(Membership, Membership.school_id == School.id)
                .where(Membership.account_id == principal.account_id, School.status == "active")
                .order_by(School.name)
            )).all()
        if len(rows) == 1:
            return Redirect(f"/s/{rows[0].slug}/", status_code=303)
        schools = [{"slug": r.slug, "name": r.name, "roles": ", ".join(SCHOOL_ROLES.get(x, x) for x in r.roles)}
                   for r in rows]
        return Template("identity/schools.html", context={"schools": schools, "login": principal.login})

    @get("/profile", opt=SIGNED_IN)
    async def profile(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Template:
        return Template("identity/profile.html", context={
            "login": principal.login, "must_change": principal.must_change_password,
            "zone": await _home_zone(runtime, principal.account_id)})

    @post("/profile/compromised", opt=SIGNED_IN)
    async def report_compromised(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                                 data: Form) -> Response[Any]:
        zone = await _home_zone(runtime, principal.account_id)
        try:
            since = datetime.fromisoformat(str(data.get("since", ""))).replace(tzinfo=ZoneInfo(zone))
            await compromise.mark_compromised(runtime, account_id=principal.account_id, since=since,
                                              actor_account_id=principal.account_id)
        except ValueError as exc:
            messages = exc.messages if isinstance(exc, service.IdentityError) else ["Укажите дату и время."]
            return Template("identity/profile.html", status_code=422, context={
                "login": principal.login, "zone": zone, "errors": messages})
        response = Redirect("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @post("/profile/password", opt=SIGNED_IN)
    async def change_password(self, runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                              data: Form) -> Response[Any]:
        current, new, repeat = (str(data.get(k, "")) for k in ("current", "new", "repeat"))
        context: dict[str, Any] = {"login": principal.login, "must_change": principal.must_change_password}
        if new != repeat:
            return Template("identity/profile.html", status_code=400,
                            context={**context, "errors": ["Новый пароль и повтор не совпадают."]})
        try:
            await service.change_password(runtime, principal.account_id, current, new)
        except service.IdentityError as exc:
            return Template("identity/profile.html", status_code=exc.status_code,
                            context={**context, "errors": exc.messages})
        fresh = await runtime.sessions.create(principal.account_id)
        page = Template("identity/profile.html", context={
            "login": principal.login, "done": "Пароль изменён. Остальные сеансы завершены."})
        return session_cookie_response(page, runtime, fresh)

    @get("/register", opt=PUBLIC)
    async def register_form(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Template:
        external = await oidc_login.unlinked(runtime, request.cookies.get(oidc_login.PENDING_COOKIE))
        return Template("identity/register.html", context={
            "signed_in": await _signed_in_login(request, runtime), "external": external})

    @post("/register", opt=PUBLIC)
    async def register(self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime],
                       data: Form) -> Response[Any]:
        signed_in = await _signed_in_account(request, runtime)
        pending = request.cookies.get(oidc_login.PENDING_COOKIE)
        external = None if signed_in else await oidc_login.unlinked(runtime, pending)
        try:
            account_id, _ = await service.register_with_invite(
                runtime, code=str(data.get("code", "")), login=str(data.get("login", "")),
                password=str(data.get("password", "")), signed_in_account=signed_in,
                external=(external.issuer, external.subject) if external else None,
            )
        except service.IdentityError as exc:
            return Template("identity/register.html", status_code=exc.status_code, context={
                "errors": exc.messages, "code": data.get("code", ""), "login": data.get("login", ""),
                "signed_in": await _signed_in_login(request, runtime), "external": external})
        response: Response[Any] = Redirect("/schools", status_code=303)
        if signed_in is None:
            response = session_cookie_response(response, runtime, await runtime.sessions.create(account_id))
        if external is not None:
            await oidc_login.forget(runtime, pending)
            response.delete_cookie(oidc_login.PENDING_COOKIE, path="/")
        return response


def _pending_cookie(response: Response[Any], runtime: Runtime, token: str) -> None:
    response.set_cookie(oidc_login.PENDING_COOKIE, token, httponly=True, samesite="lax", path="/",
                        max_age=oidc_login.PENDING_TTL_S,
                        secure=runtime.settings.public_url.startswith("https://"))


async def _provider_logout(runtime: Runtime, principal: Principal) -> str | None:
    """Where to send the browser to end the provider's session too, after an OpenID Connect login."""
    extra = principal.session.extra
    if "oidc_provider_id" not in extra:
        return None
    async with runtime.db.platform_session() as session:
        provider = await session.get(OidcProvider, extra["oidc_provider_id"])
    if provider is None:
        return None
    try:
        return await oidc.logout_url(provider, extra.get("id_token"), runtime.settings.public_url.rstrip("/")
                                     + "/login", allowed_hosts=runtime.settings.residency.allowed_hosts)
    except oidc.OidcError as exc:
        log.warning("oidc logout skipped: %s", exc.reason)
        return None


async def _home_zone(runtime: Runtime, account_id: int) -> str:
    """The time zone a person means when typing a time: their (first) school's, else the deployment's default."""
    async with runtime.db.platform_session() as session:
        zone = await session.scalar(select(School.time_zone).join(Membership, Membership.school_id == School.id)
                                    .where(Membership.account_id == account_id).order_by(School.id).limit(1))
    return zone or runtime.settings.default_time_zone


async def _signed_in_account(request: Request[Any, Any, Any], runtime: Runtime) -> int | None:
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    data = await runtime.sessions.load(sid, idle_s=runtime.settings.security.session_idle_minutes * 60)
    return data.account_id if data else None


async def _signed_in_login(request: Request[Any, Any, Any], runtime: Runtime) -> str | None:
    account_id = await _signed_in_account(request, runtime)
    if account_id is None:
        return None
    async with runtime.db.platform_session() as session:
        account = await session.get(Account, account_id)
    return account.login if account else None


class RolePages(Controller):
    """The school administrator's matrix of roles × permissions (R-ROLE-3)."""

    path = "/s/{school_slug:str}/admin/roles"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=needs("roles.manage"))
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[Any]) -> Template:
        return await _roles_page(session, school)

    @post("/", opt=needs("roles.manage"))
    async def save(self, school: NamedDependency[SchoolRecord], session: NamedDependency[Any],
                   principal: NamedDependency[Principal], data: Form) -> Template:
        raw = data.get("grant", [])
        grants = {tuple(g.split(":", 1)) for g in ([raw] if isinstance(raw, str) else raw) if ":" in g}
        problems = [p for role, perm in sorted(grants) for p in
                    (permission_edit_problems(role, perm) if role in SCHOOL_ROLES else [f"Неизвестная роль: {role}."])]
        if problems:
            return await _roles_page(session, school, errors=sorted(set(problems)), status_code=400)
        before = {(r.role, r.permission) for r in (await session.execute(select(RolePermission))).scalars()}
        await audit.delete_rows(session, RolePermission)
        await audit.insert_rows(session, RolePermission, [{"role": r, "permission": p} for r, p in grants])
        session.add(PlatformAudit(
            actor=f"account:{principal.account_id}", action="roles.changed", school_id=school.id,
            detail={"added": sorted(":".join(g) for g in grants - before),
                    "removed": sorted(":".join(g) for g in before - grants)},
        ))
        return await _roles_page(session, school, done="Права сохранены.")


async def _roles_page(session: Any, school: SchoolRecord, status_code: int = 200, **context: Any) -> Template:
    granted = {(r.role, r.permission) for r in (await session.execute(select(RolePermission))).scalars()}
    forbidden = {(role, perm) for role in FAMILY_ROLES for perm in STAFF_ONLY}
    return Template("identity/roles.html", status_code=status_code, context={
        "school": school, "roles": SCHOOL_ROLES, "permissions": PERMISSIONS, "granted": granted,
        "forbidden": forbidden, **context})
