"""Timeliness indicators (R-REP-2) from `services.journal.timeliness`, on a real school schema: missing topic and
attendance at the end of the school's day, late and missing homework, late written-work marks, the time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.db import Database
from services.grading.models import WorkKind
from services.journal import timeliness
from services.journal.models import Lateness, LessonRecord, Mark
from services.journal.settings import update_journal_settings
from services.timetable.models import Lesson
from tests.conftest import MakeSchool, acting, school_writes
from tests.journal.conftest import JournalSchool, build_journal_school

MOSCOW = "Europe/Moscow"


@asynccontextmanager
async def judging(db: Database, journal: JournalSchool) -> AsyncIterator[AsyncSession]:
    """A transaction as the worker and the scheduler open one."""
    async with acting(db, journal.school.schema, audit.Actor.system("timeliness")) as session:
        yield session


async def indicators(db: Database, journal: JournalSchool, lesson: str | None = None) -> list[Lateness]:
    async with db.transaction(journal.school.schema) as s:
        query = select(Lateness).order_by(Lateness.lesson_id, Lateness.kind, Lateness.mark_id)
        if lesson is not None:
            query = query.where(Lateness.lesson_id == journal.lessons[lesson])
        return list((await s.scalars(query)).all())


def kinds(found: list[Lateness]) -> set[str]:
    return {x.kind for x in found}


def at(day: date, clock: time, zone: str = MOSCOW) -> datetime:
    return datetime.combine(day, clock, ZoneInfo(zone))


async def test_past_lessons_without_entries_are_flagged_today_is_not_and_again_adds_nothing(
        db: Database, journal: JournalSchool) -> None:
    yesterday, early = journal.today - timedelta(days=1), journal.today - timedelta(days=20)
    async with judging(db, journal) as s:
        assert await timeliness.detect_missing(s, MOSCOW, journal.today) == 0
        # Topic, attendance and homework: none was entered for either past lesson.
        assert await timeliness.detect_missing(s, MOSCOW, yesterday) == 3
        assert await timeliness.detect_missing(s, MOSCOW, early) == 3

    found = await indicators(db, journal)
    assert {x.lesson_id for x in found} == {journal.lessons["yesterday"], journal.lessons["early"]}
    assert kinds(await indicators(db, journal, "yesterday")) == {"topic_missing", "attendance_missing",
                                                                 "homework_late"}
    assert all(x.done_at is None and x.teacher_id == journal.teacher for x in found)
    topic = next(x for x in found if x.lesson_id == journal.lessons["yesterday"] and x.kind == "topic_missing")
    assert topic.due_at == at(journal.today, time(0))  # the school's midnight after the lesson's day
    homework = next(x for x in found if x.lesson_id == journal.lessons["yesterday"] and x.kind == "homework_late")
    assert homework.due_at == at(yesterday, time(10, 45))  # lesson 1 ends 08:45, plus 2 hours

    async with judging(db, journal) as s:
        for day in (yesterday, early, journal.today):
            assert await timeliness.detect_missing(s, MOSCOW, day) == 0
    assert len(await indicators(db, journal)) == len(found)


async def test_an_entry_made_late_gets_its_done_time(db: Database, journal: JournalSchool) -> None:
    yesterday, lesson = journal.today - timedelta(days=1), journal.lessons["yesterday"]
    async with judging(db, journal) as s:
        await timeliness.detect_missing(s, MOSCOW, yesterday)
    async with school_writes(db, journal.school.schema) as s:
        s.add(LessonRecord(lesson_id=lesson, topic="Дроби", no_homework=False, attendance_taken=False))
    async with judging(db, journal) as s:
        assert await timeliness.judge_entry(s, MOSCOW, lesson) == 0

    found = {x.kind: x for x in await indicators(db, journal, "yesterday")}
    assert found["topic_missing"].done_at is not None
    assert found["topic_missing"].done_at > found["topic_missing"].due_at
    assert found["attendance_missing"].done_at is None
    assert found["homework_late"].done_at is None


async def test_a_missing_entry_made_after_midnight_is_flagged_even_before_the_scan(
        db: Database, journal: JournalSchool) -> None:
    lesson = journal.lessons["yesterday"]
    async with school_writes(db, journal.school.schema) as s:
        s.add(LessonRecord(lesson_id=lesson, topic="Дроби", no_homework=True, attendance_taken=True,
                           homework_set_at=datetime.now(ZoneInfo(MOSCOW))))
    async with judging(db, journal) as s:
        assert await timeliness.judge_entry(s, MOSCOW, lesson) == 3
        assert await timeliness.detect_missing(s, MOSCOW, journal.today - timedelta(days=1)) == 0
    found = await indicators(db, journal, "yesterday")
    assert kinds(found) == {"topic_missing", "attendance_missing", "homework_late"}
    assert all(x.done_at is not None for x in found)


async def test_an_entry_made_in_time_and_corrected_after_the_day_is_not_late(
        db: Database, journal: JournalSchool) -> None:
    """`updated_at` moves with every correction; the audited history says when the entry was first made."""
    lesson = journal.lessons["today"]
    async with school_writes(db, journal.school.schema) as s:
        s.add(LessonRecord(lesson_id=lesson, topic="Дроби", homework="§5", no_homework=False,
                           attendance_taken=True, homework_set_at=at(journal.today, time(9))))
    async with school_writes(db, journal.school.schema) as s:
        record = await s.get(LessonRecord, lesson)
        assert record is not None
        # As if corrected the next morning (the history itself records this write at the real time, today).
        record.topic, record.updated_at = "Дроби и доли", at(journal.today + timedelta(days=1), time(8))
        record.homework, record.homework_set_at = "§5, № 3", at(journal.today + timedelta(days=1), time(8))

    after = at(journal.today + timedelta(days=1), time(9))
    async with judging(db, journal) as s:
        assert await timeliness.judge_entry(s, MOSCOW, lesson, now=after) == 0
        # The day's other lessons (Russian, 1А) have no entries at all: 3 indicators each.
        assert await timeliness.detect_missing(s, MOSCOW, journal.today, now=after) == 6
    assert await indicators(db, journal, "today") == []


async def test_homework_after_the_deadline_is_late_in_time_is_not(db: Database, journal: JournalSchool) -> None:
    """The teacher's last lesson today is the 3rd (1А, ends 10:45): homework is due by 12:45, not 10:45."""
    today_lesson = journal.lessons["today"]
    day_over = at(journal.today + timedelta(days=1), time(1))
    async with school_writes(db, journal.school.schema) as s:
        s.add(LessonRecord(lesson_id=today_lesson, topic="Дроби", homework="§5", no_homework=False,
                           attendance_taken=True, homework_set_at=at(journal.today, time(12, 30))))
        s.add(LessonRecord(lesson_id=journal.lessons["first_grade"], topic="Счёт", homework="с. 4",
                           no_homework=False, attendance_taken=True, homework_set_at=at(journal.today, time(13))))
    async with judging(db, journal) as s:
        assert await timeliness.judge_entry(s, MOSCOW, today_lesson, now=day_over) == 0
        assert await timeliness.judge_entry(s, MOSCOW, journal.lessons["first_grade"], now=day_over) == 1
    assert await indicators(db, journal, "today") == []
    late = await indicators(db, journal, "first_grade")
    assert [(x.kind, x.due_at, x.done_at) for x in late] == [
        ("homework_late", at(journal.today, time(12, 45)), at(journal.today, time(13)))]


