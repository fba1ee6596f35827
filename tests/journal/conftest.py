"""A school with a journal to keep: a year around today with quarters, 5А of three students (one arrives later,
one leaves), 1А (no marks), maths taught by one teacher, Russian by another, lessons on past days, today and
tomorrow. Accounts sign in as that teacher, the other one, the deputy head, a student and a parent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from services.calendar.models import AcademicYear, StudyPeriod
from services.calendar.service import PeriodDraft, standard_layout
from services.db import Database
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person, Subject, TeachingLoad
from services.timetable import service as timetable
from services.timetable.models import Bell, BellSchedule, Lesson
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn, school_writes


@dataclass
class JournalSchool:
    school: ProvisionedSchool
    today: date
    teacher: int
    other_teacher: int
    deputy: int
    students: list[int]
    """5А: [present all along, arrived 10 days ago, left 10 days ago]."""
    first_grader: int
    parent: int
    maths: int
    """load: teacher, maths, 5А."""
    russian: int
    """load: other teacher, Russian, 5А."""
    maths_1a: int
    lessons: dict[str, int] = field(default_factory=dict)
    """maths 5А: "today", "yesterday" (a past day), "early" (20 days ago), "tomorrow"; "russian_today";
    "first_grade" (maths 1А today)."""
    periods: list[int] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.school.slug

    def api(self, path: str) -> str:
        return f"/api/v1/schools/{self.school.slug}/journal{path}"


def year_around(today: date) -> tuple[AcademicYear, list[PeriodDraft]]:
    """The school year of `today` with the standard quarters, when quarter 2, 3 or 4 holds today and tomorrow and
    the year holds the fixture's lessons (20 days back); otherwise — holidays between quarters, the summer, the
    first quarter — a year made around today, with quarter 1 long over and today in quarter 3, so the suite runs
    alike on any date (tests close quarter 1 without locking today)."""
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    year = AcademicYear(name=f"{start.year}/{start.year + 1}", start_date=start, end_date=date(start.year + 1, 5, 31))
    drafts = standard_layout(year, "quarters")
    if year.start_date <= today - timedelta(days=20) and any(
            d.kind == "quarter" and d.number > 1 and d.start_date <= today and today + timedelta(days=1) <= d.end_date
            for d in drafts):
        return year, drafts
    day = today.toordinal()
    bounds = [(-200, -121), (-120, -61), (-60, 40), (41, 100)]
    quarters = [PeriodDraft("quarter", n, 1, 9, date.fromordinal(day + a), date.fromordinal(day + b))
                for n, (a, b) in enumerate(bounds, 1)]
    halves = [PeriodDraft("half", 1, 10, 11, quarters[0].start_date, quarters[1].end_date),
              PeriodDraft("half", 2, 10, 11, quarters[2].start_date, quarters[3].end_date)]
    made = AcademicYear(name=f"Учебный год {quarters[0].start_date.year}", start_date=quarters[0].start_date,
                        end_date=quarters[3].end_date)
    return made, quarters + halves


async def build_journal_school(db: Database, make_school: MakeSchool) -> JournalSchool:
    school = await make_school()
    today = school_today(school)
    async with school_writes(db, school.schema) as s:
        year, drafts = year_around(today)
        s.add(year)
        await s.flush()
        for draft in drafts:
            s.add(StudyPeriod(academic_year_id=year.id, kind=draft.kind, number=draft.number, name=draft.name,
                              grade_from=draft.grade_from, grade_to=draft.grade_to, start_date=draft.start_date,
                              end_date=draft.end_date))
        people = [Person(kind="staff", last_name=n, first_name="Т") for n in ("Иванова", "Петров", "Сидорова")]
        pupils = [Person(kind="student", last_name=n, first_name="У") for n in ("Алексеев", "Борисова", "Васин",
                                                                              "Гришин")]
        parent = Person(kind="guardian", last_name="Алексеева", first_name="Р")
        s.add_all([*people, *pupils, parent])
        await s.flush()
        five_a, one_a = ClassUnit(grade=5, letter="А"), ClassUnit(grade=1, letter="А")
        s.add_all([five_a, one_a])
        await s.flush()
        early = today - timedelta(days=20)
        s.add_all([
            Enrollment(student_id=pupils[0].id, class_unit_id=five_a.id, start_date=year.start_date),
            Enrollment(student_id=pupils[1].id, class_unit_id=five_a.id, start_date=today - timedelta(days=10)),
            Enrollment(student_id=pupils[2].id, class_unit_id=five_a.id, start_date=year.start_date,
                       end_date=today - timedelta(days=10)),
            Enrollment(student_id=pupils[3].id, class_unit_id=one_a.id, start_date=year.start_date),
            Guardianship(guardian_id=parent.id, student_id=pupils[0].id),
        ])
        subject = {n: await s.scalar(select(Subject.id).where(Subject.name == n))
                   for n in ("Математика", "Русский язык")}
        loads = [TeachingLoad(academic_year_id=year.id, teacher_id=people[0].id, subject_id=subject["Математика"],
                              class_unit_id=five_a.id, hours_per_week=Decimal(5)),
                 TeachingLoad(academic_year_id=year.id, teacher_id=people[1].id, subject_id=subject["Русский язык"],
                              class_unit_id=five_a.id, hours_per_week=Decimal(5)),
                 TeachingLoad(academic_year_id=year.id, teacher_id=people[0].id, subject_id=subject["Математика"],
                              class_unit_id=one_a.id, hours_per_week=Decimal(4))]
        s.add_all(loads)
        bells = BellSchedule(name="Основное", is_default=True)
        s.add(bells)
        await s.flush()
        s.add_all([Bell(bell_schedule_id=bells.id, number=n, starts=time(7 + n, 0), ends=time(7 + n, 45))
                   for n in range(1, 8)])

        def lesson(load: TeachingLoad, day: date, number: int = 1) -> Lesson:
            return Lesson(teaching_load_id=load.id, on_date=day, lesson_number=number, teacher_id=load.teacher_id)

        made = {"today": lesson(loads[0], today), "yesterday": lesson(loads[0], today - timedelta(days=1)),
                "early": lesson(loads[0], early), "tomorrow": lesson(loads[0], today + timedelta(days=1)),
                "russian_today": lesson(loads[1], today, 2), "first_grade": lesson(loads[2], today, 3)}
        s.add_all(made.values())
        await s.flush()
        periods = list((await s.execute(select(StudyPeriod.id).order_by(StudyPeriod.start_date))).scalars())
        return JournalSchool(school, today, people[0].id, people[1].id, people[2].id,
                             [p.id for p in pupils[:3]], pupils[3].id, parent.id, loads[0].id, loads[1].id,
                             loads[2].id, {k: v.id for k, v in made.items()}, periods)


def school_today(_school: ProvisionedSchool) -> date:
    """make_school's schools are in Moscow."""
    return datetime.now(ZoneInfo("Europe/Moscow")).date()


