"""Every structure query. School tables only: the session decides which school's schema they hit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.models import AcademicYear
from services.structure.models import (
    ClassUnit,
    Enrollment,
    GroupMembership,
    Guardianship,
    Movement,
    Person,
    StudyGroup,
    Subject,
    TeachingLoad,
)

T = TypeVar("T")


async def _one(session: AsyncSession, query: Select[tuple[T]]) -> T | None:
    return (await session.scalars(query)).first()


def _current(on: date) -> ColumnElement[bool]:
    return and_(Enrollment.start_date <= on, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on))


def _by_name() -> tuple[ColumnElement[str], ...]:
    return (Person.last_name.asc(), Person.first_name.asc(), Person.id.asc())  # type: ignore[return-value]


# --- classes -------------------------------------------------------------------------------------------------


async def classes_with_counts(session: AsyncSession, on: date) -> list[tuple[ClassUnit, int]]:
    """All classes, each with the number of students enrolled on `on`."""
    counts = (
        select(Enrollment.class_unit_id, func.count().label("n"))
        .where(_current(on))
        .group_by(Enrollment.class_unit_id)
        .subquery()
    )
    rows = await session.execute(
        select(ClassUnit, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.class_unit_id == ClassUnit.id)
        .order_by(ClassUnit.grade, ClassUnit.letter)
    )
    return [(unit, int(n)) for unit, n in rows.tuples()]


async def class_with_count(session: AsyncSession, class_id: int, on: date) -> tuple[ClassUnit, int] | None:
    unit = await session.get(ClassUnit, class_id)
    if unit is None:
        return None
    n = await session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.class_unit_id == class_id, _current(on))
    )
    return unit, int(n or 0)


async def get_class(session: AsyncSession, class_id: int) -> ClassUnit | None:
    return await session.get(ClassUnit, class_id)


async def class_by_name(session: AsyncSession, grade: int, letter: str) -> ClassUnit | None:
    return await _one(session, select(ClassUnit).where(ClassUnit.grade == grade, ClassUnit.letter == letter))


async def classes(session: AsyncSession) -> list[ClassUnit]:
    return list((await session.scalars(select(ClassUnit).order_by(ClassUnit.grade, ClassUnit.letter))).all())


@dataclass(frozen=True, slots=True)
class Belonging:
    """A student in a class from `start_date` to `end_date` (None: still there)."""

    student: Person
    start_date: date
    end_date: date | None


async def students_of_class_on(session: AsyncSession, class_unit_id: int, on_date: date) -> list[Person]:
    """The students enrolled in the class on that date, by name: the rows of the class journal for that day."""
    rows = await session.scalars(
        select(Person).join(Enrollment, Enrollment.student_id == Person.id)
        .where(Enrollment.class_unit_id == class_unit_id, _current(on_date))
        .order_by(*_by_name())
    )
    return list(rows.unique().all())


async def enrolled_between(session: AsyncSession, class_unit_id: int, start: date, end: date) -> list[Belonging]:
    """Every student who belonged to the class on some day of [start, end], with the dates of each stay
    (not clipped to the range), by name then date: the journal shows a student only on these dates."""
    rows = await session.execute(
        select(Person, Enrollment.start_date, Enrollment.end_date)
        .join(Enrollment, Enrollment.student_id == Person.id)
        .where(Enrollment.class_unit_id == class_unit_id, Enrollment.start_date <= end,
               or_(Enrollment.end_date.is_(None), Enrollment.end_date >= start))
        .order_by(*_by_name(), Enrollment.start_date)
    )
    return [Belonging(person, s, e) for person, s, e in rows.tuples()]


async def student_class_on(session: AsyncSession, student_id: int, on_date: date) -> ClassUnit | None:
    return await _one(session,
        select(ClassUnit).join(Enrollment, Enrollment.class_unit_id == ClassUnit.id)
        .where(Enrollment.student_id == student_id, _current(on_date))
    )


# --- enrolment and movement --------------------------------------------------------------------------------


async def open_enrollment(session: AsyncSession, student_id: int) -> Enrollment | None:
    """The student's enrolment that has no end yet (at most one: the movement rules keep it so)."""
    return await _one(session,
        select(Enrollment).where(Enrollment.student_id == student_id, Enrollment.end_date.is_(None))
        .order_by(Enrollment.start_date.desc()).limit(1)
    )


