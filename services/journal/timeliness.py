"""Timeliness of the journal (R-REP-2), in the school's time zone, kept as indicators for the deputy head's
control reports:

* a lesson without its topic or attendance by the end of its day (found by the scheduler's pass over the
  previous days; `done_at` is filled once the entry is made);
* homework set more than N hours (school data, default 2) after the teacher's last lesson of the day;
* a mark for written work entered more than 7 days (school data) after the lesson.

The last two are judged when the entry is saved, by the worker that handles the journal's outbox event.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.grading.models import WorkKind
from services.journal.models import Lateness, LessonRecord, Mark
from services.journal.settings import journal_settings
from services.timetable.models import Bell, BellSchedule, Lesson


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), zone)


async def _existing(session: AsyncSession, lesson_id: int, kind: str, mark_id: int | None = None) -> Lateness | None:
    query = select(Lateness).where(Lateness.lesson_id == lesson_id, Lateness.kind == kind)
    query = query.where(Lateness.mark_id == mark_id if mark_id is not None else Lateness.mark_id.is_(None))
    found: Lateness | None = await session.scalar(query)
    return found


async def _note(session: AsyncSession, lesson: Lesson, kind: str, *, due_at: datetime, done_at: datetime | None,
                mark_id: int | None = None) -> None:
    if await _existing(session, lesson.id, kind, mark_id) is None:
        session.add(Lateness(lesson_id=lesson.id, kind=kind, teacher_id=lesson.teacher_id, mark_id=mark_id,
                             due_at=due_at, done_at=done_at))


async def detect_missing(session: AsyncSession, time_zone: str, day: date) -> int:
    """Record every lesson of `day` that had no topic or no attendance when the day ended, and mark as done
    those since completed; idempotent. Returns how many indicators were added."""
    zone = ZoneInfo(time_zone)
    if datetime.now(zone).date() <= day:
        return 0  # the day is not over in the school
    due = _end_of_day(day, zone)
    rows = await session.execute(
        select(Lesson, LessonRecord).outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
        .where(Lesson.on_date == day, Lesson.status == "planned"))
    added = 0
    for lesson, record in rows.tuples():
        for kind, done in (("topic_missing", record is not None and bool(record.topic)),
                           ("attendance_missing", record is not None and record.attendance_taken)):
            existing = await _existing(session, lesson.id, kind)
            if existing is None and (not done or (record is not None and record.updated_at > due)):
                session.add(Lateness(lesson_id=lesson.id, kind=kind, teacher_id=lesson.teacher_id, due_at=due,
                                     done_at=record.updated_at if done and record is not None else None))
                added += 1
            elif existing is not None and existing.done_at is None and done and record is not None:
                existing.done_at = record.updated_at
    await session.flush()
    return added


async def homework_deadline(session: AsyncSession, lesson: Lesson, time_zone: str, hours: int) -> datetime:
    """N hours after the end of the teacher's last lesson that day (the lesson's own day end without bells)."""
    zone = ZoneInfo(time_zone)
    last = await session.scalar(select(func.max(Lesson.lesson_number)).where(
        Lesson.teacher_id == lesson.teacher_id, Lesson.on_date == lesson.on_date, Lesson.status == "planned"))
    ends = await session.scalar(select(Bell.ends).join(BellSchedule, BellSchedule.id == Bell.bell_schedule_id)
                                .where(BellSchedule.is_default, Bell.number == (last or lesson.lesson_number)))
    if ends is None:
        return _end_of_day(lesson.on_date, zone)
    return datetime.combine(lesson.on_date, ends, zone) + timedelta(hours=hours)


async def judge_entry(session: AsyncSession, time_zone: str, lesson_id: int, student_id: int | None = None) -> None:
    """After a journal write: late homework, late written-work marks, and missing entries now made."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        return
    settings = await journal_settings(session)
    zone = ZoneInfo(time_zone)
    record = await session.get(LessonRecord, lesson_id)
    if record is not None:
        if record.homework_set_at is not None:
            deadline = await homework_deadline(session, lesson, time_zone, settings.homework_deadline_hours)
            if record.homework_set_at > deadline:
                await _note(session, lesson, "homework_late", due_at=deadline, done_at=record.homework_set_at)
        for kind, done in (("topic_missing", bool(record.topic)), ("attendance_missing", record.attendance_taken)):
            existing = await _existing(session, lesson_id, kind)
            if existing is not None and existing.done_at is None and done:
                existing.done_at = record.updated_at
    if student_id is not None:
        due = _end_of_day(lesson.on_date, zone) + timedelta(days=settings.written_mark_days)
        late = await session.execute(select(Mark.id, Mark.created_at).join(WorkKind, WorkKind.id == Mark.work_kind_id)
                                     .where(Mark.lesson_id == lesson_id, Mark.student_id == student_id,
                                            WorkKind.is_written, Mark.created_at > due))
        for mark_id, created_at in late.tuples():
            await _note(session, lesson, "mark_late", due_at=due, done_at=created_at, mark_id=mark_id)
    await session.flush()


async def lateness_between(session: AsyncSession, start: date, end: date) -> list[tuple[Lateness, date]]:
    """Indicators of lessons from `start` to `end`, by date, for the control report."""
    rows = await session.execute(select(Lateness, Lesson.on_date).join(Lesson, Lesson.id == Lateness.lesson_id)
                                 .where(Lesson.on_date.between(start, end))
                                 .order_by(Lesson.on_date, Lesson.lesson_number, Lateness.kind))
    return list(rows.tuples())
