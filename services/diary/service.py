"""Assembling a student's diary from the journal (R-DRY-1, R-DRY-3): a week Monday–Saturday (Sunday too when a
lesson falls on it), the subjects of a study period with the weighted average and the forecast mark, and the
fingerprint of a week that an open diary page polls (R-DRY-2).

A week is a fixed handful of set queries whatever the number of lessons: the lessons (with subject and teacher),
bells, records, changes, individual homework, files, marks and attendance. Nothing is cached: the diary reads the
rows the journal has just committed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.calendar.models import AcademicYear, StudyPeriod
from services.calendar.service import default_period_name
from services.grading.models import WorkKind
from services.grading.service import allowed_marks
from services.identity.models import Membership
from services.journal.finals import KIND_NAMES, Average, suggest, weighted_average
from services.journal.models import Attendance, FinalMark, HomeworkFile, IndividualHomework, LessonRecord, Mark
from services.journal.settings import journal_settings
from services.region.models import School
from services.runtime import Runtime
from services.structure.models import (
    ClassUnit,
    Enrollment,
    GroupMembership,
    Guardianship,
    Person,
    Subject,
    TeachingLoad,
)
from services.timetable.models import Bell, BellSchedule, Lesson, LessonChange

WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
CHANGE_LABELS = {"substitution": "замена", "cancellation": "урок отменён", "room": "другой кабинет",
                 "extra": "дополнительный урок"}
ABSENCE_LABELS = {("absent", "illness"): "отсутствие: болезнь",
                  ("absent", "excused"): "отсутствие: уважительная причина",
                  ("absent", "unexcused"): "отсутствие: неуважительная причина",
                  ("absent", None): "отсутствие"}


class DiaryNotFound(LookupError):
    """No such student or period; the controllers answer 404."""


# --- the week ----------------------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


def week_end(monday: date) -> date:
    """The Sunday of the week: Monday to Saturday are always shown, Sunday only when it has a lesson (an extra
    lesson can fall on it), so every lesson with its marks is in some week."""
    return monday + timedelta(days=6)


def default_week(today: date) -> date:
    """This week's Monday; on Sunday the coming week's, which is the one a family is preparing for."""
    return week_start(today + timedelta(days=1) if today.weekday() == 6 else today)


@dataclass(frozen=True, slots=True)
class ChangeView:
    kind: str
    label: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class MarkView:
    id: int
    value: str
    work_kind: str
    weight: Decimal
    comment: str | None
    on_date: date | None = None


@dataclass(frozen=True, slots=True)
class AbsenceView:
    status: str
    reason: str | None
    late_minutes: int | None

    @property
    def label(self) -> str:
        if self.status == "late":
            return f"опоздание на {self.late_minutes} мин" if self.late_minutes else "опоздание"
        return ABSENCE_LABELS.get((self.status, self.reason), "отсутствие")


@dataclass(frozen=True, slots=True)
class FileView:
    id: int
    filename: str
    size: int
    individual: bool


@dataclass(slots=True)
class DiaryLesson:
    id: int
    on_date: date
    number: int
    starts: time | None
    ends: time | None
    subject: str
    teacher: str
    room: str | None
    cancelled: bool
    changes: list[ChangeView] = field(default_factory=list)
    topic: str | None = None
    homework: str | None = None
    no_homework: bool = False
    individual_homework: str | None = None
    files: list[FileView] = field(default_factory=list)
    marks: list[MarkView] = field(default_factory=list)
    absence: AbsenceView | None = None


@dataclass(frozen=True, slots=True)
class DiaryDay:
    on_date: date
    lessons: list[DiaryLesson]

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.on_date.weekday()]


@dataclass(frozen=True, slots=True)
class DiaryWeek:
    student: Person
    monday: date
    days: list[DiaryDay]

    @property
    def last_day(self) -> date:
        """Saturday, or Sunday when a lesson falls on it."""
        return self.days[-1].on_date


def _in_class_or_group(student_id: int) -> ColumnElement[bool]:
    """The lesson's load is of a class the student was enrolled in that day, or of a group they belonged to."""
    on_date = Lesson.on_date
    enrolled = exists().where(
        Enrollment.student_id == student_id, Enrollment.class_unit_id == TeachingLoad.class_unit_id,
        Enrollment.start_date <= on_date, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on_date))
    grouped = exists().where(
        GroupMembership.student_id == student_id, GroupMembership.group_id == TeachingLoad.group_id,
        GroupMembership.start_date <= on_date,
        or_(GroupMembership.end_date.is_(None), GroupMembership.end_date >= on_date))
    return or_(enrolled, grouped)


