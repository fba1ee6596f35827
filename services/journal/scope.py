"""The lesson a journal write is about, and the checks every write shares: may this person write it, is its
period closed, is the student in the class (group) that day, which marks the subject allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.calendar.models import StudyPeriod
from services.calendar.service import period_for, ru_date
from services.diary import signals
from services.errors import RuleError
from services.grading.models import GradeValue
from services.grading.service import allowed_marks
from services.identity.policy import Principal, may_write_closed_period, may_write_journal
from services.outbox.service import add_event, add_events
from services.structure.models import ClassUnit, Enrollment, GroupMembership, StudyGroup, Subject, TeachingLoad
from services.timetable.models import Lesson
from tenants.registry import SchoolRecord

ENTRY_SAVED = "journal.entry_saved"
REASON_MAX = 300


class JournalError(RuleError):
    """A journal rule refused the write; nothing was saved."""

    problem_type = "/problems/journal"


class ReasonRequired(JournalError):
    """The write is a correction that must say why (a closed period, a mark of an earlier day)."""

    problem_type = "/problems/journal-reason-required"


class JournalNotFound(JournalError):
    default_status = 404


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes, in which school, and why (for corrections)."""

    principal: Principal
    school: SchoolRecord
    reason: str | None = None

    @property
    def person_id(self) -> int | None:
        return self.principal.person_id


@dataclass(frozen=True, slots=True)
class LessonScope:
    lesson: Lesson
    load: TeachingLoad
    subject: Subject
    audience: str
    """«5А» or the group's name."""
    period: StudyPeriod | None


def clean_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > REASON_MAX:
        raise JournalError(f"Причина исправления — не длиннее {REASON_MAX} знаков.")
    return text or None


async def load_grade(session: AsyncSession, load: TeachingLoad, on_date: date) -> int | None:
    """The grade (параллель) of a load's class, of its group's class, or the youngest in a cross-class group."""
    if load.class_unit_id is not None:
        grade: int | None = await session.scalar(select(ClassUnit.grade).where(ClassUnit.id == load.class_unit_id))
        return grade
    own: int | None = await session.scalar(select(ClassUnit.grade).join(
        StudyGroup, StudyGroup.class_unit_id == ClassUnit.id).where(StudyGroup.id == load.group_id))
    if own is not None:
        return own
    youngest: int | None = await session.scalar(
        select(func.min(ClassUnit.grade).label("grade"))
        .join(Enrollment, Enrollment.class_unit_id == ClassUnit.id)
        .join(GroupMembership, GroupMembership.student_id == Enrollment.student_id)
        .where(GroupMembership.group_id == load.group_id, _on(Enrollment, on_date), _on(GroupMembership, on_date)))
    return youngest


def _on(model: type[Enrollment] | type[GroupMembership], day: date) -> ColumnElement[bool]:
    return and_(model.start_date <= day, or_(model.end_date.is_(None), model.end_date >= day))


async def audience_name(session: AsyncSession, load: TeachingLoad) -> str:
    if load.class_unit_id is not None:
        unit = await session.get(ClassUnit, load.class_unit_id)
        return unit.name if unit else ""
    group = await session.get(StudyGroup, load.group_id)
    return group.name if group else ""


async def lesson_scope(session: AsyncSession, lesson_id: int, *, lock: bool = False) -> LessonScope:
    """The lesson with its load, subject, class and period: one query for a class's lesson (a group's needs two
    more for its grade and name), then the period."""
    query = (select(Lesson, TeachingLoad, Subject, ClassUnit)
             .join(TeachingLoad, TeachingLoad.id == Lesson.teaching_load_id)
             .join(Subject, Subject.id == TeachingLoad.subject_id)
             .outerjoin(ClassUnit, ClassUnit.id == TeachingLoad.class_unit_id)
             .where(Lesson.id == lesson_id))
    row = (await session.execute(query.with_for_update(of=Lesson) if lock else query)).one_or_none()
    if row is None:
        raise JournalNotFound("Урок не найден.")
    lesson, load, subject, unit = row
    if unit is not None:
        grade: int | None = unit.grade
        audience = unit.name
    else:
        grade = await load_grade(session, load, lesson.on_date)
        audience = await audience_name(session, load)
    period = await period_for(session, grade, lesson.on_date) if grade is not None else None
    return LessonScope(lesson, load, subject, audience, period)


async def check_may_write(session: AsyncSession, writer: Writer, scope: LessonScope) -> None:
    """The journal of this load on this date is the writer's (own load or grant), and a closed period is
    corrected only with the permission and a reason (R-JRN-4, R-JRN-5, R-ROLE-4)."""
    principal = writer.principal
    if not await may_write_journal(principal, session, load=scope.load, on_date=scope.lesson.on_date):
        raise JournalError("Этот журнал вам недоступен для записи: урок не из вашей нагрузки, и доступа на замену "
                           "на эту дату нет.", status_code=403)
    await check_closed_period(session, writer, scope.load, scope.period)
    note_reason(session, writer)


