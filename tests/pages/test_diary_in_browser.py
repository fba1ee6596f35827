"""The diary in Chromium (the issue's acceptance test, R-DRY-1…2): a parent's diary is open in one browser; the
teacher saves a mark in another; the parent's page shows it within 2 seconds without a reload. And on a 360-px
phone screen the week and the subjects fit without horizontal scrolling."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import insert

from services.db import Database
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from tests.conftest import MakeSchool
from tests.journal.conftest import JournalSchool, build_journal_school

PASSWORD = "Дневник-2026-пароль"


@pytest.fixture
async def journal(db: Database, make_school: MakeSchool) -> JournalSchool:
    return await build_journal_school(db, make_school)


async def account(db: Database, journal: JournalSchool, role: str, person_id: int) -> str:
    login = f"{role}-{uuid.uuid4().hex[:8]}"
    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login=login, password_hash=await hash_password(PASSWORD), platform_roles=[]).returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=journal.school.id,
                                                        roles=[role], person_id=person_id))
    return login


async def logged_in(browser: Any, server_url: str, login: str, target: str, **options: Any) -> tuple[Any, Any]:
    context = await browser.new_context(base_url=server_url, locale="ru-RU", **options)
    page = await context.new_page()
    await page.goto(target)
    await page.get_by_label("Логин").fill(login)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(lambda url: "/login" not in url)
    if page.url.removeprefix(server_url) != target:  # the login page keeps the path, not the query
        await page.goto(target)
    return context, page


async def test_a_mark_the_teacher_saves_appears_in_the_open_diary_at_once(
    db: Database, server_url: str, journal: JournalSchool, browser: Any
) -> None:
    child, lesson = journal.students[0], journal.lessons["today"]
    parent_login = await account(db, journal, "parent", journal.parent)
    teacher_login = await account(db, journal, "teacher", journal.teacher)
    diary = f"/s/{journal.slug}/diary/{child}/?week={journal.today.isoformat()}"
    parent_context, parent = await logged_in(browser, server_url, parent_login, diary)
    marks = parent.locator(f"#lesson-{lesson} .mark")
    await expect(parent.get_by_role("heading", name="Дневник: Алексеев У")).to_be_visible()
    await expect(marks).to_have_count(0)

    teacher_context, teacher = await logged_in(browser, server_url, teacher_login, f"/s/{journal.slug}/journal")
    csrf = next(c["value"] for c in await teacher_context.cookies() if c["name"] == "csrftoken")
    url = f"/api/v1/schools/{journal.slug}/journal/lessons/{lesson}/cells/{child}"
    await parent.evaluate("window.__untouched = true")  # gone if the page reloads

    started = time.monotonic()
    saved = await teacher.request.put(url, data={"text": "5"}, headers={"x-csrftoken": csrf})
    assert saved.status == 200, await saved.text()
    await expect(marks).to_have_text("5", timeout=2000)
    delay = time.monotonic() - started
    print(f"\nthe mark appeared in the open diary {delay * 1000:.0f} ms after the teacher's save began")
    assert delay < 2.0
    assert await parent.evaluate("window.__untouched === true"), "the diary page was reloaded"
    await expect(parent.locator(f"#lesson-{lesson}")).to_contain_text("Устный ответ, вес 1")

    # A correction shows just as quickly.
    started = time.monotonic()
    saved = await teacher.request.put(url, data={"text": "4"}, headers={"x-csrftoken": csrf})
    assert saved.status == 200, await saved.text()
    await expect(marks).to_have_text("4", timeout=2000)
    print(f"a corrected mark appeared {(time.monotonic() - started) * 1000:.0f} ms after the save began")

    # Previous and next weeks are links; the subjects tab shows the forecast, labelled as such.
    await parent.get_by_role("link", name="Следующая →").click()
    await parent.wait_for_url("**week=**")
    await expect(marks).to_have_count(0)
    await parent.get_by_role("link", name="Предметы и итоги").click()
    maths = parent.locator("section[aria-label='Математика']")
    await expect(maths.locator(".forecast")).to_contain_text("(прогноз)")
    await teacher_context.close()
    await parent_context.close()


async def test_the_diary_fits_a_phone_screen(db: Database, server_url: str, journal: JournalSchool,
                                             browser: Any) -> None:
    child, lesson = journal.students[0], journal.lessons["today"]
    parent_login = await account(db, journal, "parent", journal.parent)
    teacher_login = await account(db, journal, "teacher", journal.teacher)
    teacher_context, teacher = await logged_in(browser, server_url, teacher_login, f"/s/{journal.slug}/journal")
    csrf = next(c["value"] for c in await teacher_context.cookies() if c["name"] == "csrftoken")
    api = f"/api/v1/schools/{journal.slug}/journal/lessons/{lesson}"
    answer = await teacher.request.put(api, headers={"x-csrftoken": csrf}, data={
        "topic": "Сложение и вычитание обыкновенных дробей с разными знаменателями",
        "homework": "№ 245, 247; https://example.org/очень-длинная-ссылка-на-учебник-без-пробелов-и-переносов"})
    assert answer.status == 200, await answer.text()
    answer = await teacher.request.put(f"{api}/cells/{child}", data={"text": "5"}, headers={"x-csrftoken": csrf})
    assert answer.status == 200, await answer.text()
    await teacher_context.close()

    diary = f"/s/{journal.slug}/diary/{child}/?week={journal.today.isoformat()}"
    context, page = await logged_in(browser, server_url, parent_login, diary,
                                    viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    for target in (diary, f"/s/{journal.slug}/diary/{child}/subjects", "/diary"):
        await page.goto(target)
        await page.wait_for_load_state("networkidle")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{target} scrolls sideways on a phone: {width}px"
    # The days are stacked: one card under another, each as wide as the screen allows.
    await page.goto(diary)
    boxes = [await card.bounding_box() for card in await page.locator("section.day").all()]
    assert len(boxes) == (7 if journal.today.weekday() == 6 else 6)  # a Sunday shows when it has a lesson
    assert all(b is not None and b["x"] + b["width"] <= 360 for b in boxes)
    assert all(b is not None and a is not None and b["y"] > a["y"] for a, b in itertools.pairwise(boxes))
    await expect(page.locator(f"#lesson-{lesson} .mark")).to_have_text("5")
    await context.close()
