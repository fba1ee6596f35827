"""The demonstration region: three full schools and ready-made logins.

Each school has the current academic year (standard quarters/halves and holidays), a default bell schedule,
grades 1–11 with two classes each (three in grades 5 and 10 of the first school), 25 students per class with
a guardian each, a director, a deputy head and subject teachers with their load (English in two halves from
grade 5), class teachers, a conflict-free weekly timetable, a КТП for every load item, the lessons from
1 September until two weeks after the school's today (within the study periods), and a lived-in journal for
the lessons of the last three weeks before today: topics from the КТП, homework, attendance taken (illnesses
that last a few days, the odd absence or lateness) and a few marks per lesson with their kinds of work, a
whole-class written work every eighth lesson. Today's lessons are left for the teacher to fill. What is taught
and when is planned in `tenants.demo_timetable`; this module writes it.

`create_demo_region` is idempotent and resumable. The region (code DEMO), its municipalities and schools are
found by their natural keys before anything is created; each school is filled (people, classes, enrolment,
its demo accounts and memberships) in one transaction of its own, so a school is either complete or empty.
Names come from a deterministic RNG; passwords and invite codes are random per installation and are only
known to the call that made them: the caller (the local launcher) keeps them. Given the previous result, a
call issues fresh secrets for whatever that result lacks (a demo account without a known password gets a new
one, a school without a known invite code gets a new administrator invite).
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import zoneinfo
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.calendar import service as calendar
from services.calendar.models import Holiday, StudyPeriod
from services.config import Settings
from services.db import Database
from services.grading.models import WorkKind
from services.grading.service import NO_MARKS_GRADES
from services.identity.models import Account, Invite, Membership, PlatformAudit
from services.journal.models import Attendance, LessonRecord, Mark
from services.plan.models import PlanTopic
from services.region.models import Municipality, Region, School
from services.structure.models import (
    ClassUnit,
    Enrollment,
    GroupMembership,
    Guardianship,
    Person,
    StudyGroup,
    Subject,
    TeachingLoad,
)
from services.timetable.models import Lesson, TimetableEntry
from services.timetable.service import add_bell_schedule, generate_lessons
from tenants.demo_timetable import (
    SUBJECTS,
    YEAR_WEEKS,
    SchoolPlan,
    check_work,
    homework_text,
    plan_school,
    topic_titles,
)
from tenants.provisioning import ADMIN_INVITE_VALID_FOR, create_school, invite_code_hash, new_invite_code

__all__ = ["DEMO_REGION_CODE", "DemoError", "DemoInfo", "DemoLogin", "DemoSchool", "create_demo_region"]

DEMO_REGION_CODE = "DEMO"
DEMO_REGION_NAME = "Демонстрационная область"
ACTOR = "demo"
# pg_advisory_lock key: "DEMO" in ASCII, so two launchers on one database never build the region twice.
_LOCK_KEY = 0x44454D4F

_MUNICIPALITIES = ("Городской округ Демоград", "Демонстрационный муниципальный район")


@dataclass(frozen=True, slots=True)
class _SchoolSpec:
    number: int
    slug: str
    name: str
    time_zone: str
    municipality: int  # index into _MUNICIPALITIES


_SCHOOLS = (
    _SchoolSpec(1, "demo-1", "МБОУ СОШ № 1", "Europe/Moscow", 0),
    _SchoolSpec(2, "demo-2", "МБОУ «Гимназия № 2»", "Asia/Yekaterinburg", 0),
    _SchoolSpec(3, "demo-3", "МБОУ СОШ № 3 с. Демино", "Asia/Novosibirsk", 1),
)
_STUDENTS_PER_CLASS = 25
# Three classes in these grades of the first school, two elsewhere: moderate totals, but not all alike.
_EXTRA_CLASSES = {"demo-1": (5, 10)}
_ACCOUNT_CLASS = (5, "А")
# The teacher who works in two schools (R-ROLE-6): the first physics and informatics teacher of the first
# school, who teaches the same subjects in the second.
_MULTI_TEACHER_LOGIN = "demo-teacher-2schools"
_MULTI_TEACHER_SCHOOLS = ("demo-1", "demo-2")
_MULTI_TEACHER_GROUP = "phys"
# Default bells: 8:30, 45-minute lessons; breaks after each lesson (minutes).
_FIRST_BELL = time(8, 30)
_LESSON_MINUTES = 45
_BREAKS = (10, 20, 20, 10, 10, 10, 10, 10)
# Lessons exist until this long after the school's today; the journal is filled for this long before it.
LESSONS_AHEAD = timedelta(days=14)
JOURNAL_BEHIND = timedelta(days=21)
# Marks given at an ordinary lesson; values of a 5-point mark with their odds.
_ORAL_KINDS = ("Устный ответ", "Работа на уроке", "Работа на уроке", "Домашняя работа")
_VALUES, _ODDS = ("5", "4", "3", "2"), (30, 42, 23, 5)

_MALE_FIRST = (
    "Александр", "Алексей", "Андрей", "Артём", "Владимир", "Даниил", "Дмитрий", "Егор", "Иван", "Илья",
    "Кирилл", "Лев", "Марк", "Матвей", "Максим", "Михаил", "Никита", "Николай", "Павел", "Роман", "Сергей",
    "Тимофей", "Фёдор", "Ярослав",
)
_FEMALE_FIRST = (
    "Алиса", "Анастасия", "Анна", "Арина", "Валерия", "Варвара", "Василиса", "Вера", "Виктория", "Дарья",
    "Евгения", "Екатерина", "Елена", "Ксения", "Мария", "Милана", "Наталья", "Ольга", "Полина", "Светлана",
    "София", "Татьяна", "Ульяна",
)
# (for a son, for a daughter)
_PATRONYMICS = (
    ("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"), ("Андреевич", "Андреевна"),
    ("Викторович", "Викторовна"), ("Владимирович", "Владимировна"), ("Дмитриевич", "Дмитриевна"),
    ("Евгеньевич", "Евгеньевна"), ("Иванович", "Ивановна"), ("Игоревич", "Игоревна"),
    ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"), ("Олегович", "Олеговна"),
    ("Павлович", "Павловна"), ("Петрович", "Петровна"), ("Романович", "Романовна"),
    ("Сергеевич", "Сергеевна"), ("Юрьевич", "Юрьевна"),
)
# Male forms; every one ends in -ов/-ев/-ёв/-ин, whose female form adds «а».
_LAST = (
    "Александров", "Алексеев", "Андреев", "Антонов", "Баранов", "Белов", "Беляев", "Богданов", "Борисов",
    "Васильев", "Виноградов", "Власов", "Волков", "Воробьёв", "Гусев", "Григорьев", "Давыдов", "Дмитриев",
    "Егоров", "Жуков", "Зайцев", "Захаров", "Иванов", "Ильин", "Карпов", "Киселёв", "Ковалёв", "Козлов",
    "Комаров", "Королёв", "Крылов", "Кузнецов", "Кузьмин", "Куликов", "Лебедев", "Макаров", "Максимов",
    "Марков", "Матвеев", "Медведев", "Мельников", "Миронов", "Михайлов", "Морозов", "Никитин", "Николаев",
    "Новиков", "Орлов", "Осипов", "Павлов", "Петров", "Поляков", "Попов", "Романов", "Семёнов", "Сергеев",
    "Сидоров", "Смирнов", "Соколов", "Соловьёв", "Сорокин", "Степанов", "Тарасов", "Титов", "Фёдоров",
    "Филиппов", "Фролов", "Яковлев",
)


class DemoError(RuntimeError):
    """The database holds something that conflicts with the demonstration region."""


@dataclass(frozen=True, slots=True)
class DemoSchool:
    slug: str
    name: str
    time_zone: str
    municipality: str
    admin_invite_code: str | None = None


@dataclass(frozen=True, slots=True)
class DemoLogin:
    login: str
    role: str  # what the account is, in Russian, for the operator who reads the list
    schools: tuple[str, ...]  # slugs
    password: str | None = None


@dataclass(frozen=True, slots=True)
class DemoInfo:
    region: str
    schools: tuple[DemoSchool, ...]
    logins: tuple[DemoLogin, ...]
    created: bool = False  # whether this call created anything
    secrets_issued: bool = False  # whether this call set a password or made an invite code
    base_url: str = ""

    def school_url(self, slug: str, base_url: str | None = None) -> str:
        return f"{(base_url or self.base_url).rstrip('/')}/s/{slug}/"

    def to_json(self) -> str:
        data = asdict(self)
        for transient in ("created", "secrets_issued", "base_url"):
            data.pop(transient)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> DemoInfo:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            region=data["region"],
            schools=tuple(DemoSchool(**school) for school in data["schools"]),
            logins=tuple(
                DemoLogin(**{**login, "schools": tuple(login["schools"])}) for login in data["logins"]
            ),
        )


# --- the people of one school --------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    last_name: str
    first_name: str
    middle_name: str
    birth_date: date

    def row(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "last_name": self.last_name, "first_name": self.first_name,
                "middle_name": self.middle_name, "birth_date": self.birth_date}


@dataclass(slots=True)
class _SchoolPeople:
    director: _Person
    deputy_head: _Person
    teachers: list[_Person]
    # per class (in _CLASSES order): (student, guardian) pairs
    classes: list[list[tuple[_Person, _Person]]] = field(default_factory=list)


def _person(rng: random.Random, *, born_from: int, born_to: int, last_name: str | None = None,
            female: bool | None = None) -> _Person:
    female = rng.random() < 0.5 if female is None else female
    last = last_name or rng.choice(_LAST)
    son, daughter = rng.choice(_PATRONYMICS)
    year = rng.randint(born_from, born_to)
    birthday = date(year, 1, 1).toordinal() + rng.randrange(365)
    return _Person(
        last_name=last + "а" if female else last,
        first_name=rng.choice(_FEMALE_FIRST if female else _MALE_FIRST),
        middle_name=daughter if female else son,
        birth_date=date.fromordinal(birthday),
    )


def _classes(spec: _SchoolSpec) -> list[tuple[int, str]]:
    extra = _EXTRA_CLASSES.get(spec.slug, ())
    return [(grade, letter) for grade in range(1, 12) for letter in ("А", "Б", "В")[: 3 if grade in extra else 2]]


def _people(spec: _SchoolSpec, school_year: int, classes: Sequence[tuple[int, str]], teachers: int) -> _SchoolPeople:
    rng = random.Random(f"journal-demo:{spec.slug}")  # noqa: S311 - made-up names, not secrets
    people = _SchoolPeople(
        director=_person(rng, born_from=1964, born_to=1985),
        deputy_head=_person(rng, born_from=1970, born_to=1990),
        teachers=[_person(rng, born_from=1964, born_to=1999, female=n % 4 != 3) for n in range(teachers)],
    )
    for grade, _letter in classes:
        pairs = []
        for _ in range(_STUDENTS_PER_CLASS):
            born = school_year - 7 - (grade - 1)
            family = rng.choice(_LAST)
            student = _person(rng, born_from=born - 1, born_to=born, last_name=family)
            guardian = _person(rng, born_from=born - 42, born_to=born - 22, last_name=family)
            pairs.append((student, guardian))
        people.classes.append(pairs)
    return people


def _multi_teacher_index(plan: SchoolPlan) -> int:
    return next(i for i, teacher in enumerate(plan.teachers) if teacher.group == _MULTI_TEACHER_GROUP)


def _multi_teacher() -> _Person:
    """The person of the teacher who works in two schools (staff names do not depend on the school year)."""
    spec = next(s for s in _SCHOOLS if s.slug == _MULTI_TEACHER_SCHOOLS[0])
    classes = _classes(spec)
    plan = plan_school(classes)
    return _people(spec, 2000, classes, len(plan.teachers)).teachers[_multi_teacher_index(plan)]


def _school_year_start(time_zone: str) -> date:
    """1 September of the school year that is going on (or just ended) in the school's zone."""
    today = datetime.now(zoneinfo.ZoneInfo(time_zone)).date()
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


