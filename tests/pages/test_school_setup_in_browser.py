"""A school set up from nothing through the pages alone, in Chromium (issue 4): the year and its periods, a
grading system for a subject, staff, a class, students from an XLSX file, load, timetable (a clash refused by
name) and the lessons generated."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, insert, select

from services.db import Database
from services.grading.service import allowed_marks
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from services.structure.models import Enrollment, Subject
from services.timetable.models import Lesson
from tests.conftest import MakeSchool

PASSWORD = "Завуч-2026-пароль"


def students_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Фамилия родителя", "Имя родителя"])
    sheet.append(["Алексеева", "Мария", "Павловна", "04.05.2015", "5А", "Алексеев", "Павел"])
    sheet.append(["Борисов", "Никита", "", "21.11.2014", "5А", "Борисова", "Ольга"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_deputy_head_sets_up_a_school_through_the_pages(
    db: Database, server_url: str, make_school: MakeSchool, browser: Any
) -> None:
    school = await make_school(name="МБОУ СОШ № 40")
    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login="zavuch40", password_hash=await hash_password(PASSWORD), platform_roles=[]).returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=school.id,
                                                        roles=["deputy_head"]))
    context = await browser.new_context(base_url=server_url, locale="ru-RU")
    page = await context.new_page()
    base = f"/s/{school.slug}"
    await page.goto(f"{base}/")
    await page.get_by_label("Логин").fill("zavuch40")
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url(f"**{base}**")

    # 1. The year and its periods.
    await page.get_by_role("link", name="Настройка учебного года").click()
    await page.locator('form[aria-label="Новый учебный год"] input[name="name"]').fill("2026/2027")
    await page.locator('form[aria-label="Новый учебный год"] input[name="start_date"]').fill("2026-09-01")
    await page.locator('form[aria-label="Новый учебный год"] input[name="end_date"]').fill("2027-05-31")
    await page.get_by_role("button", name="Создать учебный год").click()
    await page.get_by_role("button", name="Создать: четверти", exact=False).first.click()
    assert "1 четверть" in await page.content()

    # A grading system per subject and grade: informatics in grade 5 on the 10-point scale.
    await page.goto(f"{base}/setup/grading")
    await page.get_by_label("Информатика, 5 класс").select_option(label="10-балльная")
    await page.locator('form[aria-label="Оценивание по предметам"] button[type="submit"]').click()
    assert await page.get_by_label("Информатика, 5 класс").input_value() == "ten"

    # 2. A teacher, a class, students from a file.
    await page.goto(f"{base}/staff")
    await page.get_by_label("Фамилия").fill("Соколова")
    await page.get_by_label("Имя").fill("Елена")
    await page.get_by_role("button", name="Добавить").click()
    await page.goto(f"{base}/classes")
    await page.get_by_label("Параллель (1–11)").fill("5")
    await page.get_by_label("Литера (одна буква, например А)").fill("А")
    await page.get_by_role("button", name="Создать класс").click()
    assert "5А" in await page.content()

    await page.goto(f"{base}/import/students")
    await page.set_input_files('input[name="data"]', files=[{
        "name": "ученики.xlsx", "mimeType": "application/octet-stream", "buffer": students_xlsx()}])
    await page.get_by_label("Записать, если ошибок нет").check()
    await page.get_by_role("button", name="Проверить и загрузить").click()
    assert "Записано учеников: 2" in await page.inner_text("[role=status]")

    # 3. Load, timetable with a clash, lessons.
    await page.goto(f"{base}/load")
    await page.get_by_label("Предмет").select_option(label="Математика")
    await page.get_by_label("Часов в неделю").fill("5")
    await page.get_by_role("button", name="Добавить").click()
    await page.get_by_label("Предмет").select_option(label="Русский язык")
    await page.get_by_label("Часов в неделю").fill("4")
    await page.get_by_role("button", name="Добавить").click()

    await page.goto(f"{base}/timetable")
    await page.get_by_label("Предмет и учитель").select_option(index=0)
    await page.get_by_label("Номер урока").fill("1")
    await page.get_by_label("Кабинет").fill("12")
    await page.get_by_role("button", name="Добавить").click()
    assert "Урок добавлен в расписание" in await page.inner_text("[role=status]")
    await page.get_by_label("Предмет и учитель").select_option(index=1)
    await page.get_by_label("Номер урока").fill("1")
    await page.get_by_role("button", name="Добавить").click()
    refusal = await page.inner_text("[role=alert]")
    assert "уже" in refusal, refusal  # the same teacher (and class) at the first lesson on Monday

    await page.locator('input[name="start"]').fill("2026-09-01")
    await page.locator('input[name="end"]').fill("2026-09-30")
    await page.get_by_role("button", name="Создать уроки").click()
    assert "Создано уроков: 4" in await page.inner_text("[role=status]")  # the Mondays of September 2026
    await context.close()

    async with db.transaction(school.schema) as session:
        informatics = await session.scalar(select(Subject.id).where(Subject.name == "Информатика"))
        assert informatics is not None
        marks = [v.value for v in await allowed_marks(session, informatics, 5)]
        assert "10" in marks
        assert "н/а" in marks
        assert await session.scalar(select(func.count()).select_from(Enrollment)) == 2
        assert await session.scalar(select(func.count()).select_from(Lesson)) == 4
