"""The timetable pages in Russian: bell schedules, a day's lessons with their changes, and the КТП of a
teaching-load item with its upload (issue 4 item 8)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.db import Database
from services.timetable import service
from services.timetable.models import Lesson
from tests.conftest import MakeSchool, SignIn, school_writes
from tests.timetable.test_timetable import add, setup

GOOD_CSV = "№;Тема;Часы;Дата\n1;Натуральные числа;2;07.09.2026\n2;Сложение и вычитание;1;\n"
BAD_CSV = "№;Тема;Часы\n1;Натуральные числа;два\n"


async def test_bell_schedules_are_added_and_overlaps_refused(db: Database, make_school: MakeSchool,
                                                             sign_in: SignIn) -> None:
    st = await setup(db, make_school)
    deputy = await sign_in({st.school: ["deputy_head"]})
    url = f"/s/{st.school.slug}/timetable/bells"
    assert (await deputy.get(url)).status_code == 200
    added = await deputy.post(url, data={"name": "Основное", "is_default": "true",
                                         "bells": "1 08:30 09:15\n2 09:25 10:10\n"})
    assert added.status_code == 200, added.text
    assert "Расписание звонков «Основное» добавлено" in added.text
    assert "09:25" in added.text
    overlap = await deputy.post(url, data={"name": "Сокращённый", "bells": "1 08:30 09:00\n2 08:55 09:30"})
    assert overlap.status_code == 422
    assert "Урок 2 начинается раньше, чем кончается урок 1." in overlap.text
    assert "Сокращённый" in overlap.text  # the form keeps what was typed
    bad = await deputy.post(url, data={"name": "Кривое", "bells": "1 восемь 09:00"})
    assert bad.status_code == 422
    assert "Строка 1" in bad.text

    teacher = await sign_in({st.school: ["teacher"]})
    assert (await teacher.get(url)).status_code == 200
    assert (await teacher.post(url, data={"name": "Чужое", "bells": "1 08:30 09:15"})).status_code == 403


async def test_day_lists_lessons_and_records_changes_with_reasons(db: Database, make_school: MakeSchool,
                                                                  sign_in: SignIn) -> None:
    st = await setup(db, make_school)
    await add(db, st, st.maths_a, weekday=1, number=1, room="12")
    await add(db, st, st.russian_a, weekday=1, number=2, room="14")
    async with school_writes(db, st.school.schema) as s:
        assert await service.generate_lessons(s, date(2026, 9, 7), date(2026, 9, 7)) == 2
    lessons = await _lessons(db, st.school.schema)
    maths = next(lesson for lesson in lessons if lesson[1] == st.maths_a)[0]
    russian = next(lesson for lesson in lessons if lesson[1] == st.russian_a)[0]

    deputy = await sign_in({st.school: ["deputy_head"]})
    url = f"/s/{st.school.slug}/timetable/day?on=2026-09-07"
    page = await deputy.get(url)
    assert page.status_code == 200
    for text in ("Математика", "Русский язык", "5А", "12"):
        assert text in page.text
    assert "Учитель0 Т." in page.text
    assert f"/s/{st.school.slug}/plan/{st.maths_a}" in page.text  # the subject links to its КТП

    swapped = await deputy.post(url, data={"action": "substitution", "lesson_id": str(maths),
                                           "teacher_id": str(st.teachers[2]), "reason": "Болезнь учителя"})
    assert swapped.status_code == 200, swapped.text
    assert "Замена записана" in swapped.text
    assert "Замена: Болезнь учителя" in swapped.text
    assert "вместо Учитель0 Т." in swapped.text

    no_reason = await deputy.post(url, data={"action": "cancellation", "lesson_id": str(russian), "reason": " "})
    assert no_reason.status_code == 422
    assert "Укажите причину изменения" in no_reason.text
    assert "отменён" not in no_reason.text.split("<tbody>")[1].split("</tbody>")[0]

    moved = await deputy.post(url, data={"action": "room", "lesson_id": str(russian), "room": "31",
                                         "reason": "Ремонт"})
    assert "Другой кабинет: Ремонт" in moved.text
    extra = await deputy.post(url, data={"action": "extra", "teaching_load_id": str(st.maths_b),
                                         "lesson_number": "3", "room": "15", "reason": "Консультация"})
    assert extra.status_code == 200, extra.text
    assert "Дополнительный урок: Консультация" in extra.text

    teacher = await sign_in({st.school: ["teacher"]})
    assert (await teacher.get(url)).status_code == 200
    assert (await teacher.post(url, data={"action": "cancellation", "lesson_id": str(russian),
                                          "reason": "x"})).status_code == 403


async def _lessons(db: Database, schema: str) -> list[tuple[int, int]]:
    async with db.transaction(schema) as s:
        return [(i, load) for i, load in (await s.execute(select(Lesson.id, Lesson.teaching_load_id))).tuples()]


async def test_plan_page_checks_then_writes_and_shows_hours(db: Database, make_school: MakeSchool,
                                                           sign_in: SignIn) -> None:
    st = await setup(db, make_school)
    deputy = await sign_in({st.school: ["deputy_head"]})
    url = f"/s/{st.school.slug}/plan/{st.maths_a}"
    page = await deputy.get(url)
    assert page.status_code == 200
    assert "План пока не загружен" in page.text

    bad = await deputy.post(url, data={"confirm": "true"},
                            files={"data": ("ктп.csv", BAD_CSV.encode("cp1251"), "text/csv")})
    assert bad.status_code == 400
    assert "Строка 2, столбец «Часы»" in bad.text
    assert "План пока не загружен" in bad.text

    dry = await deputy.post(url, files={"data": ("ктп.csv", GOOD_CSV.encode(), "text/csv")})
    assert dry.status_code == 200
    assert "Ошибок нет: тем в файле — 2" in dry.text
    assert "План пока не загружен" in dry.text

    written = await deputy.post(url, data={"confirm": "true"},
                                files={"data": ("ктп.csv", GOOD_CSV.encode(), "text/csv")})
    assert written.status_code == 200, written.text
    assert "План записан: тем — 2" in written.text
    shown = await deputy.get(url)
    assert "Натуральные числа" in shown.text
    assert "07.09.2026" in shown.text
    assert "Часов по плану: <b>3</b>" in shown.text
    assert "Проведено уроков" in shown.text

    assert (await deputy.get(f"/s/{st.school.slug}/plan/999999")).status_code == 404
    teacher = await sign_in({st.school: ["teacher"]})
    assert (await teacher.get(url)).status_code == 200
    assert (await teacher.post(url, files={"data": ("ктп.csv", GOOD_CSV.encode(), "text/csv")})).status_code == 403