async def test_the_homework_deadline_is_school_data(db: Database, journal: JournalSchool) -> None:
    async with school_writes(db, journal.school.schema) as s:
        await update_journal_settings(s, {"homework_deadline_hours": 4})
        s.add(LessonRecord(lesson_id=journal.lessons["today"], homework="§5", no_homework=False,
                           homework_set_at=at(journal.today, time(14))))
    async with judging(db, journal) as s:
        assert await timeliness.judge_entry(s, MOSCOW, journal.lessons["today"],
                                            now=at(journal.today, time(16))) == 0
    assert await indicators(db, journal, "today") == []


async def test_a_written_work_mark_entered_after_a_week_is_late(db: Database, journal: JournalSchool) -> None:
    early, student = journal.today - timedelta(days=20), journal.students[0]
    async with school_writes(db, journal.school.schema) as s:
        kind = {k.name: k.id for k in (await s.scalars(select(WorkKind))).all()}
        marks = [Mark(lesson_id=journal.lessons["early"], student_id=student, work_kind_id=kind[name], value="4",
                      created_at=made)
                 for name, made in (("Контрольная работа", at(early + timedelta(days=8), time(9))),
                                    ("Диктант", at(early + timedelta(days=7), time(23, 59))),
                                    ("Устный ответ", at(early + timedelta(days=9), time(9))))]
        s.add_all(marks)
    async with judging(db, journal) as s:
        await timeliness.judge_entry(s, MOSCOW, journal.lessons["early"], student)
        await timeliness.judge_entry(s, MOSCOW, journal.lessons["early"], student)  # delivered twice

    late = [x for x in await indicators(db, journal, "early") if x.kind == "mark_late"]
    assert [(x.mark_id, x.due_at, x.done_at) for x in late] == [
        (marks[0].id, at(early + timedelta(days=8), time(0)), at(early + timedelta(days=8), time(9)))]


