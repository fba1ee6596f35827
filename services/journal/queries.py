"""Reading the journal: a teacher's day, one lesson with its class, and the grid of a class or group for a period
(R-JRN-7). Each is a handful of set queries, whatever the size of the class (the benchmark watches them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import StudyPeriod
from services.journal.cells import Cell
from services.journal.models import Attendance, HomeworkFile, IndividualHomework, JournalGrant, LessonRecord, Mark
from services.journal.scope import JournalNotFound, audience_name, load_grade
from services.plan.service import topic_for_lesson
from services.structure.models import Enrollment, GroupMembership, Person, Subject, TeachingLoad
from services.structure.repository import enrolled_between
from services.timetable.models import Bell, BellSchedule, Lesson, LessonChange

# --- my day ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayLesson:
    lesson: Lesson
    load: TeachingLoad
    subject: str
    audience: str
    starts: time | None
    ends: time | None
    record: LessonRecord | None
    changes: list[LessonChange]
    role: str
    """«own», «substitute» (I teach it instead of the load's teacher) or «replaced» (someone else teaches mine)."""
    offered_topic: str | None


async def _bells(session: AsyncSession) -> dict[int, tuple[time, time]]:
    rows = await session.execute(select(Bell.number, Bell.starts, Bell.ends).join(
        BellSchedule, BellSchedule.id == Bell.bell_schedule_id).where(BellSchedule.is_default))
    return {n: (s, e) for n, s, e in rows.tuples()}


async def my_day(session: AsyncSession, person_id: int, day: date) -> list[DayLesson]:
    """The teacher's lessons on `day`: their own (with the day's changes), those they substitute, and those of
    journals they hold a grant for."""
    granted = select(JournalGrant.lesson_id).where(JournalGrant.teacher_id == person_id)
    rows = await session.execute(
        select(Lesson, TeachingLoad, Subject.name)
        .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .where(Lesson.on_date == day, or_(Lesson.teacher_id == person_id, TeachingLoad.teacher_id == person_id,
                                          Lesson.id.in_(granted)))
        .order_by(Lesson.lesson_number))
    found = list(rows.tuples())
    ids = [lesson.id for lesson, _, _ in found]
    records = {r.lesson_id: r for r in (await session.execute(
        select(LessonRecord).where(LessonRecord.lesson_id.in_(ids)))).scalars()}
    changes: dict[int, list[LessonChange]] = defaultdict(list)
    for change in (await session.execute(select(LessonChange).where(LessonChange.lesson_id.in_(ids))
                                         .order_by(LessonChange.id))).scalars():
        changes[change.lesson_id].append(change)
    bells = await _bells(session)
    result = []
    for lesson, load, subject in found:
        role = ("substitute" if load.teacher_id != person_id else
                "own" if lesson.teacher_id == person_id else "replaced")
        record = records.get(lesson.id)
        offered = None
        if record is None or not record.topic:
            plan = await topic_for_lesson(session, lesson)
            offered = plan.title if plan else None
        starts, ends = bells.get(lesson.lesson_number, (None, None))
        result.append(DayLesson(lesson, load, subject, await audience_name(session, load), starts, ends, record,
                                changes[lesson.id], role, offered))
    return result


# --- the roster of a load --------------------------------------------------------------------------------------


@dataclass(slots=True)
class RosterRow:
    student: Person
    stays: list[tuple[date, date | None]] = field(default_factory=list)

    def enrolled_on(self, day: date) -> bool:
        return any(s <= day and (e is None or e >= day) for s, e in self.stays)

    @property
    def name(self) -> str:
        return f"{self.student.last_name} {self.student.first_name}"


async def roster(session: AsyncSession, load: TeachingLoad, start: date, end: date) -> list[RosterRow]:
    """Everyone who belonged to the load's class or group on some day of [start, end], with the dates they did,
    by name: the grid shows a student's cells only on those dates."""
    rows: dict[int, RosterRow] = {}
    if load.class_unit_id is not None:
        for b in await enrolled_between(session, load.class_unit_id, start, end):
            rows.setdefault(b.student.id, RosterRow(b.student)).stays.append((b.start_date, b.end_date))
        return list(rows.values())
    found = await session.execute(
        select(Person, GroupMembership.start_date, GroupMembership.end_date)
        .join(GroupMembership, GroupMembership.student_id == Person.id)
        .join(Enrollment, and_(Enrollment.student_id == Person.id, Enrollment.start_date <= end,
                               or_(Enrollment.end_date.is_(None), Enrollment.end_date >= start)))
        .where(GroupMembership.group_id == load.group_id, GroupMembership.start_date <= end,
               or_(GroupMembership.end_date.is_(None), GroupMembership.end_date >= start))
        .order_by(Person.last_name, Person.first_name, Person.id, GroupMembership.start_date))
    for person, s, e in found.tuples():
        row = rows.setdefault(person.id, RosterRow(person))
        if (s, e) not in row.stays:
            row.stays.append((s, e))
    return list(rows.values())


# --- one lesson --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LessonView:
    lesson: Lesson
    load: TeachingLoad
    subject: Subject
    audience: str
    grade: int | None
    record: LessonRecord | None
    offered_topic: tuple[int, str] | None
    students: list[RosterRow]
    attendance: dict[int, Attendance]
    marks: dict[int, list[Mark]]
    individual: dict[int, IndividualHomework]
    files: list[HomeworkFile]


async def lesson_view(session: AsyncSession, lesson_id: int) -> LessonView:
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        raise JournalNotFound("Урок не найден.")
    load = await session.get(TeachingLoad, lesson.teaching_load_id)
    assert load is not None
    subject = await session.get(Subject, load.subject_id)
    assert subject is not None
    students = await roster(session, load, lesson.on_date, lesson.on_date)
    attendance = {a.student_id: a for a in (await session.execute(
        select(Attendance).where(Attendance.lesson_id == lesson_id))).scalars()}
    marks: dict[int, list[Mark]] = defaultdict(list)
    for mark in (await session.execute(select(Mark).where(Mark.lesson_id == lesson_id).order_by(Mark.id))).scalars():
        marks[mark.student_id].append(mark)
    individual = {h.student_id: h for h in (await session.execute(
        select(IndividualHomework).where(IndividualHomework.lesson_id == lesson_id))).scalars()}
    files = list((await session.execute(select(HomeworkFile).where(HomeworkFile.lesson_id == lesson_id)
                                        .order_by(HomeworkFile.id))).scalars())
    record = await session.get(LessonRecord, lesson_id)
    plan = await topic_for_lesson(session, lesson)
    return LessonView(lesson, load, subject, await audience_name(session, load),
                      await load_grade(session, load, lesson.on_date), record,
                      (plan.id, plan.title) if plan else None, students, attendance, marks, individual, files)


# --- the grid ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    load: TeachingLoad
    subject: Subject
    audience: str
    period: StudyPeriod | None
    start: date
    end: date
    lessons: list[Lesson]
    records: dict[int, LessonRecord]
    students: list[RosterRow]
    cells: dict[tuple[int, int], Cell]
    """(student id, lesson id) → what the cell shows."""


async def periods_of_load(session: AsyncSession, load: TeachingLoad, today: date) -> list[StudyPeriod]:
    """The study periods of the load's grade in its year, quarters before the year."""
    grade = await load_grade(session, load, today)
    query = select(StudyPeriod).where(StudyPeriod.academic_year_id == load.academic_year_id)
    if grade is not None:
        query = query.where(StudyPeriod.grade_from <= grade, StudyPeriod.grade_to >= grade)
    return list((await session.execute(query.order_by(StudyPeriod.start_date, StudyPeriod.end_date.desc())))
                .scalars())


async def grid(session: AsyncSession, load_id: int, start: date, end: date,
               period: StudyPeriod | None = None) -> Grid:
    """Students × lessons of one load between two dates, with topics and homework (R-JRN-7)."""
    load = await session.get(TeachingLoad, load_id)
    if load is None:
        raise JournalNotFound("Журнал не найден.")
    subject = await session.get(Subject, load.subject_id)
    assert subject is not None
    lessons = list((await session.execute(select(Lesson).where(
        Lesson.teaching_load_id == load_id, Lesson.on_date.between(start, end))
        .order_by(Lesson.on_date, Lesson.lesson_number))).scalars())
    ids = [x.id for x in lessons]
    records = {r.lesson_id: r for r in (await session.execute(
        select(LessonRecord).where(LessonRecord.lesson_id.in_(ids)))).scalars()}
    marks: dict[tuple[int, int], list[str]] = defaultdict(list)
    for student_id, lesson_id, value in (await session.execute(
            select(Mark.student_id, Mark.lesson_id, Mark.value).where(Mark.lesson_id.in_(ids))
            .order_by(Mark.id))).tuples():
        marks[(student_id, lesson_id)].append(value)
    absences = {(a.student_id, a.lesson_id): (a.status, a.reason) for a in (await session.execute(
        select(Attendance).where(Attendance.lesson_id.in_(ids)))).scalars()}
    cells = {key: Cell(tuple(marks.get(key, ())), absences.get(key)) for key in marks.keys() | absences.keys()}
    return Grid(load, subject, await audience_name(session, load), period, start, end, lessons, records,
                await roster(session, load, start, end), cells)
