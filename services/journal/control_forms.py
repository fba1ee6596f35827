"""What the deputy head's pages show: the school's journals, lessons with their titles, staff, the timeliness
report grouped by teacher, grants and permits; and the parsing of their forms. Reads only; the rules of every
write stay in `services.journal.grants` / `finals`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import AcademicYear, StudyPeriod
from services.errors import RuleError
from services.journal import timeliness
from services.journal.models import CorrectionPermit, JournalGrant, Lateness
from services.structure.models import ClassUnit, Person, StudyGroup, Subject, TeachingLoad
from services.timetable.models import Lesson

REPORT_DAYS = 14
LATENESS_NAMES = {
    "topic_missing": "нет темы к концу дня",
    "attendance_missing": "нет посещаемости к концу дня",
    "homework_late": "домашнее задание записано поздно",
    "mark_late": "отметка за письменную работу выставлена позже срока",
}


class FormError(RuleError):
    """A form field that cannot be read (not a number, not a date); shown in the form like a rule's refusal."""

    problem_type = "/problems/form"


# --- form fields ---------------------------------------------------------------------------------------------


def text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def number(data: dict[str, Any], name: str, title: str) -> int:
    raw = text(data, name)
    if not raw.isdigit():
        raise FormError(f"Выберите {title}.")
    return int(raw)


def day(data: dict[str, Any], name: str, title: str) -> date:
    try:
        return date.fromisoformat(text(data, name))
    except ValueError:
        raise FormError(f"Укажите {title} (дата).") from None