async def test_the_end_of_the_day_is_the_schools_own_midnight(db: Database, make_school: MakeSchool) -> None:
    east = await build_journal_school(db, lambda: make_school(time_zone="Asia/Vladivostok"))
    west = await build_journal_school(db, lambda: make_school(time_zone="Europe/Kaliningrad"))
    day = east.today - timedelta(days=1)  # both schools have a maths lesson that day
    # 01:00 of the next day in Vladivostok (UTC+10) is 17:00 of the lesson's day in Kaliningrad (UTC+2).
    night_in_the_east = at(day + timedelta(days=1), time(1), "Asia/Vladivostok")
    after_midnight_in_the_west = at(day + timedelta(days=1), time(0, 30), "Europe/Kaliningrad")

    async with judging(db, east) as s:
        assert await timeliness.detect_missing(s, "Asia/Vladivostok", day, now=night_in_the_east) == 3
    async with judging(db, west) as s:
        assert await timeliness.detect_missing(s, "Europe/Kaliningrad", day, now=night_in_the_east) == 0
    assert await indicators(db, west) == []
    async with judging(db, west) as s:
        assert await timeliness.detect_missing(s, "Europe/Kaliningrad", day, now=after_midnight_in_the_west) == 3

    east_topic = next(x for x in await indicators(db, east) if x.kind == "topic_missing")
    west_topic = next(x for x in await indicators(db, west) if x.kind == "topic_missing")
    assert east_topic.due_at == at(day + timedelta(days=1), time(0), "Asia/Vladivostok")
    assert west_topic.due_at == at(day + timedelta(days=1), time(0), "Europe/Kaliningrad")
    assert west_topic.due_at - east_topic.due_at == timedelta(hours=8)


async def test_an_indicator_another_judge_just_recorded_is_not_recorded_twice(
        db: Database, journal: JournalSchool) -> None:
    """The race of the scheduler's scan with a worker: this judge read no indicator, the other committed one."""
    async with judging(db, journal) as s:
        assert await timeliness.detect_missing(s, MOSCOW, journal.today - timedelta(days=1)) == 3
    async with judging(db, journal) as s:
        lesson = await s.get(Lesson, journal.lessons["yesterday"])
        assert lesson is not None
        stale = timeliness._Lesson(s, lesson, None, indicators=[])
        due = at(journal.today, time(0))
        assert await stale.judge("topic_missing", due=due, now=due + timedelta(hours=1), in_time_by=None) is False
        # The transaction goes on after the refused insert.
        await update_journal_settings(s, {"written_mark_days": 10})
    assert len(await indicators(db, journal, "yesterday")) == 3
