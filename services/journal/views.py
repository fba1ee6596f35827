"""Turning journal reads into the API's structures (shared by the API and the pages' JSON endpoints)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import StudyPeriod
from services.errors import OutOfScope
from services.identity.policy import Principal, may_read_journal
from services.journal import queries
from services.journal.cells import CODE_OF, Cell
from services.journal.finals import FinalSheet
from services.journal.models import Attendance, FinalMark, Mark
from services.journal.schemas import (
    AttendanceOut,
    CellOut,
    DayLessonOut,
    FileOut,
    FinalOut,
    FinalRowOut,
    FinalSheetOut,
    GridLessonOut,
    GridOut,
    GridRowOut,
    LessonOut,
    MarkOut,
    RecordOut,
    StudentOut,
)
from services.journal.scope import JournalError, JournalNotFound
from services.structure.models import TeachingLoad

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN_DAYS = 366


def mark_out(m: Mark) -> MarkOut:
    return MarkOut(m.id, m.lesson_id, m.student_id, m.value, m.work_kind_id, m.comment, m.author_id)


def attendance_out(a: Attendance | None) -> AttendanceOut | None:
    return None if a is None else AttendanceOut(a.student_id, a.status, a.reason, a.late_minutes)


def cell_out(cell: Cell) -> CellOut:
    return CellOut(cell.text(), list(cell.marks), CODE_OF[cell.absence] if cell.absence else None)


def final_out(f: FinalMark) -> FinalOut:
    return FinalOut(f.id, f.student_id, f.kind, f.value, f.study_period_id)


async def readable_load(principal: Principal, session: AsyncSession, load_id: int) -> TeachingLoad:
    load = await session.get(TeachingLoad, load_id)
    if load is None:
        raise JournalNotFound("Журнал не найден.")
    if not await may_read_journal(principal, session, load=load):
        raise OutOfScope("Этот журнал вам недоступен.")
    return load


def day_out(x: queries.DayLesson) -> DayLessonOut:
    record = x.record
    return DayLessonOut(
        x.lesson.id, x.lesson.lesson_number, x.starts, x.ends, x.load.id, x.subject, x.audience, x.lesson.room,
        x.lesson.status, x.role, [c.reason for c in x.changes], record.topic if record else None, x.offered_topic,
        bool(record and (record.homework or record.no_homework)), bool(record and record.attendance_taken))


def lesson_out(v: queries.LessonView) -> LessonOut:
    r = v.record
    record = None if r is None else RecordOut(r.topic, r.covered, r.homework, r.no_homework, r.attendance_taken,
                                              r.plan_topic_id, r.author_id)
    students = [StudentOut(row.student.id, row.name, [mark_out(m) for m in v.marks.get(row.student.id, [])],
                           attendance_out(v.attendance.get(row.student.id)),
                           v.individual[row.student.id].text if row.student.id in v.individual else None)
                for row in v.students]
    files = [FileOut(f.id, f.filename, f.size, f.content_type, f.student_id) for f in v.files]
    offered_id, offered = v.offered_topic if v.offered_topic else (None, None)
    return LessonOut(v.lesson.id, v.lesson.on_date, v.lesson.lesson_number, v.load.id, v.subject.name, v.audience,
                     v.lesson.status, v.lesson.teacher_id, record, offered, offered_id, students, files)


async def grid_range(session: AsyncSession, load: TeachingLoad, today: date, *, period_id: int | None,
                     start: date | None, end: date | None) -> tuple[date, date, StudyPeriod | None]:
    """The dates the grid shows: a chosen period, given dates, or the period of today (else the last 30 days)."""
    periods = await queries.periods_of_load(session, load, today)
    if period_id is not None:
        chosen = next((p for p in periods if p.id == period_id), None)
        if chosen is None:
            raise JournalNotFound("Учебный период не найден для этого журнала.")
        return chosen.start_date, chosen.end_date, chosen
    if start is not None or end is not None:
        last = end or today
        first = start or last - DEFAULT_SPAN
        if first > last or (last - first).days > MAX_SPAN_DAYS:
            raise JournalError(f"Укажите даты по порядку, не больше чем на {MAX_SPAN_DAYS} дней.")
        return first, last, None
    current = next((p for p in periods if p.start_date <= today <= p.end_date and p.kind != "year"), None)
    if current is not None:
        return current.start_date, current.end_date, current
    return today - DEFAULT_SPAN, today, None


def grid_out(g: queries.Grid) -> GridOut:
    lessons = [GridLessonOut(x.id, x.on_date, x.lesson_number, x.status,
                             g.records[x.id].topic if x.id in g.records else None,
                             g.records[x.id].homework if x.id in g.records else None,
                             g.records[x.id].no_homework if x.id in g.records else False) for x in g.lessons]
    rows = []
    for row in g.students:
        cells = {}
        for lesson in g.lessons:
            if row.enrolled_on(lesson.on_date):
                cell = g.cells.get((row.student.id, lesson.id))
                cells[str(lesson.id)] = cell.text() if cell else ""
        rows.append(GridRowOut(row.student.id, row.name, cells))
    return GridOut(g.load.id, g.subject.name, g.audience, g.start, g.end, g.period.id if g.period else None,
                   lessons, rows)


def sheet_out(s: FinalSheet) -> FinalSheetOut:
    return FinalSheetOut(s.load.id, s.period.id, s.window[0], s.window[1], s.period.closed_at is not None, s.values,
                         [FinalRowOut(r.student_id, r.name, r.marks, r.average.value, r.average.explain(), r.suggested,
                                      r.finals) for r in s.rows])
