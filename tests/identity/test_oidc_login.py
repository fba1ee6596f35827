"""Logging in to the journal through a real OpenID provider (node's oidc-provider): first login links by
invite code, later logins go straight in, logout ends the provider's session too (R-PLT-3)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from services.config import Settings
from services.db import Database
from services.identity.models import OidcLink, OidcProvider
from tests.conftest import MakeSchool, _csrf_header
from tests.oidc.harness import RunningProvider, ensure_node, log_in, start_provider


@pytest.fixture(scope="module")
def provider(settings: Settings) -> Iterator[RunningProvider]:
    ensure_node()
    running = start_provider(redirect_uri=f"{settings.public_url}/login/oidc/callback",
                             post_logout_redirect_uri=f"{settings.public_url}/login")
    try:
        yield running
    finally:
        running.stop()


async def register_provider(db: Database, provider: RunningProvider, school_id: int) -> int:
    async with db.transaction() as session:
        row = OidcProvider(school_id=school_id, name="Региональный вход", issuer=provider.issuer,
                           client_id=provider.client_id, client_secret=provider.client_secret)
        session.add(row)
        await session.flush()
        return row.id


def browser(server_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server_url, follow_redirects=False, event_hooks={"request": [_csrf_header]})


async def through_provider(http: httpx.AsyncClient, provider_id: int, callback: str, user: str) -> httpx.Response:
    """Press «Войти через …», sign in at the provider, come back: the journal's answer to the callback."""
    start = await http.get(f"/login/oidc/{provider_id}", params={"next": "/schools"})
    assert start.status_code == 303, start.text
    params = await log_in(http, start.headers["location"], callback, user)
    return await http.get("/login/oidc/callback", params=params)


async def test_first_login_links_by_invite_code_then_goes_straight_in(
    db: Database, settings: Settings, server_url: str, make_school: MakeSchool, provider: RunningProvider
) -> None:
    school = await make_school(name="Лицей № 5")
    provider_id = await register_provider(db, provider, school.id)
    callback = f"{settings.public_url}/login/oidc/callback"

    async with browser(server_url) as http:
        login_page = await http.get("/login")
        assert "Войти через Региональный вход" in login_page.text
        first = await through_provider(http, provider_id, callback, "petrova")
        assert (first.status_code, first.headers["location"]) == (303, "/register")
        page = await http.get("/register")
        assert "Вы вошли через внешний сервис" in page.text
        done = await http.post("/register", data={"code": school.admin_invite_code})
        assert done.status_code == 303, done.text
        me = (await http.get("/api/v1/me")).json()
        assert [s["school"] for s in me["schools"]] == [school.slug]
    async with db.platform_session() as session:
        link = (await session.execute(select(OidcLink).where(OidcLink.subject == "petrova"))).scalar_one()
        assert link.issuer == provider.issuer

    async with browser(server_url) as again:
        second = await through_provider(again, provider_id, callback, "petrova")
        assert (second.status_code, second.headers["location"]) == (303, "/schools")
        assert (await again.get("/api/v1/me")).json()["account_id"] == link.account_id
        await again.get("/login")
        out = await again.post("/logout")
        assert out.status_code == 303
        assert urlsplit(out.headers["location"]).netloc == urlsplit(provider.issuer).netloc, "provider logout too"
        assert (await again.get("/api/v1/me")).status_code == 401


async def test_a_forged_or_replayed_callback_is_refused(
    db: Database, settings: Settings, server_url: str, make_school: MakeSchool, provider: RunningProvider
) -> None:
    school = await make_school()
    provider_id = await register_provider(db, provider, school.id)
    callback = f"{settings.public_url}/login/oidc/callback"
    async with browser(server_url) as http:
        start = await http.get(f"/login/oidc/{provider_id}")
        params = await log_in(http, start.headers["location"], callback, "sidorov")
        forged = await http.get("/login/oidc/callback", params={**params, "state": "x" + params["state"]})
        assert forged.status_code == 400
        assert "Вход через внешний сервис не удался" in forged.text
        replay = await http.get("/login/oidc/callback", params=params)
        assert replay.status_code == 400, "the pending login was used up by the first callback"
        assert (await http.get("/api/v1/me")).status_code == 401