@pytest.fixture
async def journal(db: Database, make_school: MakeSchool) -> JournalSchool:
    return await build_journal_school(db, make_school)


@dataclass
class Clients:
    teacher: httpx.AsyncClient
    other_teacher: httpx.AsyncClient
    deputy: httpx.AsyncClient
    student: httpx.AsyncClient
    parent: httpx.AsyncClient


@pytest.fixture
async def people(journal: JournalSchool, sign_in: SignIn) -> Clients:
    s = journal.school
    return Clients(
        await sign_in({s: ["teacher"]}, person_ids={s: journal.teacher}),
        await sign_in({s: ["teacher"]}, person_ids={s: journal.other_teacher}),
        await sign_in({s: ["deputy_head"]}, person_ids={s: journal.deputy}),
        await sign_in({s: ["student"]}, person_ids={s: journal.students[0]}),
        await sign_in({s: ["parent"]}, person_ids={s: journal.parent}),
    )


async def work_kinds(client: httpx.AsyncClient, journal: JournalSchool) -> dict[str, int]:
    answer = await client.get(f"/api/v1/schools/{journal.slug}/grading/work-kinds")
    return {k["name"]: k["id"] for k in answer.json()}


async def keep_lessons(db: Database, journal: JournalSchool, people: Clients, *, maths: int, russian: int,
                       cancelled: int, individual_for: int) -> dict[str, int]:
    """A day as the diary and the printed report show it, kept through the API: the maths lesson's topic and
    homework, a 5 for a test (student 0) and a 3 for an oral answer (student 1), individual homework for one
    student; student 0 ill at Russian, which a substitute (the deputy) teaches; another lesson cancelled.
    Returns the work kinds by name."""
    (a, b, _), api = journal.students, journal.api
    kind = await work_kinds(people.teacher, journal)
    assert (await people.teacher.put(api(f"/lessons/{maths}"), json={
        "topic": "Сложение дробей", "homework": "№ 245, 247"})).status_code == 200
    assert (await people.teacher.post(api(f"/lessons/{maths}/marks"), json={
        "student_id": a, "value": "5", "work_kind_id": kind["Контрольная работа"], "comment": "Без ошибок"}
    )).status_code == 201
    assert (await people.teacher.post(api(f"/lessons/{maths}/marks"), json={
        "student_id": b, "value": "3", "work_kind_id": kind["Устный ответ"]})).status_code == 201
    assert (await people.teacher.put(api(f"/lessons/{maths}/students/{individual_for}/homework"),
                                     json={"text": "Повторить § 11"})).status_code == 200
    assert (await people.other_teacher.put(api(f"/lessons/{russian}/attendance"), json={"entries": [
        {"student_id": a, "status": "absent", "reason": "illness"}]})).status_code == 200
    async with school_writes(db, journal.school.schema) as s:
        await timetable.substitute(s, russian, teacher_id=journal.deputy, reason="Учитель на курсах",
                                   actor_account_id=None)
        await timetable.cancel(s, cancelled, reason="Карантин", actor_account_id=None)
    return kind