async def latest_enrollment(session: AsyncSession, student_id: int) -> Enrollment | None:
    return await _one(session,
        select(Enrollment).where(Enrollment.student_id == student_id)
        .order_by(Enrollment.start_date.desc(), Enrollment.id.desc()).limit(1)
    )


async def last_movement(session: AsyncSession, student_id: int) -> Movement | None:
    return await _one(session,
        select(Movement).where(Movement.student_id == student_id)
        .order_by(Movement.on_date.desc(), Movement.id.desc()).limit(1)
    )


async def movements_of(session: AsyncSession, student_id: int) -> list[Movement]:
    """A student's movement history in date order."""
    return list((await session.scalars(
        select(Movement).where(Movement.student_id == student_id).order_by(Movement.on_date, Movement.id)
    )).all())


async def enrollments_of(session: AsyncSession, student_id: int) -> list[Enrollment]:
    return list((await session.scalars(
        select(Enrollment).where(Enrollment.student_id == student_id).order_by(Enrollment.start_date)
    )).all())


async def memberships_to_close(session: AsyncSession, student_id: int, on_date: date,
                               class_unit_id: int | None = None) -> list[GroupMembership]:
    """The student's group memberships still running on `on_date` — of subgroups of one class, or of every
    group when no class is given."""
    query = select(GroupMembership).where(
        GroupMembership.student_id == student_id,
        or_(GroupMembership.end_date.is_(None), GroupMembership.end_date >= on_date),
    )
    if class_unit_id is not None:
        query = query.join(StudyGroup, StudyGroup.id == GroupMembership.group_id).where(
            StudyGroup.kind == "subgroup", StudyGroup.class_unit_id == class_unit_id)
    return list((await session.scalars(query)).all())


# --- people ---------------------------------------------------------------------------------------------------


async def get_person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def lock_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person's row, locked to the end of the transaction: two movements of one student never interleave."""
    return await _one(session, select(Person).where(Person.id == person_id).with_for_update())


async def people(session: AsyncSession, kind: str) -> list[Person]:
    return list((await session.scalars(select(Person).where(Person.kind == kind).order_by(*_by_name()))).all())


async def person_in_use(session: AsyncSession, person_id: int) -> bool:
    """Whether any record refers to the person (then it is kept: the history must stay whole)."""
    checks = [
        select(Enrollment.id).where(Enrollment.student_id == person_id),
        select(Movement.id).where(Movement.student_id == person_id),
        select(GroupMembership.id).where(GroupMembership.student_id == person_id),
        select(TeachingLoad.id).where(TeachingLoad.teacher_id == person_id),
        select(ClassUnit.id).where(ClassUnit.class_teacher_id == person_id),
        select(Guardianship.student_id).where(
            or_(Guardianship.guardian_id == person_id, Guardianship.student_id == person_id)),
    ]
    for query in checks:
        if await session.scalar(query.limit(1)) is not None:
            return True
    return False


async def guardianships_of_student(session: AsyncSession, student_id: int) -> list[Guardianship]:
    return list((await session.scalars(
        select(Guardianship).where(Guardianship.student_id == student_id).order_by(Guardianship.guardian_id)
    )).all())


async def get_guardianship(session: AsyncSession, guardian_id: int, student_id: int) -> Guardianship | None:
    return await session.get(Guardianship, (guardian_id, student_id))


# --- subjects, groups, load -----------------------------------------------------------------------------------


async def subjects(session: AsyncSession) -> list[Subject]:
    return list((await session.scalars(select(Subject).order_by(Subject.name))).all())


async def get_subject(session: AsyncSession, subject_id: int) -> Subject | None:
    return await session.get(Subject, subject_id)


async def subject_by_name(session: AsyncSession, name: str) -> Subject | None:
    return await _one(session, select(Subject).where(func.lower(Subject.name) == name.lower()))


async def get_group(session: AsyncSession, group_id: int) -> StudyGroup | None:
    return await session.get(StudyGroup, group_id)