async def check_closed_period(session: AsyncSession, writer: Writer, load: TeachingLoad,
                              period: StudyPeriod | None) -> bool:
    """A closed period is corrected only with the deputy head's permission and a reason (R-JRN-4); True when the
    period is closed (and the write may go on)."""
    if period is None or period.closed_at is None:
        return False
    if not await may_write_closed_period(writer.principal, session, load=load, period=period,
                                         today=writer.school.today()):
        raise JournalError(f"Период «{period.name}» закрыт: исправления — только с разрешения заместителя "
                           "директора.", status_code=403)
    if writer.reason is None:
        raise ReasonRequired(f"Период «{period.name}» закрыт: укажите причину исправления.")
    return True


def note_reason(session: AsyncSession, writer: Writer) -> None:
    """The writer's reason goes into the audit entries of this transaction's writes (the cell's history)."""
    if writer.reason is not None:
        audit.set_actor(session, audit.Actor.account(writer.principal.account_id), reason=writer.reason)


def check_lesson_held(writer: Writer, scope: LessonScope) -> None:
    """Marks and attendance belong to a lesson that took place."""
    if scope.lesson.status == "cancelled":
        raise JournalError("Урок отменён: отметки и посещаемость на нём не ставятся.")
    if scope.lesson.on_date > writer.school.today():
        raise JournalError(f"Урок {ru_date(scope.lesson.on_date)} ещё не прошёл: отметки и посещаемость ставятся "
                           "в день урока или позже.")


async def student_grade(session: AsyncSession, scope: LessonScope, student_id: int) -> int:
    """The grade of the student's class on the lesson's date, if the student is in the lesson's class or group
    that day; otherwise the write is refused (no entries on days a student does not belong)."""
    return await roster_grade(session, scope.load, scope.audience, student_id, scope.lesson.on_date)


def _roster(load: TeachingLoad, day: date) -> Select[tuple[int, int]]:
    """(student id, grade of their class) of everyone in the load's class or group on `day`."""
    query = (select(Enrollment.student_id, ClassUnit.grade).join(ClassUnit, Enrollment.class_unit_id == ClassUnit.id)
             .where(_on(Enrollment, day)))
    if load.class_unit_id is not None:
        return query.where(Enrollment.class_unit_id == load.class_unit_id)
    return query.join(GroupMembership, GroupMembership.student_id == Enrollment.student_id).where(
        GroupMembership.group_id == load.group_id, _on(GroupMembership, day))


async def roster_grade(session: AsyncSession, load: TeachingLoad, audience: str, student_id: int, day: date) -> int:
    """The grade of the student's class on `day` if the student belongs to the load's class or group that day."""
    row = (await session.execute(_roster(load, day).where(Enrollment.student_id == student_id).limit(1))).first()
    if row is None:
        raise not_in_roster(audience, day)
    return int(row[1])


async def roster_members(session: AsyncSession, load: TeachingLoad, day: date) -> dict[int, int]:
    """Student id → grade of everyone who belongs to the load's class or group on `day`: one query for a whole
    class, where `roster_grade` is one per student."""
    return dict((await session.execute(_roster(load, day))).tuples().all())


def not_in_roster(audience: str, day: date) -> JournalError:
    return JournalError(f"Ученик не числится в «{audience}» на {ru_date(day)}: записи ставятся только за "
                        "дни, когда он учится в этом классе (группе).")


async def saved_many(session: AsyncSession, writer: Writer, what: str, lesson_id: int, student_ids: list[int]) -> None:
    """`saved` for several students of one lesson: one multi-row statement instead of one per student."""
    await add_events(session, topic=ENTRY_SAVED, school_id=writer.school.id, payloads=[
        {"what": what, "lesson_id": lesson_id, "student_id": student_id} for student_id in student_ids])
    signals.touched(session, writer.school.id, student_ids)


async def marks_allowed(session: AsyncSession, subject: Subject, grade: int, *, special: bool) -> list[GradeValue]:
    """The values a mark may take for this subject in this grade; special ones («н/а», «осв») only when asked."""
    values = await allowed_marks(session, subject.id, grade)
    if not values:
        raise JournalError(f"В {grade} классе по предмету «{subject.name}» отметки не ставятся "
                           "(безотметочное обучение).")
    return [v for v in values if special or not v.is_special]


def check_value(value: str, allowed: list[GradeValue]) -> GradeValue:
    for candidate in allowed:
        if candidate.value == value:
            return candidate
    listed = ", ".join(v.value for v in allowed)
    raise JournalError(f"«{value}» — не отметка системы оценивания этого предмета. Допустимы: {listed}.")


async def saved(session: AsyncSession, writer: Writer, what: str, **payload: int | str | None) -> None:
    """Every journal write puts its event in the outbox, in the write's own transaction (ARCHITECTURE.md)."""
    await add_event(session, topic=ENTRY_SAVED, school_id=writer.school.id,
                    payload={"what": what, **{k: v for k, v in payload.items() if v is not None}})
    student_id = payload.get("student_id")
    signals.touched(session, writer.school.id, [student_id if isinstance(student_id, int) else None])