def query_date(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def moment(at: datetime | None, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M") if at else ""


# --- reads ---------------------------------------------------------------------------------------------------


def _audience(grade: int | None, letter: str | None, group: str | None) -> str:
    unit = f"{grade}{letter}" if grade is not None else ""
    if group:
        return f"{unit}, группа «{group}»" if unit else f"группа «{group}»"
    return unit


def _with_audience(query: Select[Any]) -> Select[Any]:
    return (query.join(Subject, Subject.id == TeachingLoad.subject_id)
            .outerjoin(StudyGroup, StudyGroup.id == TeachingLoad.group_id)
            .outerjoin(ClassUnit, ClassUnit.id == func.coalesce(TeachingLoad.class_unit_id,
                                                                 StudyGroup.class_unit_id)))


async def staff(session: AsyncSession) -> dict[int, Person]:
    rows = await session.execute(select(Person).where(Person.kind == "staff")
                                 .order_by(Person.last_name, Person.first_name, Person.id))
    return {p.id: p for p in rows.scalars()}


@dataclass(frozen=True, slots=True)
class LoadItem:
    id: int
    audience: str
    subject: str
    teacher: str
    teacher_id: int
    year: str

    @property
    def title(self) -> str:
        return f"{self.audience} · {self.subject} — {self.teacher}"


async def loads(session: AsyncSession, today: date) -> list[LoadItem]:
    """The teaching load of the year around `today` (of every year when none is current)."""
    query = _with_audience(select(TeachingLoad.id, ClassUnit.grade, ClassUnit.letter, StudyGroup.name,
                                  Subject.name, Person, AcademicYear.name)
                           .join(Person, Person.id == TeachingLoad.teacher_id)
                           .join(AcademicYear, AcademicYear.id == TeachingLoad.academic_year_id))
    current = await session.scalar(select(AcademicYear.id).where(AcademicYear.start_date <= today,
                                                                 AcademicYear.end_date >= today).limit(1))
    if current is not None:
        query = query.where(TeachingLoad.academic_year_id == current)
    rows = await session.execute(query.order_by(AcademicYear.start_date.desc(), ClassUnit.grade, ClassUnit.letter,
                                                StudyGroup.name, Subject.name, TeachingLoad.id))
    return [LoadItem(i, _audience(g, ltr, grp), s, p.short_name, p.id, y)
            for i, g, ltr, grp, s, p, y in rows.tuples()]


@dataclass(frozen=True, slots=True)
class LessonItem:
    id: int
    on_date: date
    number: int
    subject: str
    audience: str
    teacher: str
    load_id: int
    cancelled: bool

    @property
    def title(self) -> str:
        return f"{self.on_date:%d.%m.%Y}, {self.number} урок: {self.subject}, {self.audience}"


async def lessons(session: AsyncSession, *, on_date: date | None = None,
                  ids: list[int] | None = None) -> list[LessonItem]:
    """Lessons of a day, or the given ones, with subject, class (group) and teacher."""
    query = _with_audience(select(Lesson, ClassUnit.grade, ClassUnit.letter, StudyGroup.name, Subject.name,
                                  Person)
                           .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
                           .outerjoin(Person, Person.id == Lesson.teacher_id))
    if on_date is not None:
        query = query.where(Lesson.on_date == on_date)
    if ids is not None:
        query = query.where(Lesson.id.in_(ids or [0]))
    rows = await session.execute(query.order_by(Lesson.on_date, Lesson.lesson_number, ClassUnit.grade,
                                                ClassUnit.letter, Subject.name, Lesson.id))
    return [LessonItem(x.id, x.on_date, x.lesson_number, s, _audience(g, ltr, grp), p.short_name if p else "—",
                       x.teaching_load_id, x.status == "cancelled")
            for x, g, ltr, grp, s, p in rows.tuples()]


@dataclass(frozen=True, slots=True)
class LateRow:
    on_date: date
    lesson: str
    kind: str
    done: str


@dataclass(slots=True)
class TeacherLateness:
    teacher: str
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[LateRow] = field(default_factory=list)


async def lateness_report(session: AsyncSession, start: date, end: date, zone: str) -> list[TeacherLateness]:
    """R-REP-2: the indicators of lessons from `start` to `end`, by teacher (by name), each teacher's by date."""
    found: list[tuple[Lateness, date]] = await timeliness.lateness_between(session, start, end)
    titles = {x.id: x for x in await lessons(session, ids=sorted({x.lesson_id for x, _ in found}))}
    people = await staff(session)
    by_teacher: dict[int, TeacherLateness] = {}
    for indicator, on in found:
        person = people.get(indicator.teacher_id)
        entry = by_teacher.setdefault(indicator.teacher_id,
                                      TeacherLateness(person.full_name if person else "сотрудник"))
        kind = LATENESS_NAMES.get(indicator.kind, indicator.kind)
        entry.counts[kind] = entry.counts.get(kind, 0) + 1
        lesson = titles.get(indicator.lesson_id)
        title = f"{lesson.number} урок: {lesson.subject}, {lesson.audience}" if lesson else "урок"
        done = f"заполнено {moment(indicator.done_at, zone)}" if indicator.done_at else "не заполнено"
        entry.rows.append(LateRow(on, title, kind, done))
    return sorted(by_teacher.values(), key=lambda t: t.teacher)


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=REPORT_DAYS), today


@dataclass(frozen=True, slots=True)
class GrantRow:
    teacher: str
    lesson: str
    valid: str
    reason: str


async def grant_rows(session: AsyncSession) -> list[GrantRow]:
    grants = list((await session.execute(select(JournalGrant).order_by(JournalGrant.id.desc()).limit(200)))
                  .scalars())
    titles = {x.id: x for x in await lessons(session, ids=[g.lesson_id for g in grants])}
    people = await staff(session)
    return [GrantRow(people[g.teacher_id].short_name if g.teacher_id in people else "—",
                     titles[g.lesson_id].title + f" ({titles[g.lesson_id].teacher})" if g.lesson_id in titles else "—",
                     f"с {g.valid_from:%d.%m.%Y} по {g.valid_to:%d.%m.%Y}", g.reason) for g in grants]


async def closed_periods(session: AsyncSession) -> list[StudyPeriod]:
    rows = await session.execute(select(StudyPeriod).where(StudyPeriod.closed_at.is_not(None))
                                 .order_by(StudyPeriod.start_date, StudyPeriod.grade_from))
    return list(rows.scalars())


@dataclass(frozen=True, slots=True)
class PermitRow:
    teacher: str
    load: str
    period: str
    valid_until: date
    reason: str


async def permit_rows(session: AsyncSession, today: date) -> list[PermitRow]:
    permits = list((await session.execute(select(CorrectionPermit).order_by(CorrectionPermit.id.desc())
                                          .limit(200))).scalars())
    items = {x.id: x for x in await loads(session, today)}
    periods = {p.id: p for p in (await session.execute(select(StudyPeriod))).scalars()}
    people = await staff(session)
    return [PermitRow(people[p.teacher_id].short_name if p.teacher_id in people else "—",
                      items[p.teaching_load_id].title if p.teaching_load_id in items else f"№ {p.teaching_load_id}",
                      periods[p.study_period_id].name if p.study_period_id in periods else "—", p.valid_until,
                      p.reason) for p in permits]
