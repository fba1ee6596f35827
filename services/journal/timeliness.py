"""Timeliness of the journal (R-REP-2), in the school's time zone, kept as indicators for the deputy head's
control reports:

* a lesson without its topic or attendance by the end of its day (the school's local midnight);
* homework set more than N hours (school data, default 2) after the end of the teacher's last lesson of the day,
  or not set at all by then;
* a mark for written work entered more than 7 days (school data) after the lesson's day.

Two callers, one set of rules: the scheduler's pass over the previous days (`detect_missing`) finds what is still
missing, and the worker that handles the journal's outbox event (`judge_entry`) judges the entry just saved and
marks indicators as done. Both are idempotent (an indicator per lesson, kind and mark, unique in the table).

When was an entry made? `lesson_record` keeps only its last change (`updated_at`) and the time its homework last
changed (`homework_set_at`): an entry made in time and corrected the next day would look late. When those
timestamps do not prove the entry was in time, the school's audit log, which records every version of the row
with its time, says when it was first made. An entry with no audited history is never called late.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.models import AuditLog
from services.grading.models import WorkKind
from services.journal.models import Lateness, LessonRecord, Mark
from services.journal.settings import journal_settings
from services.timetable.models import Bell, BellSchedule, Lesson

TOPIC, ATTENDANCE, HOMEWORK, MARK = "topic_missing", "attendance_missing", "homework_late", "mark_late"

# Is the entry of this kind made, by a version of the lesson record (its columns by name)?
_DONE: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    TOPIC: lambda row: bool(row.get("topic")),
    ATTENDANCE: lambda row: bool(row.get("attendance_taken")),
    HOMEWORK: lambda row: bool(row.get("homework") or row.get("no_homework")),
}

History = list[tuple[datetime, dict[str, Any]]]
"""The versions of a lesson record, oldest first: (when it was written, the row as written)."""


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The school's local midnight after `day`."""
    return datetime.combine(day + timedelta(days=1), time(0), zone)


def _now(now: datetime | None, zone: ZoneInfo) -> datetime:
    if now is not None and now.tzinfo is None:
        raise ValueError("`now` must be an aware datetime")
    return (now or datetime.now(zone)).astimezone(zone)


def _as_row(record: LessonRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"topic": record.topic, "attendance_taken": record.attendance_taken, "homework": record.homework,
            "no_homework": record.no_homework}


async def _history(session: AsyncSession, lesson_id: int) -> History:
    rows = await session.execute(
        select(AuditLog.at, AuditLog.after)
        .where(AuditLog.entity == LessonRecord.__tablename__, AuditLog.entity_key == {"lesson_id": lesson_id})
        .order_by(AuditLog.id))
    return [(at, after) for at, after in rows.tuples() if after is not None]


def _made_at(kind: str, at: datetime, row: Mapping[str, Any]) -> datetime:
    """When a version made the entry: homework carries its own time, the others the time of the write."""
    if kind == HOMEWORK and row.get("homework_set_at"):
        return datetime.fromisoformat(row["homework_set_at"])
    return at


def _first_made(history: History, kind: str, *, after: datetime | None = None) -> datetime | None:
    for at, row in history:
        if _DONE[kind](row):
            made = _made_at(kind, at, row)
            if after is None or made > after:
                return made
    return None


class _Lesson:
    """One lesson being judged: its record now, its indicators, and its audited history read at most once."""

    def __init__(self, session: AsyncSession, lesson: Lesson, record: LessonRecord | None,
                 indicators: list[Lateness]) -> None:
        self.session, self.lesson, self.record = session, lesson, record
        self.row = _as_row(record)
        self.indicators = {x.kind: x for x in indicators if x.mark_id is None}
        self._history: History | None = None

    async def history(self) -> History:
        if self._history is None:
            self._history = await _history(self.session, self.lesson.id)
        return self._history

    async def judge(self, kind: str, *, due: datetime, now: datetime, in_time_by: datetime | None) -> bool:
        """Record the indicator of `kind` if the entry was not made by `due`; mark it done once it is made.
        `in_time_by`: a time by which the record proves the entry was made (its last change). True if added."""
        done = self.row is not None and _DONE[kind](self.row)
        existing = self.indicators.get(kind)
        if existing is not None:
            if existing.done_at is None and done:
                existing.done_at = _first_made(await self.history(), kind, after=due) or in_time_by or now
            return False
        if now <= due:
            return False
        if not done:
            return await self.add(kind, due=due, done_at=None)
        if in_time_by is not None and in_time_by <= due:
            return False
        first = _first_made(await self.history(), kind)
        if first is None or first <= due:
            return False  # made in time and changed since, or no history to tell: no indicator
        return await self.add(kind, due=due, done_at=first)

    async def add(self, kind: str, *, due: datetime, done_at: datetime | None, mark_id: int | None = None) -> bool:
        row = Lateness(lesson_id=self.lesson.id, kind=kind, teacher_id=self.lesson.teacher_id, mark_id=mark_id,
                       due_at=due, done_at=done_at)
        if not await _insert(self.session, row):
            return False
        if mark_id is None:
            self.indicators[kind] = row
        return True