def _week_lessons(student_id: int, monday: date) -> Select[tuple[int]]:
    return (select(Lesson.id).join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
            .where(Lesson.on_date.between(monday, week_end(monday)),
                   _in_class_or_group(student_id)))


async def student(session: AsyncSession, student_id: int) -> Person:
    person = await session.get(Person, student_id)
    if person is None or person.kind != "student":
        raise DiaryNotFound("Ученик не найден.")
    return person


async def week(session: AsyncSession, student_id: int, day: date, person: Person | None = None) -> DiaryWeek:
    """The student's lessons of the week containing `day`, Monday to Saturday (and Sunday if it has lessons),
    with everything the journal holds about them for this student (`person`: the student's record when the caller
    has read it already)."""
    person = person or await student(session, student_id)
    monday = week_start(day)
    teacher = aliased(Person)
    rows = (await session.execute(
        select(Lesson, Subject.name, teacher)
        .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id)
        .outerjoin(teacher, teacher.id == Lesson.teacher_id)
        .where(Lesson.on_date.between(monday, week_end(monday)),
               _in_class_or_group(student_id))
        .order_by(Lesson.on_date, Lesson.lesson_number, Subject.name))).tuples().all()
    ids = [lesson.id for lesson, _, _ in rows]
    lessons: dict[int, DiaryLesson] = {}
    if ids:
        bells = {n: (s, e) for n, s, e in (await session.execute(
            select(Bell.number, Bell.starts, Bell.ends).join(BellSchedule, BellSchedule.id == Bell.bell_schedule_id)
            .where(BellSchedule.is_default))).tuples()}
        for lesson, subject, who in rows:
            starts, ends = bells.get(lesson.lesson_number, (None, None))
            lessons[lesson.id] = DiaryLesson(lesson.id, lesson.on_date, lesson.lesson_number, starts, ends, subject,
                                             who.short_name if who else "—", lesson.room,
                                             lesson.status == "cancelled")
        await _fill(session, student_id, lessons)
    by_day: dict[date, list[DiaryLesson]] = defaultdict(list)
    for item in lessons.values():
        by_day[item.on_date].append(item)
    shown = 7 if by_day.get(week_end(monday)) else 6
    days = [DiaryDay(monday + timedelta(days=n), by_day.get(monday + timedelta(days=n), [])) for n in range(shown)]
    return DiaryWeek(person, monday, days)


async def _fill(session: AsyncSession, student_id: int, lessons: dict[int, DiaryLesson]) -> None:
    ids = list(lessons)
    previous = aliased(Person)
    for change, last, first in (await session.execute(
            select(LessonChange, previous.last_name, previous.first_name)
            .outerjoin(previous, previous.id == LessonChange.previous_teacher_id)
            .where(LessonChange.lesson_id.in_(ids)).order_by(LessonChange.id))).tuples():
        detail = ""
        if change.kind == "substitution" and last:
            detail = f"вместо {last} {first[:1]}." if first else f"вместо {last}"
        elif change.kind == "room" and change.previous_room:
            detail = f"был каб. {change.previous_room}"
        lessons[change.lesson_id].changes.append(
            ChangeView(change.kind, CHANGE_LABELS.get(change.kind, change.kind), change.reason, detail))
    for record in (await session.execute(select(LessonRecord).where(LessonRecord.lesson_id.in_(ids)))).scalars():
        item = lessons[record.lesson_id]
        item.topic, item.homework, item.no_homework = record.topic, record.homework, record.no_homework
    for lesson_id, text in (await session.execute(
            select(IndividualHomework.lesson_id, IndividualHomework.text).where(
                IndividualHomework.lesson_id.in_(ids), IndividualHomework.student_id == student_id))).tuples():
        lessons[lesson_id].individual_homework = text
    for f in (await session.execute(
            select(HomeworkFile).where(HomeworkFile.lesson_id.in_(ids),
                                       or_(HomeworkFile.student_id.is_(None), HomeworkFile.student_id == student_id))
            .order_by(HomeworkFile.id))).scalars():
        lessons[f.lesson_id].files.append(FileView(f.id, f.filename, f.size, f.student_id is not None))
    for mark, kind, weight in (await session.execute(
            select(Mark, WorkKind.name, WorkKind.weight).join(WorkKind, WorkKind.id == Mark.work_kind_id)
            .where(Mark.lesson_id.in_(ids), Mark.student_id == student_id).order_by(Mark.id))).tuples():
        lessons[mark.lesson_id].marks.append(MarkView(mark.id, mark.value, kind, weight, mark.comment))
    for a in (await session.execute(select(Attendance).where(
            Attendance.lesson_id.in_(ids), Attendance.student_id == student_id))).scalars():
        lessons[a.lesson_id].absence = AbsenceView(a.status, a.reason, a.late_minutes)


