"""КТП from the files schools have: a dry run lists every problem by line and column and writes nothing; a
clean file replaces the plan as a whole; lessons take the plan's topics in order (R-JRN-8, R-STR-7)."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from services.db import Database
from services.plan.models import PlanTopic
from services.timetable import service as timetable
from services.timetable.models import Lesson
from tests.conftest import MakeSchool, SignIn, school_writes
from tests.timetable.test_timetable import setup

GOOD_CSV = "№;Тема;Часы;Дата\n1;Натуральные числа;2;07.09.2026\n2;Сложение и вычитание;1;\n3;Умножение;1;\n"
BAD_CSV = "№;Тема;Часы\n1;Натуральные числа;два\n1;Повтор номера;1\nx;Без номера;1\n4;;1\n"


async def test_a_bad_file_lists_every_problem_and_writes_nothing(db: Database, make_school: MakeSchool,
                                                                   sign_in: SignIn) -> None:
    st = await setup(db, make_school)
    deputy = await sign_in({st.school: ["deputy_head"]})
    url = f"/api/v1/schools/{st.school.slug}/loads/{st.maths_a}/plan/import"
    answer = await deputy.post(url, params={"confirm": "true"},
                               files={"data": ("ктп.csv", BAD_CSV.encode("cp1251"), "text/csv")})
    body = answer.json()
    assert body["written"] is False
    assert "Строка 2, столбец «Часы»: «два» — не число." in body["problems"]
    assert "Строка 3, столбец «№»: номер 1 уже был в строке 2." in body["problems"]
    assert any(p.startswith("Строка 4, столбец «№»") for p in body["problems"])
    assert "Строка 5, столбец «Тема»: не заполнено." in body["problems"]
    plan = (await deputy.get(f"/api/v1/schools/{st.school.slug}/loads/{st.maths_a}/plan")).json()
    assert plan["topics"] == []


async def test_a_clean_plan_is_checked_then_written_and_lessons_take_its_topics(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    st = await setup(db, make_school)
    deputy = await sign_in({st.school: ["deputy_head"]})
    url = f"/api/v1/schools/{st.school.slug}/loads/{st.maths_a}/plan/import"
    dry = (await deputy.post(url, files={"data": ("ktp.csv", GOOD_CSV.encode("utf-8-sig"), "text/csv")})).json()
    assert dry == {"written": False, "topics": 3, "problems": []}

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["№", "Тема урока", "Количество часов"], [1, "Натуральные числа", 2], [2, "Сложение", 1],
                [3, "Умножение", 1]):
        sheet.append(row)
    xlsx = io.BytesIO()
    book.save(xlsx)
    done = await deputy.post(url, params={"confirm": "true"}, files={"data": ("ktp.xlsx", xlsx.getvalue(), "x")})
    assert done.json() == {"written": True, "topics": 3, "problems": []}

    async with school_writes(db, st.school.schema) as session:
        await timetable.add_entry(session, teaching_load_id=st.maths_a, weekday=1, lesson_number=1, room=None,
                                  valid_from=date(2026, 9, 1))
        await timetable.generate_lessons(session, date(2026, 9, 7), date(2026, 9, 27))
    async with db.transaction(st.school.schema) as session:
        lessons = (await session.execute(select(Lesson).order_by(Lesson.on_date))).scalars().all()
        titles = [(await deputy.get(f"/api/v1/schools/{st.school.slug}/lessons/{x.id}/topic")).json()["title"]
                  for x in lessons]
        assert await session.scalar(select(PlanTopic.title).where(PlanTopic.position == 2)) == "Сложение"
    assert titles == ["Натуральные числа", "Натуральные числа", "Сложение"], "a two-hour topic covers two lessons"
    plan = (await deputy.get(f"/api/v1/schools/{st.school.slug}/loads/{st.maths_a}/plan",
                             params={"on_date": "2026-09-15"})).json()
    assert (plan["planned_hours"], plan["given_hours"]) == (4, 2)