# --- accounts --------------------------------------------------------------------------------------------


def _new_password() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


_HASHER = PasswordHasher()


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


def _demo_logins() -> list[DemoLogin]:
    logins: list[DemoLogin] = []
    for spec in _SCHOOLS:
        n = spec.number
        logins += [
            DemoLogin(f"demo{n}-admin", f"администратор (заместитель директора), {spec.name}", (spec.slug,)),
            DemoLogin(f"demo{n}-teacher", f"учитель, классный руководитель 5А, {spec.name}", (spec.slug,)),
            DemoLogin(f"demo{n}-parent", f"родитель ученика 5А, {spec.name}", (spec.slug,)),
            DemoLogin(f"demo{n}-student", f"ученик 5А, {spec.name}", (spec.slug,)),
        ]
    names = ", ".join(spec.name for spec in _SCHOOLS if spec.slug in _MULTI_TEACHER_SCHOOLS)
    logins.append(DemoLogin(_MULTI_TEACHER_LOGIN, f"учитель в двух школах: {names}", _MULTI_TEACHER_SCHOOLS))
    return logins


async def _account(session: AsyncSession, login: str, fresh: dict[str, str]) -> int:
    """The id of the account `login`, creating it (with a new password recorded in `fresh`) if missing."""
    account_id = await session.scalar(select(Account.id).where(Account.login == login))
    if account_id is not None:
        return account_id
    password = _new_password()
    account_id = await session.scalar(
        insert(Account).values(login=login, password_hash=await _hash(password), platform_roles=[])
        .returning(Account.id)
    )
    assert account_id is not None
    fresh[login] = password
    return account_id


