"""The route table, walked: every endpoint declares a policy, and no role reaches what its permissions don't
allow (R-ROLE-1…4, R-SEC-1). New routes are covered without writing a test for them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
from litestar import Litestar

from services import audit
from services.db import Database
from services.identity.models import RolePermission
from services.identity.permissions import DEFAULT_ROLE_PERMISSIONS, FAMILY_ROLES, SCHOOL_ROLES, STAFF_ONLY
from services.identity.policy import OPENAPI_PATH, route_permissions
from tests.conftest import MakeSchool, SignIn, school_writes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def routes(app: Litestar) -> Iterator[tuple[str, str, dict[str, object]]]:
    """(method, path template, opt) of every endpoint the app serves."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ()) or ()):
                if method in ("HEAD", "OPTIONS"):
                    continue
                yield method, route.path, handler.opt


def concrete(path: str, slug: str) -> str:
    path = path.replace("{school_slug:str}", slug)
    path = re.sub(r"\{[a-z_]+:int\}", "1", path)
    return re.sub(r"\{[a-z_]+:str\}", "teacher", path)


def test_every_route_declares_a_policy(app: Litestar) -> None:
    missing = [f"{method} {path}" for method, path, opt in routes(app)
               if opt.get("policy") not in ("public", "signed_in", "school") and not path.startswith(OPENAPI_PATH)]
    assert missing == [], "routes without a policy (declare opt=PUBLIC, SIGNED_IN or needs(...))"
    misplaced = [path for _, path, opt in routes(app) if opt.get("policy") == "school" and "{school_slug" not in path]
    assert misplaced == [], "a school permission on a route that names no school"


async def reached(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    """The answer's status and headers, its body only when refused: an event stream (an open diary's) never ends."""
    async with client.stream(method, url, json={}, follow_redirects=False) as response:
        if response.status_code >= 300:
            await response.aread()
        return response


async def test_no_role_reaches_a_route_its_permissions_do_not_allow(
    app: Litestar, make_school: MakeSchool, sign_in: SignIn, client: httpx.AsyncClient
) -> None:
    school = await make_school()
    school_routes = [(m, p, opt) for m, p, opt in routes(app) if opt.get("policy") == "school"]
    assert len(school_routes) >= 5
    for role in SCHOOL_ROLES:
        member = await sign_in({school: [role]})
        held = set(DEFAULT_ROLE_PERMISSIONS[role])
        for method, path, opt in school_routes:
            allowed = bool(set(route_permissions(opt)) & held)
            if allowed and method in UNSAFE:
                continue  # an allowed write with an empty body would only test validation, and could change data
            response = await reached(member, method, concrete(path, school.slug))
            scoped = response.status_code == 403 and response.json().get("type") == "/problems/out-of-scope"
            if allowed:
                # Out of scope is the record's rule (whose child), not the route's: the route was reached.
                assert response.status_code != 403 or scoped, f"{role} refused {method} {path}: {response.text}"
            else:
                assert response.status_code == 403, f"{role} reached {method} {path}: {response.status_code}"
                assert not scoped, f"{role} passed the policy of {method} {path}"

    for method, path, opt in routes(app):
        if opt.get("policy") in ("school", "signed_in"):
            response = await reached(client, method, concrete(path, school.slug))
            assert response.status_code in (401, 303, 403), f"anonymous reached {method} {path}"
            if response.status_code == 403:  # the CSRF check refuses an anonymous unsafe request first
                assert method in UNSAFE


async def test_students_and_parents_never_write_even_when_a_school_grants_it(
    app: Litestar, db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        await audit.insert_rows(session, RolePermission, [
            {"role": role, "permission": permission} for role in FAMILY_ROLES for permission in STAFF_ONLY])
    # Families write their own mail, survey answers and the like; nothing that needs a staff permission.
    writes = [(m, p) for m, p, opt in routes(app) if opt.get("policy") == "school" and m in UNSAFE
              and set(route_permissions(opt)) <= STAFF_ONLY]
    assert writes, "there are write endpoints to check"
    for role in sorted(FAMILY_ROLES):
        member = await sign_in({school: [role]})
        for method, path in writes:
            response = await member.request(method, concrete(path, school.slug), json={})
            assert response.status_code == 403, f"{role} reached {method} {path}: {response.status_code}"