async def groups(session: AsyncSession, class_unit_id: int | None = None) -> list[StudyGroup]:
    query = select(StudyGroup).order_by(StudyGroup.name, StudyGroup.id)
    if class_unit_id is not None:
        query = query.where(StudyGroup.class_unit_id == class_unit_id)
    return list((await session.scalars(query)).all())


async def group_members(session: AsyncSession, group_id: int) -> list[GroupMembership]:
    return list((await session.scalars(
        select(GroupMembership).where(GroupMembership.group_id == group_id)
        .order_by(GroupMembership.start_date, GroupMembership.id)
    )).all())


async def enrolled_throughout(session: AsyncSession, student_id: int, class_unit_id: int, start: date,
                              end: date | None) -> bool:
    """Whether one enrolment of the student in the class covers every day from `start` to `end` (None: open)."""
    covers_end = Enrollment.end_date.is_(None) if end is None else or_(
        Enrollment.end_date.is_(None), Enrollment.end_date >= end)
    found = await session.scalar(select(Enrollment.id).where(
        Enrollment.student_id == student_id, Enrollment.class_unit_id == class_unit_id,
        Enrollment.start_date <= start, covers_end).limit(1))
    return found is not None


async def get_academic_year(session: AsyncSession, year_id: int) -> AcademicYear | None:
    return await session.get(AcademicYear, year_id)


async def academic_years(session: AsyncSession) -> list[AcademicYear]:
    return list((await session.scalars(select(AcademicYear).order_by(AcademicYear.start_date.desc()))).all())


async def year_on(session: AsyncSession, on: date) -> AcademicYear | None:
    return await _one(session, select(AcademicYear).where(AcademicYear.start_date <= on, AcademicYear.end_date >= on))


async def same_load(session: AsyncSession, *, academic_year_id: int, teacher_id: int, subject_id: int,
                    class_unit_id: int | None, group_id: int | None) -> TeachingLoad | None:
    target = (TeachingLoad.group_id == group_id) if group_id is not None else (
        TeachingLoad.class_unit_id == class_unit_id)
    return await _one(session, select(TeachingLoad).where(
        TeachingLoad.academic_year_id == academic_year_id, TeachingLoad.teacher_id == teacher_id,
        TeachingLoad.subject_id == subject_id, target).limit(1))


async def get_load(session: AsyncSession, load_id: int) -> TeachingLoad | None:
    return await session.get(TeachingLoad, load_id)


async def loads(session: AsyncSession, *, academic_year_id: int | None = None, teacher_id: int | None = None,
                class_unit_id: int | None = None) -> list[TeachingLoad]:
    """Teaching load items, filtered; by class means the class itself and its subgroups."""
    query = select(TeachingLoad).order_by(TeachingLoad.teacher_id, TeachingLoad.subject_id, TeachingLoad.id)
    if academic_year_id is not None:
        query = query.where(TeachingLoad.academic_year_id == academic_year_id)
    if teacher_id is not None:
        query = query.where(TeachingLoad.teacher_id == teacher_id)
    if class_unit_id is not None:
        in_class = select(StudyGroup.id).where(StudyGroup.class_unit_id == class_unit_id)
        query = query.where(or_(TeachingLoad.class_unit_id == class_unit_id, TeachingLoad.group_id.in_(in_class)))
    return list((await session.scalars(query)).all())


async def hours_by_teacher(session: AsyncSession, academic_year_id: int) -> dict[int, Decimal]:
    rows = await session.execute(
        select(TeachingLoad.teacher_id, func.sum(TeachingLoad.hours_per_week))
        .where(TeachingLoad.academic_year_id == academic_year_id).group_by(TeachingLoad.teacher_id))
    return {teacher: Decimal(total) for teacher, total in rows.tuples()}


async def people_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await session.scalars(select(Person).where(Person.id.in_(set(ids))))).all()}


async def students_without_class(session: AsyncSession) -> list[Person]:
    """Students with no running enrolment: those an arrival can place."""
    running = select(Enrollment.student_id).where(Enrollment.end_date.is_(None))
    return list((await session.scalars(
        select(Person).where(Person.kind == "student", Person.id.not_in(running)).order_by(*_by_name())
    )).all())