async def _member(session: AsyncSession, account_id: int, school_id: int, person_id: int, roles: list[str]) -> None:
    await session.execute(
        insert(Membership).values(account_id=account_id, school_id=school_id, person_id=person_id, roles=roles)
    )


# --- filling one school -----------------------------------------------------------------------------------


async def _insert_people(session: AsyncSession, people: Sequence[_Person], kind: str) -> list[int]:
    rows = await audit.insert_rows(session, Person, [p.row(kind) for p in people])
    return [row["id"] for row in rows]


def _bells() -> list[tuple[int, time, time]]:
    bells, at = [], datetime.combine(date(2000, 1, 1), _FIRST_BELL)
    for number, pause in enumerate(_BREAKS, 1):
        ends = at + timedelta(minutes=_LESSON_MINUTES)
        bells.append((number, at.time(), ends.time()))
        at = ends + timedelta(minutes=pause)
    return bells


async def _calendar(session: AsyncSession, first_year: int) -> tuple[int, list[StudyPeriod], list[Holiday]]:
    """The academic year with the standard quarters/halves and holidays: (year id, periods, holidays)."""
    name, start, end = calendar.default_year_dates(first_year)
    year = await calendar.create_year(session, name, start, end)
    periods = await calendar.add_standard_layout(session, year.id, "quarters")
    holidays = [await calendar.add_holiday(session, year.id, title, first, last, grade_from=g_from, grade_to=g_to)
                for title, first, last, g_from, g_to in calendar.standard_holidays(year)]
    return year.id, periods, holidays


