"""A person logs in, in Chromium: once with a password, once through the region's OpenID provider."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from services.config import Settings
from services.db import Database
from services.identity.models import Account, Membership, OidcProvider
from services.identity.passwords import hash_password
from tests.conftest import MakeSchool
from tests.oidc.harness import ensure_node, start_provider


async def test_a_teacher_logs_in_with_a_password(
    db: Database, server_url: str, make_school: MakeSchool, browser: Any
) -> None:
    school = await make_school(name="МБОУ СОШ № 12")
    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login="ivanova.teacher", password_hash=await hash_password("Учитель-2026-пароль"),
            platform_roles=[]).returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=school.id,
                                                        roles=["teacher"]))
    context = await browser.new_context(base_url=server_url, locale="ru-RU")
    page = await context.new_page()
    await page.goto(f"/s/{school.slug}/")
    assert "/login" in page.url, "a school page sends a stranger to the login page"
    await page.get_by_label("Логин").fill("ivanova.teacher")
    await page.get_by_label("Пароль").fill("неверный-пароль-1")
    await page.get_by_role("button", name="Войти").click()
    assert "Неверный логин или пароль" in await page.inner_text("[role=alert]")

    await page.get_by_label("Пароль").fill("Учитель-2026-пароль")
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(f"**/s/{school.slug}**")
    assert "МБОУ СОШ № 12" in await page.inner_text("h1")
    await context.close()


async def test_a_parent_logs_in_through_the_regional_provider(
    db: Database, settings: Settings, server_url: str, make_school: MakeSchool, browser: Any
) -> None:
    school = await make_school(name="Гимназия № 3")
    ensure_node()
    provider = start_provider(redirect_uri=f"{settings.public_url}/login/oidc/callback",
                              post_logout_redirect_uri=f"{settings.public_url}/login")
    try:
        async with db.transaction() as session:
            session.add(OidcProvider(school_id=school.id, name="Вход для жителей области", issuer=provider.issuer,
                                     client_id=provider.client_id, client_secret=provider.client_secret))
        context = await browser.new_context(base_url=server_url, locale="ru-RU")
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_role("link", name="Войти через Вход для жителей области").click()
        # The provider's own pages: sign in, then allow the journal to know who this is.
        await page.fill('input[name="login"]', "parent-smirnova")
        await page.fill('input[name="password"]', "пароль-у-провайдера")
        await page.click('button[type="submit"]')
        if await page.locator('button[type="submit"]').count():
            await page.click('button[type="submit"]')
        await page.wait_for_url("**/register")
        assert "Вы вошли через внешний сервис" in await page.content()
        await page.get_by_label("Пригласительный код").fill(school.admin_invite_code)
        await page.get_by_role("button", name="Продолжить").click()
        await page.wait_for_url(f"**/s/{school.slug}**")
        assert "Гимназия № 3" in await page.inner_text("h1")
        await context.close()
    finally:
        provider.stop()
