"""Acceptance, in Chromium: a deputy head sees the history of a corrected mark (R-JRN-6, R-SEC-2). A mark entered
on an earlier day is corrected by its teacher through the API, which insists on a reason; the deputy head logs in
through the login page and reads who changed what, from which value to which, and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from services.db import Database
from services.grading.models import WorkKind
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from services.journal.models import Mark
from tests.conftest import MakeSchool, SignIn, school_writes
from tests.journal.conftest import build_journal_school

PASSWORD = "Завуч-журнал-2026"


async def test_a_deputy_head_sees_the_history_of_a_corrected_mark(
    db: Database, server_url: str, make_school: MakeSchool, sign_in: SignIn, browser: Any
) -> None:
    journal = await build_journal_school(db, make_school)
    teacher = await sign_in({journal.school: ["teacher"]}, person_ids={journal.school: journal.teacher})
    lesson, student = journal.lessons["yesterday"], journal.students[0]
    async with school_writes(db, journal.school.schema) as s:
        oral = await s.scalar(select(WorkKind.id).where(WorkKind.name == "Устный ответ"))
        assert oral is not None
        s.add(Mark(lesson_id=lesson, student_id=student, work_kind_id=oral, value="5",
                   created_at=datetime.now(ZoneInfo("Europe/Moscow")) - timedelta(days=1)))

    cell = journal.api(f"/lessons/{lesson}/cells/{student}")
    silent = await teacher.put(cell, json={"text": "4"})
    assert silent.status_code == 422, silent.text
    assert silent.json()["type"] == "/problems/journal-reason-required"
    corrected = await teacher.put(cell, json={"text": "4", "reason": "Ошибка при вводе"})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["text"] == "4"

    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login="zavuch-history", password_hash=await hash_password(PASSWORD), platform_roles=[])
            .returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=journal.school.id,
                                                        roles=["deputy_head"], person_id=journal.deputy))

    context = await browser.new_context(base_url=server_url, locale="ru-RU")
    page = await context.new_page()
    history = f"/s/{journal.slug}/journal-control/lessons/{lesson}/students/{student}/history"
    await page.goto(history)  # not signed in yet: the login page, then back here
    await page.get_by_label("Логин").fill("zavuch-history")
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(f"**{history}")

    heading = await page.inner_text("h1")
    assert "Алексеев У" in heading
    subtitle = await page.inner_text("main p")
    assert "Математика" in subtitle
    assert "5А" in subtitle
    assert (journal.today - timedelta(days=1)).strftime("%d.%m.%Y") in subtitle

    row = page.locator('table[aria-label="История изменений"] tbody tr').filter(has_text="Ошибка при вводе")
    assert await row.count() == 1
    cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
    when, who, what, was, now, reason = cells[:6]
    assert who == "Иванова Т"  # the teacher's staff name
    assert (what, was, now, reason) == ("отметка", "5", "4", "Ошибка при вводе")
    assert datetime.strptime(when, "%d.%m.%Y %H:%M").date() == journal.today
    await context.close()