async def _subjects(session: AsyncSession) -> dict[str, int]:
    """Subject ids by name; provisioning seeds the reference subjects, anything missing is added."""
    known = dict((await session.execute(select(Subject.name, Subject.id))).tuples().all())
    missing = [{"name": name, "short_name": short} for name, short in SUBJECTS if name not in known]
    known |= {row["name"]: row["id"] for row in await audit.insert_rows(session, Subject, missing)}
    return known


def _school_today(time_zone: str) -> date:
    return datetime.now(zoneinfo.ZoneInfo(time_zone)).date()


def _lessons_until(periods: Sequence[StudyPeriod], grade: int, today: date) -> date:
    """The last day with lessons: two weeks after today, but not after the grade's last study period."""
    return min(today + LESSONS_AHEAD, max(p.end_date for p in periods if p.grade_from <= grade <= p.grade_to))


def _lesson_rows(plan: SchoolPlan, entries: Sequence[dict[str, Any]], load_rows: Sequence[dict[str, Any]],
                 periods: Sequence[StudyPeriod], holidays: Sequence[Holiday], *, today: date
                 ) -> list[dict[str, Any]]:
    """The lessons from the timetable's start until `_lessons_until`, as `generate_lessons` makes them (holidays
    skipped)."""
    rows = []
    ends = {grade: _lessons_until(periods, grade, today) for grade in {unit.grade for unit in plan.classes}}
    for slot, entry in zip(plan.slots, entries, strict=True):
        grade = plan.classes[plan.loads[slot.load].class_index].grade
        load = load_rows[slot.load]
        day = entry["valid_from"] + timedelta(days=(slot.weekday - entry["valid_from"].isoweekday()) % 7)
        while day <= ends[grade]:
            if not any(h.start_date <= day <= h.end_date and h.grade_from <= grade <= h.grade_to for h in holidays):
                rows.append({"teaching_load_id": load["id"], "on_date": day, "lesson_number": slot.lesson_number,
                             "teacher_id": load["teacher_id"], "room": entry["room"], "status": "planned",
                             "timetable_entry_id": entry["id"]})
            day += timedelta(days=7)
    return rows


