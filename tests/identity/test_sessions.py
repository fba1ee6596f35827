"""Sessions, password logins and their protection (R-SEC-1, R-SEC-4)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from services.db import Database
from services.identity.models import Account, PlatformAudit
from services.identity.sessions import COOKIE, SessionStore, _digest
from services.identity.throttle import LOCK_PAIR_AFTER, SLOW_LOGIN_AFTER, LoginThrottle
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn, _csrf_header


def store(app: Litestar) -> SessionStore:
    sessions: SessionStore = app.state.runtime.sessions
    return sessions


async def age_session(app: Litestar, http: httpx.AsyncClient, *, idle_s: float = 0, age_s: float = 0) -> None:
    """Move the session's clock back, as if time had passed."""
    key = f"{app.state.runtime.settings.redis.namespace}:session:{_digest(http.cookies[COOKIE])}"
    redis = app.state.runtime.redis
    data = json.loads(await redis.get(key))
    data["last_seen"] -= idle_s
    data["created_at"] -= age_s
    await redis.set(key, json.dumps(data), keepttl=True)


async def test_login_sets_a_safe_cookie_and_me_answers(make_school: MakeSchool, sign_in: SignIn,
                                                       server_url: str) -> None:
    school = await make_school()
    member = await sign_in({school: ["teacher"]})
    me = await member.get("/api/v1/me")
    assert me.status_code == 200
    assert [s["school"] for s in me.json()["schools"]] == [school.slug]

    async with httpx.AsyncClient(base_url=server_url, event_hooks={"request": [_csrf_header]}) as fresh:
        await fresh.get("/login")
        response = await fresh.post("/login", data={"login": member.headers["x-test-login"],
                                                    "password": TEST_PASSWORD})
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie


async def test_an_idle_session_ends_and_the_school_can_shorten_it(
    app: Litestar, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    assert (await admin.put(f"/api/v1/schools/{school.slug}/settings/session",
                            json={"idle_minutes": 10})).json() == {"idle_minutes": 10}
    bad = await admin.put(f"/api/v1/schools/{school.slug}/settings/session", json={"idle_minutes": 100000})
    assert bad.status_code == 422
    assert "минут" in bad.json()["detail"]

    member = await sign_in({school: ["teacher"]})
    await age_session(app, member, idle_s=15 * 60)
    # Fifteen idle minutes: within the deployment's default 30, past the school's 10.
    assert (await member.get("/api/v1/me")).status_code == 200
    await age_session(app, member, idle_s=15 * 60)
    assert (await member.get(f"/api/v1/schools/{school.slug}/classes")).status_code == 401
    assert (await member.get("/api/v1/me")).status_code == 401, "the ended session is gone everywhere"

    other = await sign_in({school: ["teacher"]})
    await age_session(app, other, idle_s=31 * 60)
    page = await other.get("/profile", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


async def test_a_session_ends_after_its_lifetime_however_busy(app: Litestar, sign_in: SignIn) -> None:
    member = await sign_in()
    lifetime = store(app).max_age_s
    await age_session(app, member, age_s=lifetime + 1)
    assert (await member.get("/api/v1/me")).status_code == 401


async def test_log_out_on_all_devices(sign_in: SignIn, server_url: str) -> None:
    laptop = await sign_in()
    async with httpx.AsyncClient(base_url=server_url, event_hooks={"request": [_csrf_header]}) as phone:
        await phone.get("/login")
        await phone.post("/login", data={"login": laptop.headers["x-test-login"], "password": TEST_PASSWORD})
        assert (await phone.get("/api/v1/me")).status_code == 200
        assert (await laptop.post("/api/v1/auth/logout-all")).status_code == 204
        assert (await phone.get("/api/v1/me")).status_code == 401
    assert (await laptop.get("/api/v1/me")).status_code == 401


async def test_a_form_post_without_the_csrf_token_is_refused(sign_in: SignIn, server_url: str) -> None:
    member = await sign_in()
    async with httpx.AsyncClient(base_url=server_url, cookies=member.cookies) as forged:
        response = await forged.post("/logout/all")
    assert response.status_code == 403
    assert (await member.get("/api/v1/me")).status_code == 200, "the forged request changed nothing"


async def test_wrong_passwords_lock_that_login_from_that_address_for_a_while(
    app: Litestar, db: Database, sign_in: SignIn, server_url: str
) -> None:
    member = await sign_in()
    login = member.headers["x-test-login"]
    async with httpx.AsyncClient(base_url=server_url, event_hooks={"request": [_csrf_header]}) as attacker:
        await attacker.get("/login")
        for _ in range(LOCK_PAIR_AFTER):
            wrong = await attacker.post("/login", data={"login": login, "password": "не-тот-пароль-1"})
            assert wrong.status_code == 401
            assert "Неверный логин или пароль" in wrong.text
        locked = await attacker.post("/login", data={"login": login, "password": TEST_PASSWORD})
        assert locked.status_code == 429
        assert "Повторите через" in locked.text

        # The lock expires: shorten it as time would.
        redis, ns = app.state.runtime.redis, app.state.runtime.settings.redis.namespace
        for key in [k async for k in redis.scan_iter(f"{ns}:login-fail:pair:*")]:
            await redis.expire(key, 1)
        time.sleep(1.1)
        assert (await attacker.post("/login", data={"login": login, "password": TEST_PASSWORD})).status_code == 303

    async with db.platform_session() as session:
        account_id = await session.scalar(select(Account.id).where(Account.login == login))
        failed = (await session.execute(select(PlatformAudit).where(PlatformAudit.action == "login.failed"))).scalars()
        assert any(a.detail.get("account_id") == account_id for a in failed), "failed logins are in the audit"


@pytest.mark.parametrize("address_count", [SLOW_LOGIN_AFTER + 2])
async def test_many_addresses_slow_a_login_down_but_never_lock_its_owner_out(app: Litestar, address_count: int) -> None:
    throttle = LoginThrottle(app.state.runtime.redis, f"throttle-test-{time.monotonic_ns()}")
    for n in range(address_count):
        await throttle.failed("teacher.ivanova", f"10.0.0.{n}")
    assert await throttle.delay_for("teacher.ivanova") > 0
    assert await throttle.locked_for("teacher.ivanova", "192.0.2.7") == 0, "the teacher's own address is not locked"