async def week_version(session: AsyncSession, student_id: int, day: date) -> str:
    """A fingerprint of everything the diary shows for the student's week, in one statement: it changes whenever a
    lesson, its record, change, file, or the student's mark, absence or individual homework is added, edited or
    removed. Content, not timestamps, so an edit in the same second is not missed."""
    wl = _week_lessons(student_id, week_start(day)).cte("week_lessons")
    in_week = select(wl.c.id)
    sep = literal(":")
    parts = union_all(
        select(func.concat("l", Lesson.id, sep, Lesson.status, sep, Lesson.room, sep, Lesson.teacher_id, sep,
                           Lesson.lesson_number, sep, Lesson.on_date).label("t")).where(Lesson.id.in_(in_week)),
        select(func.concat("c", LessonChange.id, sep, LessonChange.lesson_id)).where(
            LessonChange.lesson_id.in_(in_week)),
        select(func.concat("r", LessonRecord.lesson_id, sep, LessonRecord.updated_at, sep,
                           func.md5(func.concat(LessonRecord.topic, "\x1f", LessonRecord.homework)), sep,
                           LessonRecord.no_homework)).where(LessonRecord.lesson_id.in_(in_week)),
        select(func.concat("i", IndividualHomework.lesson_id, sep, func.md5(IndividualHomework.text))).where(
            IndividualHomework.lesson_id.in_(in_week), IndividualHomework.student_id == student_id),
        select(func.concat("f", HomeworkFile.id)).where(
            HomeworkFile.lesson_id.in_(in_week),
            or_(HomeworkFile.student_id.is_(None), HomeworkFile.student_id == student_id)),
        select(func.concat("m", Mark.id, sep, Mark.lesson_id, sep, Mark.value, sep, Mark.work_kind_id, sep,
                           func.md5(func.coalesce(Mark.comment, "")))).where(
            Mark.lesson_id.in_(in_week), Mark.student_id == student_id),
        select(func.concat("a", Attendance.lesson_id, sep, Attendance.status, sep, Attendance.reason, sep,
                           Attendance.late_minutes)).where(
            Attendance.lesson_id.in_(in_week), Attendance.student_id == student_id),
    ).subquery()
    found: str | None = await session.scalar(
        select(func.md5(func.string_agg(parts.c.t, aggregate_order_by(literal("|"), parts.c.t)))))
    return found or "empty"


# --- the subjects of a period ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FinalView:
    kind: str
    label: str
    value: str


