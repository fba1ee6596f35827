"""A teacher keeps the journal of a lesson in Chromium (the issue's acceptance test): my day, the lesson
(attendance, topic, homework, a file), then the grid typed from the keyboard like a spreadsheet; a wrong mark is
refused in the cell and saved nowhere; the marks are in the database with the teacher as author and the file
downloads with its bytes."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect
from sqlalchemy import insert, select

from services.db import Database
from services.files.storage import FileStorage
from services.grading.models import WorkKind
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from services.journal.models import Attendance, HomeworkFile, LessonRecord, Mark
from tests.conftest import MakeSchool, school_writes
from tests.journal.conftest import JournalSchool, build_journal_school

PASSWORD = "Учитель-2026-пароль"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def teacher_account(db: Database, journal: JournalSchool) -> str:
    login = f"uchitel-{uuid.uuid4().hex[:8]}"
    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login=login, password_hash=await hash_password(PASSWORD), platform_roles=[]).returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=journal.school.id,
                                                        roles=["teacher"], person_id=journal.teacher))
    return login


@pytest.fixture
async def journal(db: Database, make_school: MakeSchool) -> JournalSchool:
    return await build_journal_school(db, make_school)


async def sign_in_browser(browser: Any, server_url: str, journal: JournalSchool, login: str) -> tuple[Any, Any]:
    context = await browser.new_context(base_url=server_url, locale="ru-RU")
    page = await context.new_page()
    await page.goto(f"/s/{journal.slug}/journal")
    await page.get_by_label("Логин").fill(login)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(f"**/s/{journal.slug}/**")
    return context, page


def cell(page: Any, lesson: int, student: int) -> Any:
    return page.locator(f'input.cell[data-lesson="{lesson}"][data-student="{student}"]')


async def test_a_teacher_keeps_the_journal_of_a_lesson_in_the_browser(
    db: Database, server_url: str, journal: JournalSchool, browser: Any, storage: FileStorage
) -> None:
    login = await teacher_account(db, journal)
    today, yesterday = journal.lessons["today"], journal.lessons["yesterday"]
    present, ill = journal.students[0], journal.students[1]  # students[2] left 10 days ago
    base = f"/s/{journal.slug}"
    context, page = await sign_in_browser(browser, server_url, journal, login)
    if not page.url.rstrip("/").endswith("/journal"):
        await page.goto(f"{base}/journal")

    # 1. My day: today's maths in 5А, not yet kept.
    row = page.locator(f"#lesson-{today}")
    await expect(row).to_contain_text("Математика")
    await expect(row).to_contain_text("5А")
    await expect(row).to_contain_text("08:00–08:45")
    await expect(page.locator(f"#lesson-{journal.lessons['russian_today']}")).to_have_count(0)  # not hers
    await row.get_by_role("link", name="Открыть урок").click()
    await page.wait_for_url(f"**/journal/lessons/{today}")

    # 2. The lesson: attendance with one student ill, the topic and homework, a homework file.
    await page.get_by_label("Посещаемость: Борисова У").select_option(label="отсутствовал: болезнь")
    await page.get_by_role("button", name="Сохранить посещаемость").click()
    await expect(page.get_by_role("status")).to_have_text("Посещаемость сохранена.")
    await page.get_by_label("Тема урока").fill("Сложение дробей")
    await page.get_by_label("Домашнее задание").fill("№ 112, 115")
    await page.get_by_role("button", name="Сохранить тему и задание").click()
    await expect(page.get_by_role("status")).to_have_text("Тема и задание сохранены.")
    await expect(page.get_by_label("Тема урока")).to_have_value("Сложение дробей")
    await page.set_input_files('input[name="file"]', files=[
        {"name": "задание.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    await page.get_by_role("button", name="Приложить файл").click()
    await expect(page.get_by_role("status")).to_have_text("Файл приложен к заданию.")
    link = page.get_by_role("link", name="задание.pdf")
    await expect(link).to_be_visible()
    file_url = await link.get_attribute("href")

    # 3. The grid, typed from the keyboard.
    await page.get_by_role("link", name="Журнал 5А").click()
    await page.wait_for_url(f"**/journal/loads/{journal.maths}")
    grid_url = page.url
    if await cell(page, yesterday, present).count() == 0:  # today opens a period: show the last days instead
        grid_url = f"{base}/journal/loads/{journal.maths}?start={(journal.today - timedelta(days=3)).isoformat()}"
        await page.goto(grid_url)
    await expect(cell(page, today, ill)).to_have_value("б")
    await expect(cell(page, journal.lessons["tomorrow"], present)).to_have_count(0)  # not held yet: no input

    await cell(page, today, present).click()
    await page.keyboard.type("5")
    await page.keyboard.press("ArrowLeft")  # → yesterday, same student
    await expect(cell(page, yesterday, present)).to_be_focused()
    await page.keyboard.type("4")
    await page.keyboard.press("ArrowDown")  # → yesterday, the next student
    await expect(cell(page, yesterday, ill)).to_be_focused()
    await page.keyboard.type("2/5")
    await page.keyboard.press("Enter")
    for lesson, student, text in ((today, present, "5"), (yesterday, present, "4"), (yesterday, ill, "2/5")):
        await expect(cell(page, lesson, student)).to_have_attribute("data-saved", text)

    # A mark outside the grading system: refused in the cell, in Russian, focus kept, nothing saved.
    wrong = cell(page, today, ill)
    await wrong.click()
    await page.keyboard.type("7")
    await page.keyboard.press("Tab")
    message = page.locator("#grid-message")
    await expect(message).to_be_visible()
    await expect(message).to_contain_text("«7» — не отметка")
    await expect(wrong).to_have_class(re.compile(r"\bbad\b"))
    assert "«7»" in (await wrong.get_attribute("title") or "")
    await expect(wrong).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(wrong).to_have_value("б")
    await expect(message).to_be_hidden()

    await page.goto(grid_url)
    await expect(cell(page, today, present)).to_have_value("5")
    await expect(cell(page, yesterday, present)).to_have_value("4")
    await expect(cell(page, yesterday, ill)).to_have_value("2/5")
    await expect(cell(page, today, ill)).to_have_value("б")
    await expect(page.get_by_role("table", name="Темы и задания")).to_contain_text("Сложение дробей")

    # The file downloads with the teacher's session, byte for byte.
    assert file_url is not None
    response = await page.request.get(file_url)
    assert response.status == 200
    assert await response.body() == PDF
    await context.close()

    async with db.transaction(journal.school.schema) as session:
        marks = (await session.execute(select(Mark.lesson_id, Mark.student_id, Mark.value, Mark.author_id)
                                       .order_by(Mark.id))).all()
        author = journal.teacher
        assert sorted(marks) == sorted([(today, present, "5", author), (yesterday, present, "4", author),
                                        (yesterday, ill, "2", author), (yesterday, ill, "5", author)])
        absences = (await session.execute(select(Attendance.lesson_id, Attendance.student_id, Attendance.status,
                                                 Attendance.reason))).all()
        assert absences == [(today, ill, "absent", "illness")]
        record = await session.get(LessonRecord, today)
        assert record is not None
        assert (record.topic, record.homework, record.attendance_taken) == ("Сложение дробей", "№ 112, 115", True)
        stored = (await session.execute(select(HomeworkFile.filename, HomeworkFile.size))).all()
        assert stored == [("задание.pdf", len(PDF))]


async def test_correcting_an_earlier_days_mark_in_the_grid_asks_for_the_reason(
    db: Database, server_url: str, journal: JournalSchool, browser: Any
) -> None:
    login = await teacher_account(db, journal)
    yesterday, student = journal.lessons["yesterday"], journal.students[0]
    async with school_writes(db, journal.school.schema) as session:
        kind = await session.scalar(select(WorkKind.id).where(WorkKind.active).limit(1))
        session.add(Mark(lesson_id=yesterday, student_id=student, work_kind_id=kind, value="3",
                         author_id=journal.teacher, created_at=datetime.now(UTC) - timedelta(days=2)))
    context, page = await sign_in_browser(browser, server_url, journal, login)
    answers = [None, "Ошибка при вводе"]  # first the teacher cancels the question, then answers it
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        reply = answers.pop(0)
        await (dialog.dismiss() if reply is None else dialog.accept(reply))

    page.on("dialog", answer)
    start = (journal.today - timedelta(days=3)).isoformat()
    await page.goto(f"/s/{journal.slug}/journal/loads/{journal.maths}?start={start}")
    target = cell(page, yesterday, student)
    await expect(target).to_have_value("3")
    await target.click()
    await page.keyboard.type("4")
    await page.keyboard.press("Enter")
    await expect(page.locator("#grid-message")).to_contain_text("укажите причину")
    await expect(target).to_be_focused()
    await page.keyboard.type("4")
    await page.keyboard.press("Enter")
    await expect(target).to_have_attribute("data-saved", "4")
    assert asked == ["Причина исправления", "Причина исправления"]
    await context.close()
    async with db.transaction(journal.school.schema) as session:
        assert (await session.execute(select(Mark.value))).scalars().all() == ["4"]
