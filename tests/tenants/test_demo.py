"""The demonstration region: three filled schools, working logins, and idempotent on every later call."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import and_, exists, func, select

from services import audit
from services.calendar.models import AcademicYear, Holiday, StudyPeriod
from services.config import Settings
from services.db import Database
from services.identity.models import Account, Invite, Membership
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
    TeachingLoad,
)
from services.structure.repository import classes_with_counts
from services.timetable.models import Bell, BellSchedule, Lesson, TimetableEntry
from services.timetable.service import entry_conflicts, generate_lessons
from tenants.demo import DEMO_REGION_CODE, DemoInfo, DemoLogin, create_demo_region
from tenants.provisioning import invite_code_hash


async def _counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with db.platform_session() as session:
        for model in (Region, Municipality, School, Account, Membership, Invite):
            counts[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        schemas = (await session.execute(select(School.schema_name).where(School.slug.like("demo-%")))).scalars()
        for schema in schemas:
            async with db.school_session(schema or "") as school:
                for name, table in (("person", Person), ("class_unit", ClassUnit), ("enrollment", Enrollment)):
                    counts[f"{schema}.{name}"] = int(
                        await school.scalar(select(func.count()).select_from(table)) or 0
                    )
    return counts


async def _check_school(db: Database, slug: str, schema: str, time_zone: str) -> None:
    async with db.school_session(schema) as session:
        classes = await classes_with_counts(session, date.today())
        kinds = dict((await session.execute(
            select(Person.kind, func.count()).group_by(Person.kind)
        )).tuples().all())
        grades = {unit.grade: 0 for unit, _ in classes}
        for unit, _ in classes:
            grades[unit.grade] += 1
        assert sorted(grades) == list(range(1, 12))
        assert all(count >= 2 for count in grades.values())
        assert (grades[5], grades[10]) == ((3, 3) if slug == "demo-1" else (2, 2))
        assert all(students == 25 for _, students in classes), classes
        assert kinds["student"] == 25 * len(classes)
        assert kinds["guardian"] == kinds["student"]
        assert kinds["staff"] >= 25
        teachers = [unit.class_teacher_id for unit, _ in classes]
        assert None not in teachers
        assert len(set(teachers)) == len(teachers), "one class per class teacher"

        # Every student has a guardian; every class has its load; English in two halves with two teachers.
        orphans = await session.scalar(select(func.count()).select_from(Person).where(
            Person.kind == "student", ~exists().where(Guardianship.student_id == Person.id)))
        assert orphans == 0
        whole = set((await session.execute(select(TeachingLoad.class_unit_id))).scalars())
        assert {unit.id for unit, _ in classes} <= whole
        halves = (await session.execute(
            select(StudyGroup.class_unit_id, TeachingLoad.teacher_id, func.count(GroupMembership.id))
            .join(TeachingLoad, TeachingLoad.group_id == StudyGroup.id)
            .join(GroupMembership, GroupMembership.group_id == StudyGroup.id)
            .where(StudyGroup.kind == "subgroup")
            .group_by(StudyGroup.id, StudyGroup.class_unit_id, TeachingLoad.teacher_id)
        )).tuples().all()
        by_class: dict[int | None, list[tuple[int, int]]] = {}
        for class_id, teacher_id, members in halves:
            by_class.setdefault(class_id, []).append((teacher_id, members))
        assert len(by_class) == sum(count for grade, count in grades.items() if grade >= 5)
        for pair in by_class.values():
            assert len(pair) == 2
            assert pair[0][0] != pair[1][0]
            assert sum(members for _, members in pair) == 25

        # КТП: as many hours as the load's weekly hours × 34, for every load item.
        topics = (await session.execute(
            select(TeachingLoad.hours_per_week, func.coalesce(func.sum(PlanTopic.hours), 0))
            .outerjoin(PlanTopic, PlanTopic.teaching_load_id == TeachingLoad.id)
            .group_by(TeachingLoad.id)
        )).tuples().all()
        assert topics
        assert all(hours * 34 == total for hours, total in topics), topics[:5]

        # The weekly timetable: Monday to Friday, and a sample of entries clashes with nothing.
        entries = (await session.execute(select(TimetableEntry).order_by(TimetableEntry.id))).scalars().all()
        assert {e.weekday for e in entries} == {1, 2, 3, 4, 5}
        year_start = min(e.valid_from for e in entries)
        assert (year_start.month, year_start.day) == (9, 1)
        for entry in entries[:: max(1, len(entries) // 40)]:
            assert await entry_conflicts(
                session, teaching_load_id=entry.teaching_load_id, weekday=entry.weekday,
                lesson_number=entry.lesson_number, room=entry.room, valid_from=entry.valid_from,
                valid_to=entry.valid_to, exclude_entry_id=entry.id) == []

        # Year, periods, holidays and bells.
        year = (await session.execute(select(AcademicYear))).scalar_one()
        assert (year.start_date, year.end_date) == (year_start, date(year_start.year + 1, 5, 31))
        periods = (await session.execute(select(StudyPeriod))).scalars().all()
        assert {(p.kind, p.number) for p in periods} >= {("quarter", 1), ("quarter", 4), ("half", 1), ("half", 2)}
        holidays = (await session.execute(select(Holiday))).scalars().all()
        assert len(holidays) >= 3
        bells = (await session.execute(
            select(Bell).join(BellSchedule, BellSchedule.id == Bell.bell_schedule_id)
            .where(BellSchedule.is_default).order_by(Bell.number)
        )).scalars().all()
        assert (bells[0].starts, bells[0].ends) == (dt_time(8, 30), dt_time(9, 15))
        assert (bells[1].starts, bells[2].starts) == (dt_time(9, 25), dt_time(10, 30))
        assert len(bells) >= 7
        assert max(e.lesson_number for e in entries) <= len(bells)

        # Lessons: in the first week of September on school days only, none on holidays, and they are exactly
        # what generate_lessons would make from 1 September until two weeks after the school's today (within
        # the study periods).
        first_week = [year_start + timedelta(days=n) for n in range(7)]
        days = set((await session.execute(
            select(Lesson.on_date).where(Lesson.on_date <= first_week[-1]).distinct()
        )).scalars())
        assert days == {d for d in first_week if d.isoweekday() <= 5}
        on_holiday = await session.scalar(
            select(func.count()).select_from(Lesson)
            .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
            .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
            .join(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id, StudyGroup.class_unit_id))
            .join(Holiday, and_(Lesson.on_date.between(Holiday.start_date, Holiday.end_date),
                                ClassUnit.grade.between(Holiday.grade_from, Holiday.grade_to)))
        )
        assert on_holiday == 0
        today = datetime.now(ZoneInfo(time_zone)).date()
        horizon = min(today + timedelta(days=14), max(p.end_date for p in periods))
        last = await session.scalar(select(func.max(Lesson.on_date)))
        assert last is not None
        assert last <= horizon
        assert horizon - last < timedelta(days=12), "lessons go on until two weeks after today"
        assert await generate_lessons(session, year_start, horizon) == 0

        # The journal of the last three weeks: every lesson held has its topic from the КТП and attendance taken,
        # marks are on held lessons only and valid; today's lessons and later ones are empty.
        window = today - timedelta(days=21)
        held = (await session.execute(
            select(Lesson.id, LessonRecord.lesson_id, LessonRecord.plan_topic_id, LessonRecord.attendance_taken,
                   LessonRecord.homework, LessonRecord.no_homework)
            .outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
            .where(Lesson.on_date >= window, Lesson.on_date < today)
        )).tuples().all()
        if held:
            assert all(record is not None and topic is not None and taken and (homework or no_homework)
                       for _, record, topic, taken, homework, no_homework in held)
            marks = (await session.execute(select(Mark.value, Lesson.on_date).join(Lesson, Lesson.id == Mark.lesson_id)
                                           )).tuples().all()
            assert len(marks) >= len(held), "a few marks per lesson"
            assert {value for value, _ in marks} <= {"5", "4", "3", "2"}
            assert all(window <= on < today for _, on in marks)
            absences = (await session.execute(select(Attendance.status, Attendance.reason))).tuples().all()
            assert {"illness", "unexcused"} <= {reason for _, reason in absences}
            assert len(absences) < len(held) * 4, "a few absences per lesson, not whole classes"
        assert not await session.scalar(select(func.count()).select_from(LessonRecord).join(
            Lesson, Lesson.id == LessonRecord.lesson_id).where(Lesson.on_date >= today))
        await session.rollback()


async def _check_accounts(db: Database, schema: str, n: int, people: dict[tuple[str, str], int | None]) -> None:
    """The teacher is class teacher of 5А and teaches it; the parent's child and the student are in 5А."""
    slug = f"demo-{n}"
    async with db.school_session(schema) as session:
        five_a = (await session.execute(
            select(ClassUnit).where(ClassUnit.grade == 5, ClassUnit.letter == "А"))).scalar_one()
        teacher = people[(f"demo{n}-teacher", slug)]
        assert five_a.class_teacher_id == teacher
        assert await session.scalar(select(func.count()).select_from(TeachingLoad).where(
            TeachingLoad.teacher_id == teacher, TeachingLoad.class_unit_id == five_a.id))
        pupils = set((await session.execute(
            select(Enrollment.student_id).where(Enrollment.class_unit_id == five_a.id))).scalars())
        assert people[(f"demo{n}-student", slug)] in pupils
        children = set((await session.execute(select(Guardianship.student_id).where(
            Guardianship.guardian_id == people[(f"demo{n}-parent", slug)]))).scalars())
        assert children
        assert children <= pupils
        kinds = dict((await session.execute(select(Person.id, Person.kind).where(Person.id.in_(
            [people[(f"demo{n}-{role}", slug)] for role in ("admin", "teacher", "parent", "student")]
        )))).tuples().all())
        assert sorted(kinds.values()) == ["guardian", "staff", "staff", "student"]

        # Logging in today, the teacher finds today's lessons (on a school day) and marks in the journal.
        zone = await session.scalar(select(School.time_zone).where(School.slug == slug))
        assert zone is not None
        today = datetime.now(ZoneInfo(zone)).date()
        own = select(TeachingLoad.id).where(TeachingLoad.teacher_id == teacher)
        holiday = await session.scalar(select(func.count()).select_from(Holiday).where(
            Holiday.start_date <= today, Holiday.end_date >= today, Holiday.grade_from <= 5, Holiday.grade_to >= 5))
        periods = (await session.execute(select(StudyPeriod.start_date, StudyPeriod.end_date))).tuples().all()
        teaches_today = await session.scalar(select(func.count()).select_from(TimetableEntry).where(
            TimetableEntry.teaching_load_id.in_(own), TimetableEntry.weekday == today.isoweekday()))
        school_day = not holiday and teaches_today and any(s <= today <= e for s, e in periods)
        today_lessons = await session.scalar(select(func.count()).select_from(Lesson).where(
            Lesson.teacher_id == teacher, Lesson.on_date == today))
        if school_day:
            assert today_lessons == teaches_today
        marks = await session.scalar(select(func.count()).select_from(Mark).join(Lesson, Lesson.id == Mark.lesson_id)
                                     .where(Lesson.teaching_load_id.in_(own)))
        if any(s <= today - timedelta(days=7) and today <= e for s, e in periods):
            assert marks, "the teacher's journal has marks of the past weeks"