@dataclass(slots=True)
class SubjectView:
    subject_id: int
    subject: str
    marks: list[MarkView] = field(default_factory=list)
    average: Average = field(default_factory=lambda: Average(None, 0, Decimal(0)))
    forecast: str | None = None
    finals: list[FinalView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubjectsView:
    student: Person
    period: StudyPeriod | None
    periods: list[StudyPeriod]
    rounding_threshold: Decimal
    subjects: list[SubjectView]
    forecast_open: bool
    """Whether the period is still running (or not yet closed): the forecast is labelled as such."""


async def _grade_on(session: AsyncSession, student_id: int, day: date) -> int | None:
    """The student's grade on `day`: the class they were in then, else the latest class they were in before."""
    grade: int | None = await session.scalar(
        select(ClassUnit.grade).join(Enrollment, Enrollment.class_unit_id == ClassUnit.id)
        .where(Enrollment.student_id == student_id, Enrollment.start_date <= day)
        .order_by(and_(or_(Enrollment.end_date.is_(None), Enrollment.end_date >= day)).desc(),
                  Enrollment.start_date.desc()).limit(1))
    return grade


async def periods_for(session: AsyncSession, student_id: int, today: date) -> list[StudyPeriod]:
    """The study periods of the student's grade in the academic year around `today` (the latest one started)."""
    year = await session.scalar(select(AcademicYear).where(AcademicYear.start_date <= today)
                                .order_by(AcademicYear.start_date.desc()).limit(1))
    if year is None:
        return []
    grade = await _grade_on(session, student_id, min(today, year.end_date))
    if grade is None:
        return []
    return list((await session.execute(select(StudyPeriod).where(
        StudyPeriod.academic_year_id == year.id, StudyPeriod.grade_from <= grade, StudyPeriod.grade_to >= grade)
        .order_by(StudyPeriod.start_date, StudyPeriod.end_date.desc()))).scalars())


def period_name(p: StudyPeriod) -> str:
    return p.name or default_period_name(p.kind, p.number)


def current_period(periods: list[StudyPeriod], today: date) -> StudyPeriod | None:
    """The shortest period running today; between periods the last one ended; before the first, the first."""
    running = [p for p in periods if p.start_date <= today <= p.end_date]
    if running:
        return min(running, key=lambda p: (p.end_date - p.start_date, p.start_date))
    ended = [p for p in periods if p.end_date < today]
    if ended:
        return max(ended, key=lambda p: (p.end_date, -(p.end_date - p.start_date).days))
    return periods[0] if periods else None


async def subjects(session: AsyncSession, student_id: int, today: date, period_id: int | None = None,
                   person: Person | None = None) -> SubjectsView:
    """Per subject of the period: the student's marks, the weighted average with how it is computed, the forecast
    period mark by the school's rounding rule (`finals.suggest`) and the period, year and final marks entered."""
    person = person or await student(session, student_id)
    periods = await periods_for(session, student_id, today)
    if period_id is not None:
        period = next((p for p in periods if p.id == period_id), None)
        if period is None:
            raise DiaryNotFound("Учебный период не найден для класса этого ученика.")
    else:
        period = current_period(periods, today)
    settings = await journal_settings(session)
    if period is None:
        return SubjectsView(person, None, periods, settings.rounding_threshold, [], False)
    start, end = period.start_date, period.end_date
    # The subjects the student was taught in the period: loads of their class or groups on some day of it.
    class_loads = select(TeachingLoad.subject_id).where(
        TeachingLoad.academic_year_id == period.academic_year_id,
        or_(exists().where(Enrollment.student_id == student_id, Enrollment.class_unit_id == TeachingLoad.class_unit_id,
                           Enrollment.start_date <= end,
                           or_(Enrollment.end_date.is_(None), Enrollment.end_date >= start)),
            exists().where(GroupMembership.student_id == student_id,
                           GroupMembership.group_id == TeachingLoad.group_id, GroupMembership.start_date <= end,
                           or_(GroupMembership.end_date.is_(None), GroupMembership.end_date >= start))))
    rows: dict[int, SubjectView] = {
        sid: SubjectView(sid, name) for sid, name in (await session.execute(
            select(Subject.id, Subject.name).where(Subject.id.in_(class_loads)).order_by(Subject.name))).tuples()}
    marks = await session.execute(
        select(Mark, WorkKind.name, WorkKind.weight, Lesson.on_date, Subject.id, Subject.name)
        .join(Lesson, Lesson.id == Mark.lesson_id).join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(Subject, Subject.id == TeachingLoad.subject_id).join(WorkKind, WorkKind.id == Mark.work_kind_id)
        .where(Mark.student_id == student_id, Lesson.on_date.between(start, end))
        .order_by(Lesson.on_date, Lesson.lesson_number, Mark.id))
    for mark, kind, weight, on_date, sid, name in marks.tuples():
        rows.setdefault(sid, SubjectView(sid, name)).marks.append(
            MarkView(mark.id, mark.value, kind, weight, mark.comment, on_date))
    names = {p.id: period_name(p) for p in periods}
    finals = await session.execute(
        select(FinalMark, Subject.name).join(Subject, Subject.id == FinalMark.subject_id)
        .where(FinalMark.student_id == student_id, FinalMark.academic_year_id == period.academic_year_id)
        .order_by(FinalMark.kind != "period", FinalMark.study_period_id, FinalMark.id))
    for final, name in finals.tuples():
        if final.kind == "period":
            label = f"за период «{names.get(final.study_period_id or 0, 'период')}»"
        else:
            label = KIND_NAMES.get(final.kind, final.kind)
        rows.setdefault(final.subject_id, SubjectView(final.subject_id, name)).finals.append(
            FinalView(final.kind, label, final.value))
    grade = await _grade_on(session, student_id, min(today, end))
    for row in rows.values():
        if not row.marks or grade is None:
            continue
        values = await allowed_marks(session, row.subject_id, grade)
        numeric = {v.value: v.numeric_value for v in values if v.numeric_value is not None and not v.is_special}
        row.average = weighted_average([(numeric[m.value], m.weight) for m in row.marks if m.value in numeric])
        row.forecast = suggest(row.average.value, values, settings.rounding_threshold)
    ordered = sorted(rows.values(), key=lambda r: r.subject)
    return SubjectsView(person, period, periods, settings.rounding_threshold, ordered,
                        period.closed_at is None and today <= end + timedelta(days=settings.final_window_after_days))


# --- a family's children across schools --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Child:
    student_id: int
    last_name: str
    first_name: str
    class_name: str | None


async def children_in_school(session: AsyncSession, roles: list[str], person_id: int, today: date) -> list[Child]:
    """In one school: a parent's children (guardianship), a student themself; with the class they are in today."""
    wanted = []
    if "student" in roles:
        wanted.append(select(literal(person_id).label("id")))
    if "parent" in roles:
        wanted.append(select(Guardianship.student_id.label("id")).where(Guardianship.guardian_id == person_id))
    if not wanted:
        return []
    ids = union_all(*wanted).subquery()
    current = aliased(Enrollment)
    rows = await session.execute(
        select(Person.id, Person.last_name, Person.first_name, ClassUnit.grade, ClassUnit.letter)
        .outerjoin(current, and_(current.student_id == Person.id, current.start_date <= today,
                                 or_(current.end_date.is_(None), current.end_date >= today)))
        .outerjoin(ClassUnit, ClassUnit.id == current.class_unit_id)
        .where(Person.id.in_(select(ids.c.id)), Person.kind == "student")
        .order_by(Person.last_name, Person.first_name, Person.id))
    seen: dict[int, Child] = {}
    for sid, last, first, grade, letter in rows.tuples():
        seen.setdefault(sid, Child(sid, last, first, f"{grade}{letter}" if grade is not None else None))
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class SchoolChild:
    school_slug: str
    school_name: str
    child: Child


async def children(runtime: Runtime, account_id: int) -> list[SchoolChild]:
    """Every child whose diary the account may open, across its schools: each parent membership's children in that
    school's schema, each student membership's own person. One school's query never touches another's schema."""
    async with runtime.db.platform_session() as session:
        memberships = (await session.execute(
            select(School.slug, Membership.roles, Membership.person_id)
            .join(Membership, Membership.school_id == School.id)
            .where(Membership.account_id == account_id, School.status == "active",
                   Membership.person_id.is_not(None))
            .order_by(School.name))).tuples().all()
    found: list[SchoolChild] = []
    for slug, roles, person_id in memberships:
        if person_id is None or not {"parent", "student"} & set(roles):
            continue
        school = await runtime.registry.resolve(slug)
        if school is None or school.status != "active":
            continue
        async with runtime.db.school_session(school.schema) as session:
            found.extend(SchoolChild(school.slug, school.name, c)
                         for c in await children_in_school(session, list(roles), person_id, school.today()))
    return found