@dataclass(slots=True)
class _Journal:
    """The rows of the journal's past weeks, ready for `audit.insert_rows`."""

    records: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _JournalContext:
    plan: SchoolPlan
    load_ids: list[int]
    roster: list[list[int]]  # per load (plan order): its students
    classes: list[list[int]]  # per class (plan order): its students
    topics: dict[tuple[int, int], tuple[int, str]]  # (load id, position) → (plan topic id, title)
    kinds: dict[str, int]  # work kind ids by name
    today: date
    zone: zoneinfo.ZoneInfo


def _illnesses(rng: random.Random, classes: list[list[int]], days: list[date]) -> dict[tuple[int, date], set[int]]:
    """(class index, day) → students off sick: spells of 2–5 school days."""
    ill: dict[tuple[int, date], set[int]] = {}
    for class_index, students in enumerate(classes):
        for start in range(len(days)):
            for student in students:
                if rng.random() < 0.012:
                    for day in days[start:start + rng.randint(2, 5)]:
                        ill.setdefault((class_index, day), set()).add(student)
    return ill


def _journal_rows(ctx: _JournalContext, lessons: Sequence[dict[str, Any]], seed: str) -> _Journal:
    """The journal of the lessons held in the last three weeks before today (today's are the teacher's to fill)."""
    rng = random.Random(seed)  # noqa: S311 - made-up journal, not secrets
    first = ctx.today - JOURNAL_BEHIND
    load_index = {load_id: i for i, load_id in enumerate(ctx.load_ids)}
    ordinal: dict[int, int] = {}
    ends = {number: ends for number, _, ends in _bells()}
    held = sorted((row for row in lessons if row["on_date"] < ctx.today),
                  key=lambda r: (r["on_date"], r["lesson_number"], r["teaching_load_id"]))
    days = sorted({row["on_date"] for row in held if row["on_date"] >= first})
    ill = _illnesses(rng, ctx.classes, days)
    journal = _Journal()
    for row in held:
        load_id = row["teaching_load_id"]
        ordinal[load_id] = n = ordinal.get(load_id, 0) + 1
        if row["on_date"] < first:
            continue
        index = load_index[load_id]
        load = ctx.plan.loads[index]
        grade = ctx.plan.classes[load.class_index].grade
        students = ctx.roster[index]
        lesson_id, teacher_id, day = row["id"], row["teacher_id"], row["on_date"]
        ended = datetime.combine(day, ends[row["lesson_number"]], ctx.zone)
        written = ended + timedelta(minutes=rng.randint(2, 40))
        topic_id, title = ctx.topics.get((load_id, n), (None, None))
        homework = homework_text(load.subject, n)
        journal.records.append({
            "lesson_id": lesson_id, "topic": title, "plan_topic_id": topic_id, "homework": homework,
            "no_homework": homework is None, "attendance_taken": True, "author_id": teacher_id,
            "homework_set_at": written, "updated_at": written})
        sick = ill.get((load.class_index, day), set())
        away: dict[int, tuple[str, str | None, int | None]] = {
            student: ("absent", "illness", None) for student in students if student in sick}
        for status, reason, odds in (("absent", "unexcused", 0.04), ("absent", "excused", 0.03), ("late", None, 0.06)):
            if rng.random() < odds:
                minutes = rng.randint(2, 15) if status == "late" else None
                away.setdefault(rng.choice(students), (status, reason, minutes))
        journal.attendance += [
            {"lesson_id": lesson_id, "student_id": student, "status": status, "reason": reason,
             "late_minutes": minutes, "author_id": teacher_id, "updated_at": written}
            for student, (status, reason, minutes) in away.items()]
        if grade in NO_MARKS_GRADES:
            continue
        present = [s for s in students if away.get(s, ("",))[0] != "absent"]
        check = check_work(load.subject, n)
        if check is not None:
            kind, marked = ctx.kinds[check], [s for s in present if rng.random() < 0.9]
        else:
            kind, marked = ctx.kinds[rng.choice(_ORAL_KINDS)], rng.sample(present, min(len(present), rng.randint(2, 4)))
        journal.marks += [
            {"lesson_id": lesson_id, "student_id": student, "work_kind_id": kind,
             "value": rng.choices(_VALUES, _ODDS)[0], "author_id": teacher_id,
             "created_at": ended + timedelta(minutes=rng.randint(0, 120) if check is None else rng.randint(180, 420))}
            for student in marked]
    return journal


