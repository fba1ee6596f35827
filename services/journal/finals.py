"""Period, year and final marks (R-JRN-4): the weighted average and the suggested mark beside each student, the
closing window, «н/а», exam / project / practice results, and the lock of a closed period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import AcademicYear, StudyPeriod
from services.calendar.service import ru_date
from services.grading.models import GradeValue, WorkKind
from services.grading.service import allowed_marks
from services.identity.policy import may_write_journal
from services.journal.models import FINAL_KINDS, FinalMark, Mark
from services.journal.scope import (
    JournalError,
    JournalNotFound,
    Writer,
    audience_name,
    check_closed_period,
    check_value,
    load_grade,
    marks_allowed,
    note_reason,
    roster_grade,
    saved,
)
from services.journal.settings import JournalSettings, journal_settings
from services.structure.models import GroupMembership, Person, Subject, TeachingLoad
from services.structure.repository import enrolled_between
from services.timetable.models import Lesson

YEAR_KINDS = tuple(k for k in FINAL_KINDS if k != "period")
KIND_NAMES = {"period": "за период", "year": "годовая", "exam": "экзамен", "project": "проект",
              "practice": "практика", "final": "итоговая"}


@dataclass(frozen=True, slots=True)
class Average:
    """The weighted average of a student's marks and how it was computed, for the teacher and the diary."""

    value: Decimal | None
    marks: int
    weights: Decimal

    def explain(self) -> str:
        if self.value is None:
            return "Нет отметок с числовым значением."
        return f"Σ(отметка × вес) / Σ весов = {self.value:.2f} по {self.marks} отм. (сумма весов {self.weights})"


def weighted_average(marks: list[tuple[Decimal, Decimal]]) -> Average:
    """Σ value·weight / Σ weight over (value, weight) pairs, to two places."""
    weights = sum((w for _, w in marks), Decimal(0))
    if not marks or weights == 0:
        return Average(None, 0, Decimal(0))
    total = sum((v * w for v, w in marks), Decimal(0))
    return Average((total / weights).quantize(Decimal("0.01")), len(marks), weights)


def suggest(average: Decimal | None, values: list[GradeValue], threshold: Decimal) -> str | None:
    """The mark the average rounds to by the school's rule: up from `threshold` (0.5: 3.50 → 4; 0.6: 3.50 → 3),
    then the highest value of the system not above it."""
    if average is None:
        return None
    whole = average.to_integral_value(rounding=ROUND_FLOOR)
    rounded = whole + 1 if average - whole >= threshold else whole
    numeric = sorted(((v.numeric_value, v.value) for v in values if v.numeric_value is not None and not v.is_special),
                     reverse=True)
    for number, value in numeric:
        if number <= rounded:
            return value
    return numeric[-1][1] if numeric else None


# --- the sheet the teacher fills -----------------------------------------------------------------------------


@dataclass(slots=True)
class FinalRow:
    student_id: int
    name: str
    marks: list[str] = field(default_factory=list)
    average: Average = Average(None, 0, Decimal(0))
    suggested: str | None = None
    finals: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FinalSheet:
    load: TeachingLoad
    subject: Subject
    audience: str
    period: StudyPeriod
    window: tuple[date, date]
    rows: list[FinalRow]
    values: list[str]


def _name(p: Person) -> str:
    return f"{p.last_name} {p.first_name}"


async def _period_of_load(session: AsyncSession, load: TeachingLoad, period_id: int) -> tuple[StudyPeriod, int]:
    period = await session.get(StudyPeriod, period_id)
    if period is None or period.academic_year_id != load.academic_year_id or period.kind == "year":
        raise JournalNotFound("Учебный период не найден в году этого журнала.")
    grade = await load_grade(session, load, period.start_date)
    if grade is None or not period.grade_from <= grade <= period.grade_to:
        raise JournalError(f"Период «{period.name}» не для этого класса.")
    return period, grade