async def test_demo_region_is_filled_once(db: Database, settings: Settings) -> None:
    started = time.perf_counter()
    info = await create_demo_region(db, settings=settings)
    elapsed = time.perf_counter() - started
    assert info.created
    assert elapsed < 60, f"demo creation took {elapsed:.1f} s"  # about 12 s on the development machine

    async with db.platform_session() as session:
        region = (await session.execute(select(Region).where(Region.code == DEMO_REGION_CODE))).scalar_one()
        assert region.name == "Демонстрационная область"
        municipalities = (await session.execute(
            select(Municipality.id).where(Municipality.region_id == region.id)
        )).scalars().all()
        assert len(municipalities) == 2
        schools = (await session.execute(
            select(School).where(School.municipality_id.in_(municipalities)).order_by(School.slug)
        )).scalars().all()
    assert [s.slug for s in schools] == ["demo-1", "demo-2", "demo-3"]
    assert len({s.time_zone for s in schools}) == 3
    assert all(s.status == "active" for s in schools)

    for school in schools:
        assert school.schema_name
        await _check_school(db, school.slug, school.schema_name, school.time_zone)

    # Every login has a password that verifies, and memberships carry the roles.
    assert all(login.password for login in info.logins)
    assert len({login.password for login in info.logins}) == len(info.logins)
    hasher = PasswordHasher()
    async with db.platform_session() as session:
        for login in info.logins:
            account = (await session.execute(select(Account).where(Account.login == login.login))).scalar_one()
            assert login.password is not None
            assert account.password_hash is not None
            assert hasher.verify(account.password_hash, login.password)
        rows = (await session.execute(
            select(Account.login, School.slug, Membership.roles, Membership.person_id)
            .join(Membership, Membership.account_id == Account.id)
            .join(School, School.id == Membership.school_id)
            .where(Account.login.like("demo%"))
        )).tuples().all()
        for demo_school in info.schools:
            assert demo_school.admin_invite_code
            invite = (await session.execute(
                select(Invite).where(Invite.code_hash == invite_code_hash(demo_school.admin_invite_code))
            )).scalar_one()
            assert invite.role == "administrator"
    roles = {(login, slug): set(r) for login, slug, r, _ in rows}
    assert all(person_id is not None for *_, person_id in rows)
    assert roles[("demo1-admin", "demo-1")] >= {"administrator"}
    assert roles[("demo2-teacher", "demo-2")] >= {"teacher", "class_teacher"}
    assert roles[("demo3-parent", "demo-3")] == {"parent"}
    assert roles[("demo1-student", "demo-1")] == {"student"}
    multi = {slug for login, slug in roles if login == "demo-teacher-2schools"}
    assert multi == {"demo-1", "demo-2"}, "one teacher account works in two schools (R-ROLE-6)"
    people = {(login, slug): person_id for login, slug, _, person_id in rows}
    schemas = {s.slug: s.schema_name or "" for s in schools}
    for n in (1, 2, 3):
        await _check_accounts(db, schemas[f"demo-{n}"], n, people)
    for slug in ("demo-1", "demo-2"):
        async with db.school_session(schemas[slug]) as session:
            assert await session.scalar(select(func.count()).select_from(TeachingLoad).where(
                TeachingLoad.teacher_id == people[("demo-teacher-2schools", slug)])), slug

    # The saved form round-trips.
    restored = DemoInfo.from_json(info.to_json())
    assert (restored.region, restored.schools, restored.logins) == (info.region, info.schools, info.logins)

    # A second call creates nothing and changes no secret.
    before = await _counts(db)
    again = await create_demo_region(db, settings=settings)
    assert not again.created
    assert not again.secrets_issued
    assert await _counts(db) == before
    assert [s.slug for s in again.schools] == ["demo-1", "demo-2", "demo-3"]
    assert all(login.password is None for login in again.logins)

    # Given the saved result, a call keeps its secrets; given a result missing one, it issues a fresh one.
    saved = DemoInfo.from_json(info.to_json())
    kept = await create_demo_region(db, settings=settings, previous=saved)
    assert not kept.created
    assert not kept.secrets_issued
    assert kept.logins == info.logins
    assert await _counts(db) == before

    lost = DemoInfo(saved.region, saved.schools, tuple(
        login if login.login != "demo2-parent" else DemoLogin("demo2-parent", login.role, login.schools)
        for login in saved.logins
    ))
    renewed = await create_demo_region(db, settings=settings, previous=lost)
    assert renewed.secrets_issued
    new_password = next(login.password for login in renewed.logins if login.login == "demo2-parent")
    assert new_password
    assert new_password != next(login.password for login in info.logins if login.login == "demo2-parent")
    async with db.platform_session() as session:
        stored = await session.scalar(select(Account.password_hash).where(Account.login == "demo2-parent"))
    assert stored is not None
    assert hasher.verify(stored, new_password)


    # A demo made on an earlier day: the next start adds lessons until two weeks after today again.
    async with db.transaction(schemas["demo-1"]) as session:
        audit.set_actor(session, audit.Actor.system("tests"))
        lessons = await session.scalar(select(func.count()).select_from(Lesson))
        cut = datetime.now(ZoneInfo("Europe/Moscow")).date() + timedelta(days=7)
        for lesson in (await session.execute(select(Lesson).where(Lesson.on_date > cut))).scalars():
            await session.delete(lesson)
    await create_demo_region(db, settings=settings)
    async with db.school_session(schemas["demo-1"]) as session:
        assert await session.scalar(select(func.count()).select_from(Lesson)) == lessons