async def _lessons_ahead(session: AsyncSession, spec: _SchoolSpec) -> None:
    """A demo filled on an earlier day: lessons from the timetable until two weeks after today again (within the
    study periods), so a teacher always finds the day's lessons; the journal of those days stays empty."""
    last_lesson = await session.scalar(select(func.max(Lesson.on_date)))
    periods_end = await session.scalar(select(func.max(StudyPeriod.end_date)))
    if last_lesson is None or periods_end is None:
        return
    until = min(_school_today(spec.time_zone) + LESSONS_AHEAD, periods_end)
    if until > last_lesson:
        await generate_lessons(session, last_lesson + timedelta(days=1), until)


async def _fill_school(db: Database, spec: _SchoolSpec, school_id: int, schema: str, *, fresh: dict[str, str],
                       multi_teacher: _Person | None) -> bool:
    """Fill an empty school and create its demo accounts, in one transaction; False if it was filled before."""
    async with db.transaction(schema) as session:
        audit.set_actor(session, audit.Actor.system("demo"))
        if await session.scalar(select(func.count()).select_from(ClassUnit)):
            await _lessons_ahead(session, spec)
            return False
        start = _school_year_start(spec.time_zone)
        classes = _classes(spec)
        plan = plan_school(classes)
        people = _people(spec, start.year, classes, len(plan.teachers))
        if multi_teacher is not None:
            people.teachers[_multi_teacher_index(plan)] = multi_teacher

        year_id, periods, holidays = await _calendar(session, start.year)
        await add_bell_schedule(session, name="Основное расписание", bells=_bells(), is_default=True)
        subject_ids = await _subjects(session)

        staff_ids = await _insert_people(session, [people.director, people.deputy_head, *people.teachers], "staff")
        deputy_id, teacher_ids = staff_ids[1], staff_ids[2:]
        class_ids = [row["id"] for row in await audit.insert_rows(session, ClassUnit, [
            {"grade": unit.grade, "letter": unit.letter, "class_teacher_id": teacher_ids[plan.class_teachers[i]]}
            for i, unit in enumerate(plan.classes)
        ])]
        students = [student for pairs in people.classes for student, _ in pairs]
        guardians = [guardian for pairs in people.classes for _, guardian in pairs]
        student_ids = await _insert_people(session, students, "student")
        guardian_ids = await _insert_people(session, guardians, "guardian")
        await audit.insert_rows(session, Guardianship, [
            {"guardian_id": guardian_id, "student_id": student_id}
            for guardian_id, student_id in zip(guardian_ids, student_ids, strict=True)
        ])
        await audit.insert_rows(session, Enrollment, [
            {"student_id": student_ids[c * _STUDENTS_PER_CLASS + s], "class_unit_id": class_id, "start_date": start}
            for c, class_id in enumerate(class_ids) for s in range(_STUDENTS_PER_CLASS)
        ])

        # English halves: the first half of the class list in group 1, the rest in group 2.
        halves = sorted({(load.class_index, load.subject, load.subgroup) for load in plan.loads if load.subgroup})
        group_rows = await audit.insert_rows(session, StudyGroup, [
            {"name": f"{plan.classes[c].name}, {subject}, группа {half}", "kind": "subgroup",
             "class_unit_id": class_ids[c], "subject_id": subject_ids[subject]}
            for c, subject, half in halves
        ])
        group_ids = {key: row["id"] for key, row in zip(halves, group_rows, strict=True)}
        cut = (_STUDENTS_PER_CLASS + 1) // 2
        await audit.insert_rows(session, GroupMembership, [
            {"group_id": group_id, "student_id": student_ids[c * _STUDENTS_PER_CLASS + s], "start_date": start}
            for (c, _, half), group_id in group_ids.items()
            for s in (range(cut) if half == 1 else range(cut, _STUDENTS_PER_CLASS))
        ])
        load_rows = await audit.insert_rows(session, TeachingLoad, [
            {"academic_year_id": year_id, "teacher_id": teacher_ids[load.teacher],
             "subject_id": subject_ids[load.subject], "hours_per_week": load.hours,
             "class_unit_id": None if load.subgroup else class_ids[load.class_index],
             "group_id": group_ids[(load.class_index, load.subject, load.subgroup)] if load.subgroup else None}
            for load in plan.loads
        ])
        entries = await audit.insert_rows(session, TimetableEntry, [
            {"teaching_load_id": load_rows[slot.load]["id"], "weekday": slot.weekday,
             "lesson_number": slot.lesson_number, "room": slot.room, "valid_from": start, "valid_to": None}
            for slot in plan.slots
        ])
        topic_rows = await audit.insert_rows(session, PlanTopic, [
            {"teaching_load_id": row["id"], "position": n, "title": title, "hours": 1}
            for load, row in zip(plan.loads, load_rows, strict=True)
            for n, title in enumerate(topic_titles(load.subject, load.hours * YEAR_WEEKS), 1)
        ])
        today = _school_today(spec.time_zone)
        lessons = await audit.insert_rows(session, Lesson,
                                          _lesson_rows(plan, entries, load_rows, periods, holidays, today=today))

        # The journal of the past three weeks.
        def roster(load_index: int) -> list[int]:
            load = plan.loads[load_index]
            first = load.class_index * _STUDENTS_PER_CLASS
            places = range(_STUDENTS_PER_CLASS) if not load.subgroup else (
                range(cut) if load.subgroup == 1 else range(cut, _STUDENTS_PER_CLASS))
            return [student_ids[first + s] for s in places]

        context = _JournalContext(
            plan, [row["id"] for row in load_rows], [roster(i) for i in range(len(plan.loads))],
            [student_ids[c * _STUDENTS_PER_CLASS:(c + 1) * _STUDENTS_PER_CLASS] for c in range(len(plan.classes))],
            {(row["teaching_load_id"], row["position"]): (row["id"], row["title"]) for row in topic_rows},
            dict((await session.execute(select(WorkKind.name, WorkKind.id))).tuples().all()),
            today, zoneinfo.ZoneInfo(spec.time_zone))
        journal = _journal_rows(context, lessons, f"journal-demo:{spec.slug}:journal")
        await audit.insert_rows(session, LessonRecord, journal.records)
        await audit.insert_rows(session, Attendance, journal.attendance)
        await audit.insert_rows(session, Mark, journal.marks)

        account_class = classes.index(_ACCOUNT_CLASS)
        first_student = account_class * _STUDENTS_PER_CLASS
        n = spec.number
        for login, person_id, roles in (
            (f"demo{n}-admin", deputy_id, ["administrator", "deputy_head"]),
            (f"demo{n}-teacher", teacher_ids[plan.class_teachers[account_class]],
             ["teacher", "class_teacher"]),
            (f"demo{n}-parent", guardian_ids[first_student], ["parent"]),
            (f"demo{n}-student", student_ids[first_student], ["student"]),
        ):
            await _member(session, await _account(session, login, fresh), school_id, person_id, roles)
        if spec.slug in _MULTI_TEACHER_SCHOOLS:
            account_id = await _account(session, _MULTI_TEACHER_LOGIN, fresh)
            await _member(session, account_id, school_id, teacher_ids[_multi_teacher_index(plan)], ["teacher"])
        session.add(PlatformAudit(actor=ACTOR, action="demo.school_filled", school_id=school_id,
                                  detail={"slug": spec.slug}))
    return True