def window_of(period: StudyPeriod, settings: JournalSettings) -> tuple[date, date]:
    return (period.end_date - timedelta(days=settings.final_window_before_days),
            period.end_date + timedelta(days=settings.final_window_after_days))


async def _roster(session: AsyncSession, load: TeachingLoad, start: date, end: date) -> list[Person]:
    if load.class_unit_id is not None:
        seen: dict[int, Person] = {}
        for b in await enrolled_between(session, load.class_unit_id, start, end):
            seen.setdefault(b.student.id, b.student)
        return list(seen.values())
    rows = await session.execute(
        select(Person).join(GroupMembership, GroupMembership.student_id == Person.id)
        .where(GroupMembership.group_id == load.group_id, GroupMembership.start_date <= end,
               (GroupMembership.end_date.is_(None)) | (GroupMembership.end_date >= start))
        .order_by(Person.last_name, Person.first_name, Person.id))
    return list(dict.fromkeys(rows.scalars()))


async def final_sheet(session: AsyncSession, load_id: int, period_id: int) -> FinalSheet:
    """Every student of the load in the period with marks, weighted average, suggested and entered marks."""
    load = await session.get(TeachingLoad, load_id)
    if load is None:
        raise JournalNotFound("Журнал не найден.")
    period, grade = await _period_of_load(session, load, period_id)
    subject = await session.get(Subject, load.subject_id)
    assert subject is not None
    settings = await journal_settings(session)
    values = await allowed_marks(session, subject.id, grade)
    numeric = {v.value: v.numeric_value for v in values if v.numeric_value is not None and not v.is_special}
    students = await _roster(session, load, period.start_date, period.end_date)
    ids = [s.id for s in students]
    marks = await session.execute(
        select(Mark.student_id, Mark.value, WorkKind.weight)
        .join(Lesson, Lesson.id == Mark.lesson_id).join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
        .join(WorkKind, WorkKind.id == Mark.work_kind_id)
        .where(Mark.student_id.in_(ids), TeachingLoad.subject_id == subject.id,
               Lesson.on_date.between(period.start_date, period.end_date))
        .order_by(Lesson.on_date, Lesson.lesson_number, Mark.id))
    by_student: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for student_id, value, weight in marks.tuples():
        by_student[student_id].append((value, weight))
    finals = await session.execute(select(FinalMark).where(
        FinalMark.student_id.in_(ids), FinalMark.subject_id == subject.id,
        FinalMark.academic_year_id == load.academic_year_id,
        (FinalMark.study_period_id == period.id) | FinalMark.study_period_id.is_(None)))
    entered: dict[int, dict[str, str]] = defaultdict(dict)
    for f in finals.scalars():
        entered[f.student_id][f.kind] = f.value
    rows = []
    for student in students:
        own = by_student.get(student.id, [])
        average = weighted_average([(numeric[v], w) for v, w in own if v in numeric])
        rows.append(FinalRow(student.id, _name(student), [v for v, _ in own], average,
                             suggest(average.value, values, settings.rounding_threshold), entered.get(student.id, {})))
    return FinalSheet(load, subject, await audience_name(session, load), period, window_of(period, settings), rows,
                      [v.value for v in values])


# --- entering a final mark -----------------------------------------------------------------------------------


async def _year_window(session: AsyncSession, load: TeachingLoad, grade: int, kind: str,
                       settings: JournalSettings) -> tuple[date, date, StudyPeriod | None]:
    year = await session.get(AcademicYear, load.academic_year_id)
    assert year is not None
    last = await session.scalar(select(StudyPeriod).where(
        StudyPeriod.academic_year_id == year.id, StudyPeriod.grade_from <= grade, StudyPeriod.grade_to >= grade,
        StudyPeriod.kind != "year").order_by(StudyPeriod.end_date.desc()).limit(1))
    end = (last.end_date if last else year.end_date) + timedelta(days=settings.final_window_after_days)
    if kind in ("exam", "project", "practice"):
        return year.start_date, end, last
    return (last.end_date if last else year.end_date) - timedelta(days=settings.final_window_before_days), end, last


