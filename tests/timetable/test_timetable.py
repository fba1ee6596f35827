"""The weekly timetable refuses clashes by name, generates the lessons of a period around holidays, and keeps
every change to a lesson with its reason (R-STR-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from services.calendar.models import AcademicYear, Holiday
from services.db import Database
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from services.timetable import service
from services.timetable.models import Lesson, LessonChange
from services.timetable.service import TimetableError
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn, school_writes

MONDAY = date(2026, 9, 7)


@dataclass
class Setup:
    school: ProvisionedSchool
    year: int
    teachers: list[int]
    five_a: int
    five_b: int
    maths_a: int  # load: teacher 0, maths, 5А
    russian_a: int  # load: teacher 1, Russian, 5А
    maths_b: int  # load: teacher 0, maths, 5Б
    english_g1: int  # load: teacher 2, English, 5А group 1
    english_g2: int  # load: teacher 3, English, 5А group 2


async def setup(db: Database, make_school: MakeSchool) -> Setup:
    school = await make_school()
    async with school_writes(db, school.schema) as s:
        year = AcademicYear(name="2026/2027", start_date=date(2026, 9, 1), end_date=date(2027, 5, 31))
        teachers = [Person(kind="staff", last_name=f"Учитель{n}", first_name="Т") for n in range(4)]
        s.add_all([year, *teachers])
        await s.flush()
        a, b = ClassUnit(grade=5, letter="А"), ClassUnit(grade=5, letter="Б")
        s.add_all([a, b])
        await s.flush()
        subject = {n: await s.scalar(select(Subject.id).where(Subject.name == n))
                   for n in ("Математика", "Русский язык", "Иностранный язык (английский)")}
        g1 = StudyGroup(name="5А англ. 1", kind="subgroup", class_unit_id=a.id)
        g2 = StudyGroup(name="5А англ. 2", kind="subgroup", class_unit_id=a.id)
        s.add_all([g1, g2])
        await s.flush()

        def load(teacher: int, name: str, class_id: int | None = None, group_id: int | None = None) -> TeachingLoad:
            return TeachingLoad(academic_year_id=year.id, teacher_id=teachers[teacher].id, subject_id=subject[name],
                                class_unit_id=class_id, group_id=group_id, hours_per_week=Decimal(2))

        loads = [load(0, "Математика", a.id), load(1, "Русский язык", a.id), load(0, "Математика", b.id),
                 load(2, "Иностранный язык (английский)", group_id=g1.id),
                 load(3, "Иностранный язык (английский)", group_id=g2.id)]
        s.add_all(loads)
        await s.flush()
        return Setup(school, year.id, [t.id for t in teachers], a.id, b.id, *[x.id for x in loads])


async def add(db: Database, st: Setup, load: int, *, weekday: int = 1, number: int = 1,
              room: str | None = None) -> None:
    async with school_writes(db, st.school.schema) as s:
        await service.add_entry(s, teaching_load_id=load, weekday=weekday, lesson_number=number, room=room,
                                valid_from=date(2026, 9, 1))


async def refused(db: Database, st: Setup, load: int, **slot: object) -> str:
    with pytest.raises(TimetableError) as caught:
        await add(db, st, load, **slot)  # type: ignore[arg-type]
    async with db.transaction(st.school.schema) as s:
        assert await s.scalar(select(func.count()).select_from(Lesson)) == 0
    return " ".join(caught.value.messages)


async def test_clashes_are_refused_by_name_and_a_split_class_is_not_a_clash(db: Database,
                                                                               make_school: MakeSchool) -> None:
    st = await setup(db, make_school)
    await add(db, st, st.maths_a, room="12")
    assert "Учитель уже ведёт урок" in await refused(db, st, st.maths_b)
    assert "У класса 5А уже есть урок" in await refused(db, st, st.russian_a)
    assert "Кабинет 12 уже занят" in await refused(db, st, st.russian_a, number=1, weekday=1, room="12")
    assert "У класса 5А уже есть урок" in await refused(db, st, st.english_g1)

    await add(db, st, st.english_g1, number=2, room="21")
    await add(db, st, st.english_g2, number=2, room="22")  # the other half of 5А at the same time: fine
    assert "Группа уже занята" in await refused(db, st, st.english_g1, number=2, room="23")
    await add(db, st, st.maths_b, number=2)  # another class, another teacher's free slot
    with pytest.raises(TimetableError, match="День недели"):
        await add(db, st, st.russian_a, weekday=7)


async def test_lessons_of_a_period_skip_holidays_and_changes_keep_their_reason(db: Database,
                                                                                 make_school: MakeSchool) -> None:
    st = await setup(db, make_school)
    await add(db, st, st.maths_a, weekday=1, number=1, room="12")
    await add(db, st, st.russian_a, weekday=3, number=2, room="14")
    async with school_writes(db, st.school.schema) as s:
        s.add(Holiday(academic_year_id=st.year, name="Осенние каникулы", start_date=date(2026, 9, 14),
                      end_date=date(2026, 9, 20), grade_from=1, grade_to=11))
    async with school_writes(db, st.school.schema) as s:
        created = await service.generate_lessons(s, MONDAY, date(2026, 9, 27))
    # Three weeks, the middle one a holiday: two Mondays and two Wednesdays.
    assert created == 4
    async with school_writes(db, st.school.schema) as s:
        assert await service.generate_lessons(s, MONDAY, date(2026, 9, 27)) == 0, "generating again adds nothing"
        lessons = (await s.execute(select(Lesson).order_by(Lesson.on_date))).scalars().all()
    assert [lesson.on_date for lesson in lessons] == [date(2026, 9, 7), date(2026, 9, 9), date(2026, 9, 21),
                                                      date(2026, 9, 23)]
    first, wednesday = lessons[0], lessons[1]

    async with school_writes(db, st.school.schema) as s:
        with pytest.raises(TimetableError, match="причину"):
            await service.substitute(s, first.id, teacher_id=st.teachers[2], reason=" ", actor_account_id=None)
    async with school_writes(db, st.school.schema) as s:
        await service.substitute(s, first.id, teacher_id=st.teachers[2], reason="Болезнь учителя",
                                 actor_account_id=None)
    async with school_writes(db, st.school.schema) as s:
        # The maths teacher is free at the first lesson now that a substitute took it: an extra lesson for 5Б.
        extra = await service.extra_lesson(s, teaching_load_id=st.maths_b, on_date=first.on_date,
                                           lesson_number=1, room="15", reason="Консультация", actor_account_id=None)
    async with school_writes(db, st.school.schema) as s:
        with pytest.raises(TimetableError, match="Кабинет 12 занят"):
            await service.change_room(s, extra.id, room="12", reason="Проверка", actor_account_id=None)
    async with school_writes(db, st.school.schema) as s:
        await service.cancel(s, wednesday.id, reason="Карантин", actor_account_id=None)
        with pytest.raises(TimetableError, match="уже отменён"):
            await service.cancel(s, wednesday.id, reason="Карантин", actor_account_id=None)
    async with db.transaction(st.school.schema) as s:
        changes = (await s.execute(select(LessonChange).order_by(LessonChange.id))).scalars().all()
        substituted = await s.get(Lesson, first.id)
        cancelled = await s.get(Lesson, wednesday.id)
    assert [(c.kind, c.reason) for c in changes] == [
        ("substitution", "Болезнь учителя"), ("extra", "Консультация"), ("cancellation", "Карантин")]
    assert changes[0].previous_teacher_id == st.teachers[0]
    assert substituted is not None
    assert substituted.teacher_id == st.teachers[2]
    assert cancelled is not None
    assert cancelled.status == "cancelled"


async def test_bell_schedules_refuse_overlapping_lessons(db: Database, make_school: MakeSchool) -> None:
    st = await setup(db, make_school)
    async with school_writes(db, st.school.schema) as s:
        await service.add_bell_schedule(s, name="Основное", is_default=True, bells=[
            (1, time(8, 30), time(9, 15)), (2, time(9, 25), time(10, 10))])
    async with school_writes(db, st.school.schema) as s:
        with pytest.raises(TimetableError, match="Урок 2 начинается раньше"):
            await service.add_bell_schedule(s, name="Сокращённый", bells=[
                (1, time(8, 30), time(9, 0)), (2, time(8, 55), time(9, 30))])


async def test_the_api_names_the_clash_and_lists_a_day_with_its_changes(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    st = await setup(db, make_school)
    deputy = await sign_in({st.school: ["deputy_head"]})
    api = f"/api/v1/schools/{st.school.slug}"
    first = await deputy.post(f"{api}/timetable/entries", json={
        "teaching_load_id": st.maths_a, "weekday": 1, "lesson_number": 1, "valid_from": "2026-09-01", "room": "12"})
    assert first.status_code == 201, first.text
    clash = await deputy.post(f"{api}/timetable/entries", json={
        "teaching_load_id": st.russian_a, "weekday": 1, "lesson_number": 1, "valid_from": "2026-09-01"})
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith("application/problem+json")
    assert any("5А" in m for m in clash.json()["messages"])

    made = await deputy.post(f"{api}/timetable/generate", json={"start": "2026-09-07", "end": "2026-09-13"})
    assert made.json() == {"created": 1}
    lesson = (await deputy.get(f"{api}/lessons", params={"on_date": "2026-09-07"})).json()[0]
    moved = await deputy.post(f"{api}/lessons/{lesson['id']}/room", json={"room": "31", "reason": "Ремонт"})
    assert moved.json()["changes"] == [{"kind": "room", "reason": "Ремонт"}]
    assert moved.json()["room"] == "31"

    teacher = await sign_in({st.school: ["teacher"]})
    assert (await teacher.get(f"{api}/lessons", params={"on_date": "2026-09-07"})).status_code == 200
    assert (await teacher.post(f"{api}/lessons/{lesson['id']}/cancellation",
                               json={"reason": "x"})).status_code == 403