# --- the region ---------------------------------------------------------------------------------------------


async def _region_and_municipalities(db: Database) -> list[int]:
    async with db.transaction() as session:
        region_id = await session.scalar(select(Region.id).where(Region.code == DEMO_REGION_CODE))
        if region_id is None:
            region_id = await session.scalar(
                insert(Region).values(code=DEMO_REGION_CODE, name=DEMO_REGION_NAME).returning(Region.id)
            )
            session.add(PlatformAudit(actor=ACTOR, action="demo.region_created", detail={"code": DEMO_REGION_CODE}))
        ids = []
        for name in _MUNICIPALITIES:
            municipality_id = await session.scalar(
                select(Municipality.id).where(Municipality.region_id == region_id, Municipality.name == name)
            )
            if municipality_id is None:
                municipality_id = await session.scalar(
                    insert(Municipality).values(region_id=region_id, name=name).returning(Municipality.id)
                )
            assert municipality_id is not None
            ids.append(municipality_id)
        return ids


async def _demo_school(db: Database, spec: _SchoolSpec, municipality_ids: list[int]) -> tuple[int, str, str | None]:
    """(id, schema, new admin invite code or None) of the demo school `spec`, creating it if missing."""
    async with db.platform_session() as session:
        row = (await session.execute(
            select(School.id, School.schema_name, School.municipality_id).where(School.slug == spec.slug)
        )).one_or_none()
    if row is None:
        made = await create_school(db, municipality_id=municipality_ids[spec.municipality], slug=spec.slug,
                                   name=spec.name, time_zone=spec.time_zone, actor=ACTOR)
        return made.id, made.schema, made.admin_invite_code
    school_id, schema, municipality_id = row
    if municipality_id not in municipality_ids or schema is None:
        raise DemoError(f"a school with slug {spec.slug!r} exists outside the demonstration region; "
                        "start without the demo (--no-demo) or use another database")
    return school_id, schema, None