async def set_final_mark(session: AsyncSession, writer: Writer, *, load_id: int, student_id: int, kind: str,
                         value: str, period_id: int | None = None) -> FinalMark:
    """Enter or correct a period / year / exam / project / practice / final mark in its window; a closed period
    needs the deputy head's permission and a reason (R-JRN-4)."""
    if kind not in FINAL_KINDS:
        raise JournalError("Вид итоговой отметки: за период, годовая, экзамен, проект, практика или итоговая.")
    if (kind == "period") != (period_id is not None):
        raise JournalError("Отметка за период указывается вместе с периодом; годовые и итоговые — без него.")
    load = await session.get(TeachingLoad, load_id)
    if load is None:
        raise JournalNotFound("Журнал не найден.")
    today = writer.school.today()
    if not await may_write_journal(writer.principal, session, load=load, on_date=today):
        raise JournalError("Этот журнал вам недоступен для записи.", status_code=403)
    settings = await journal_settings(session)
    audience = await audience_name(session, load)
    period: StudyPeriod | None
    if period_id is not None:
        period, grade = await _period_of_load(session, load, period_id)
        opens, closes = window_of(period, settings)
        last_day = period.end_date
    else:
        grade = await load_grade(session, load, today) or 0
        opens, closes, period = await _year_window(session, load, grade, kind, settings)
        last_day = period.end_date if period else closes
    await _check_open(session, writer, load, period, window=(opens, closes), kind=kind)
    grade = await roster_grade(session, load, audience, student_id, min(today, last_day))
    subject = await session.get(Subject, load.subject_id)
    assert subject is not None
    check_value(value.strip(), await marks_allowed(session, subject, grade, special=True))
    if kind == "final" and await _existing(session, load, student_id, "year", None) is None:
        raise JournalError("Сначала поставьте годовую отметку (и результаты экзамена, проекта или практики, "
                           "если они есть), затем итоговую.")
    row = await _existing(session, load, student_id, kind, period_id)
    if row is None:
        row = FinalMark(student_id=student_id, subject_id=load.subject_id, academic_year_id=load.academic_year_id,
                        study_period_id=period_id, kind=kind, value=value.strip(), author_id=writer.person_id,
                        updated_at=writer.school.now())
        session.add(row)
    elif row.value != value.strip():
        row.value, row.author_id, row.updated_at = value.strip(), writer.person_id, writer.school.now()
    await session.flush()
    await saved(session, writer, "final_mark", student_id=student_id, final_mark_id=row.id)
    return row


async def _check_open(session: AsyncSession, writer: Writer, load: TeachingLoad, period: StudyPeriod | None, *,
                      window: tuple[date, date], kind: str) -> None:
    """Final marks go in inside their window; a closed period only with the permission and a reason."""
    today = writer.school.today()
    if await check_closed_period(session, writer, load, period):
        note_reason(session, writer)
    elif not window[0] <= today <= window[1]:
        raise JournalError(f"Отметки ({KIND_NAMES[kind]}) ставятся с {ru_date(window[0])} по {ru_date(window[1])}.")


async def _existing(session: AsyncSession, load: TeachingLoad, student_id: int, kind: str,
                    period_id: int | None) -> FinalMark | None:
    query = select(FinalMark).where(FinalMark.student_id == student_id, FinalMark.subject_id == load.subject_id,
                                    FinalMark.academic_year_id == load.academic_year_id, FinalMark.kind == kind)
    query = query.where(FinalMark.study_period_id == period_id if period_id is not None
                        else FinalMark.study_period_id.is_(None))
    found: FinalMark | None = await session.scalar(query.with_for_update())
    return found