async def _insert(session: AsyncSession, row: Lateness) -> bool:
    """Insert an indicator unless a concurrent judge (the scheduler, another worker thread) just did."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def _indicators(session: AsyncSession, lesson_ids: list[int]) -> dict[int, list[Lateness]]:
    found: dict[int, list[Lateness]] = {}
    if lesson_ids:
        rows = await session.scalars(select(Lateness).where(Lateness.lesson_id.in_(lesson_ids)))
        for row in rows:
            found.setdefault(row.lesson_id, []).append(row)
    return found


async def homework_deadline(session: AsyncSession, lesson: Lesson, time_zone: str, hours: int) -> datetime:
    """N hours after the end of the teacher's last lesson that day (by the default bells), in the school's zone;
    the end of the lesson's day when the bells do not say when the lessons end."""
    zone = ZoneInfo(time_zone)
    ends = await session.scalar(
        select(func.max(Bell.ends))
        .join(BellSchedule, BellSchedule.id == Bell.bell_schedule_id)
        .join(Lesson, Lesson.lesson_number == Bell.number)
        .where(BellSchedule.is_default, Lesson.teacher_id == lesson.teacher_id, Lesson.on_date == lesson.on_date,
               Lesson.status == "planned"))
    if ends is None:
        return _end_of_day(lesson.on_date, zone)
    return datetime.combine(lesson.on_date, ends, zone) + timedelta(hours=hours)


async def _judge_lesson(session: AsyncSession, judged: _Lesson, zone: ZoneInfo, now: datetime,
                        homework_hours: int) -> int:
    """Topic, attendance and homework of one planned lesson; how many indicators were added."""
    lesson, record = judged.lesson, judged.record
    end = _end_of_day(lesson.on_date, zone)
    added = 0
    # The record's last change proves every entry it holds was made by then.
    last_change = record.updated_at if record is not None else None
    for kind in (TOPIC, ATTENDANCE):
        added += await judged.judge(kind, due=end, now=now, in_time_by=last_change)
    if now > end or HOMEWORK in judged.indicators or (record is not None and record.homework_set_at is not None):
        deadline = await homework_deadline(session, lesson, zone.key, homework_hours)
        set_at = record.homework_set_at if record is not None else None
        added += await judged.judge(HOMEWORK, due=deadline, now=now, in_time_by=set_at)
    return added


async def detect_missing(session: AsyncSession, time_zone: str, day: date, *, now: datetime | None = None) -> int:
    """Record every planned lesson of `day` whose topic, attendance or homework was not made in time, and mark as
    done those made since; nothing before the day is over in the school. Idempotent. Returns how many
    indicators were added."""
    zone = ZoneInfo(time_zone)
    moment = _now(now, zone)
    if moment < _end_of_day(day, zone):
        return 0  # the day is not over in the school
    settings = await journal_settings(session)
    rows = list((await session.execute(
        select(Lesson, LessonRecord).outerjoin(LessonRecord, LessonRecord.lesson_id == Lesson.id)
        .where(Lesson.on_date == day, Lesson.status == "planned").order_by(Lesson.id))).tuples())
    indicators = await _indicators(session, [lesson.id for lesson, _ in rows])
    added = 0
    for lesson, record in rows:
        judged = _Lesson(session, lesson, record, indicators.get(lesson.id, []))
        added += await _judge_lesson(session, judged, zone, moment, settings.homework_deadline_hours)
    await session.flush()
    return added


async def judge_entry(session: AsyncSession, time_zone: str, lesson_id: int, student_id: int | None = None, *,
                      now: datetime | None = None) -> int:
    """After a journal write about a lesson (and a student): late or missing topic, attendance and homework, late
    written-work marks of that student, and indicators of entries now made. Idempotent; how many were added."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.status != "planned":
        return 0
    zone = ZoneInfo(time_zone)
    moment = _now(now, zone)
    settings = await journal_settings(session)
    record = await session.get(LessonRecord, lesson_id)
    indicators = (await _indicators(session, [lesson_id])).get(lesson_id, [])
    judged = _Lesson(session, lesson, record, indicators)
    added = await _judge_lesson(session, judged, zone, moment, settings.homework_deadline_hours)
    if student_id is not None:
        due = _end_of_day(lesson.on_date, zone) + timedelta(days=settings.written_mark_days)
        noted = {x.mark_id for x in indicators if x.kind == MARK}
        late = await session.execute(
            select(Mark.id, Mark.created_at).join(WorkKind, WorkKind.id == Mark.work_kind_id)
            .where(Mark.lesson_id == lesson_id, Mark.student_id == student_id, WorkKind.is_written,
                   Mark.created_at > due))
        for mark_id, created_at in late.tuples():
            if mark_id not in noted:
                added += await judged.add(MARK, due=due, done_at=created_at, mark_id=mark_id)
    await session.flush()
    return added


async def lateness_between(session: AsyncSession, start: date, end: date) -> list[tuple[Lateness, date]]:
    """Indicators of lessons from `start` to `end`, by date, for the control report."""
    rows = await session.execute(select(Lateness, Lesson.on_date).join(Lesson, Lesson.id == Lateness.lesson_id)
                                 .where(Lesson.on_date.between(start, end))
                                 .order_by(Lesson.on_date, Lesson.lesson_number, Lateness.kind))
    return list(rows.tuples())