async def _new_admin_invite(db: Database, school_id: int) -> str:
    code = new_invite_code()
    async with db.transaction() as session:
        session.add(Invite(code_hash=invite_code_hash(code), school_id=school_id, role="administrator",
                           expires_at=datetime.now(UTC) + ADMIN_INVITE_VALID_FOR))
        session.add(PlatformAudit(actor=ACTOR, action="demo.invite_reissued", school_id=school_id, detail={}))
    return code


async def _reset_passwords(db: Database, logins: Sequence[str]) -> dict[str, str]:
    fresh = {login: _new_password() for login in logins}
    hashes = await asyncio.gather(*(_hash(password) for password in fresh.values()))
    async with db.transaction() as session:
        for login, password_hash in zip(fresh, hashes, strict=True):
            await session.execute(update(Account).where(Account.login == login).values(password_hash=password_hash))
    return fresh


async def create_demo_region(db: Database, *, settings: Settings, previous: DemoInfo | None = None) -> DemoInfo:
    """Create whatever of the demonstration region is missing and describe all of it.

    Secrets (passwords, invite codes) appear in the result when this call made them or `previous` had them.
    With `previous` given, a demo account or school whose secret it lacks gets a fresh one, so the caller can
    always show working logins; without it, existing accounts are left alone.
    """
    known_passwords = {login.login: login.password for login in previous.logins if login.password} if previous else {}
    known_codes = {s.slug: s.admin_invite_code for s in previous.schools if s.admin_invite_code} if previous else {}
    async with db.engine.connect() as lock:
        await lock.execute(select(func.pg_advisory_lock(_LOCK_KEY)))
        try:
            municipality_ids = await _region_and_municipalities(db)
            fresh_passwords: dict[str, str] = {}
            codes: dict[str, str] = {}
            created = False
            multi_teacher = _multi_teacher()
            for spec in _SCHOOLS:
                school_id, schema, code = await _demo_school(db, spec, municipality_ids)
                if code is not None:
                    codes[spec.slug] = code
                    created = True
                elif previous is not None and spec.slug not in known_codes:
                    codes[spec.slug] = await _new_admin_invite(db, school_id)
                second_school = spec.slug in _MULTI_TEACHER_SCHOOLS[1:]
                if await _fill_school(db, spec, school_id, schema, fresh=fresh_passwords,
                                      multi_teacher=multi_teacher if second_school else None):
                    created = True
            if previous is not None:
                unknown = [d.login for d in _demo_logins() if d.login not in known_passwords | fresh_passwords]
                fresh_passwords |= await _reset_passwords(db, unknown)
        finally:
            await lock.execute(select(func.pg_advisory_unlock(_LOCK_KEY)))
    passwords = known_passwords | fresh_passwords
    all_codes = known_codes | codes
    return DemoInfo(
        region=DEMO_REGION_NAME,
        schools=tuple(
            DemoSchool(spec.slug, spec.name, spec.time_zone, _MUNICIPALITIES[spec.municipality],
                       all_codes.get(spec.slug))
            for spec in _SCHOOLS
        ),
        logins=tuple(replace(login, password=passwords.get(login.login)) for login in _demo_logins()),
        created=created,
        secrets_issued=bool(fresh_passwords or codes),
        base_url=settings.public_url,
    )
