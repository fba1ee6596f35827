"""Journal access granted by the deputy head: a substitute's access to a journal around the substituted lesson
(R-JRN-5), and a permit to correct a closed period (R-JRN-4). Both are recorded with who granted them and why."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import StudyPeriod
from services.calendar.service import ru_date
from services.journal.models import CorrectionPermit, JournalGrant
from services.journal.scope import JournalError, JournalNotFound, clean_reason, load_grade
from services.structure.models import Person, TeachingLoad
from services.timetable.models import Lesson

GRANT_MARGIN = timedelta(days=1)
PERMIT_MAX_DAYS = 30


async def _staff(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or person.kind != "staff":
        raise JournalNotFound("Сотрудник не найден.")
    return person


def _required_reason(reason: str | None) -> str:
    text = clean_reason(reason)
    if text is None:
        raise JournalError("Укажите причину.")
    return text


async def grant_substitution(session: AsyncSession, *, lesson_id: int, teacher_id: int, reason: str | None,
                             granted_by: int) -> JournalGrant:
    """Give the substitute the lesson's journal from the day before the lesson to the day after."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None:
        raise JournalNotFound("Урок не найден.")
    await _staff(session, teacher_id)
    load = await session.get(TeachingLoad, lesson.teaching_load_id)
    assert load is not None
    if load.teacher_id == teacher_id:
        raise JournalError("Это учитель самого журнала: доступ на замену ему не нужен.")
    grant = JournalGrant(teacher_id=teacher_id, teaching_load_id=load.id, lesson_id=lesson.id,
                         valid_from=lesson.on_date - GRANT_MARGIN, valid_to=lesson.on_date + GRANT_MARGIN,
                         reason=_required_reason(reason), granted_by=granted_by)
    session.add(grant)
    await session.flush()
    return grant


async def grants_of_lesson(session: AsyncSession, lesson_id: int) -> list[JournalGrant]:
    return list((await session.execute(select(JournalGrant).where(JournalGrant.lesson_id == lesson_id)
                                       .order_by(JournalGrant.id))).scalars())


async def permit_correction(session: AsyncSession, *, teaching_load_id: int, study_period_id: int, teacher_id: int,
                            valid_until: date, reason: str | None, granted_by: int, today: date) -> CorrectionPermit:
    """Let a teacher correct one journal in a closed period until `valid_until` (at most 30 days ahead)."""
    load = await session.get(TeachingLoad, teaching_load_id)
    if load is None:
        raise JournalNotFound("Журнал (предмет нагрузки) не найден.")
    period = await session.get(StudyPeriod, study_period_id)
    if period is None:
        raise JournalNotFound("Учебный период не найден.")
    await _staff(session, teacher_id)
    grade = await load_grade(session, load, period.start_date)
    if period.academic_year_id != load.academic_year_id or grade is None or not (
            period.grade_from <= grade <= period.grade_to):
        raise JournalError(f"Период «{period.name}» не относится к этому журналу.")
    problems = []
    if period.closed_at is None:
        problems.append(f"Период «{period.name}» не закрыт: разрешение не нужно.")
    if not today <= valid_until <= today + timedelta(days=PERMIT_MAX_DAYS):
        latest = ru_date(today + timedelta(days=PERMIT_MAX_DAYS))
        problems.append(f"Разрешение действует от сегодняшнего дня до {latest}.")
    if problems:
        raise JournalError(*problems)
    permit = CorrectionPermit(teacher_id=teacher_id, teaching_load_id=load.id, study_period_id=period.id,
                              valid_until=valid_until, reason=_required_reason(reason), granted_by=granted_by)
    session.add(permit)
    await session.flush()
    return permit
