"""Every grading query. School tables only: the session decides which school's schema they hit."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.db import SchoolBase
from services.grading.models import GradeConversion, GradeValue, GradingSystem, SubjectGrading, WorkKind
from services.structure.models import Subject


async def systems(session: AsyncSession) -> list[GradingSystem]:
    return list((await session.scalars(select(GradingSystem).order_by(GradingSystem.id))).all())


async def system(session: AsyncSession, system_id: int) -> GradingSystem | None:
    return await session.get(GradingSystem, system_id)


async def system_by_code(session: AsyncSession, code: str) -> GradingSystem | None:
    return (await session.scalars(select(GradingSystem).where(GradingSystem.code == code))).first()


async def values(session: AsyncSession, system_id: int) -> list[GradeValue]:
    return list((await session.scalars(
        select(GradeValue).where(GradeValue.grading_system_id == system_id)
        .order_by(GradeValue.ordering, GradeValue.id))).all())


async def all_values(session: AsyncSession) -> list[GradeValue]:
    return list((await session.scalars(select(GradeValue).order_by(GradeValue.ordering, GradeValue.id))).all())


async def value(session: AsyncSession, value_id: int) -> GradeValue | None:
    return await session.get(GradeValue, value_id)


async def value_in(session: AsyncSession, system_id: int, mark: str) -> GradeValue | None:
    return (await session.scalars(
        select(GradeValue).where(GradeValue.grading_system_id == system_id, GradeValue.value == mark))).first()


async def conversion(session: AsyncSession, from_value_id: int, to_system_id: int) -> GradeConversion | None:
    return await session.get(GradeConversion, (from_value_id, to_system_id))


async def converted(session: AsyncSession, from_system_id: int, mark: str, to_system_id: int) -> str | None:
    source, target = aliased(GradeValue), aliased(GradeValue)
    return (await session.scalars(
        select(target.value)
        .select_from(GradeConversion)
        .join(source, source.id == GradeConversion.from_value_id)
        .join(target, target.id == GradeConversion.to_value_id)
        .where(source.grading_system_id == from_system_id, source.value == mark,
               GradeConversion.to_system_id == to_system_id))).first()


async def conversions(session: AsyncSession) -> list[tuple[str, str, str, str]]:
    """(from system code, value, to system code, to value) of every conversion."""
    source, target = aliased(GradeValue), aliased(GradeValue)
    from_system, to_system = aliased(GradingSystem), aliased(GradingSystem)
    rows = await session.execute(
        select(from_system.code, source.value, to_system.code, target.value)
        .select_from(GradeConversion)
        .join(source, source.id == GradeConversion.from_value_id)
        .join(from_system, from_system.id == source.grading_system_id)
        .join(to_system, to_system.id == GradeConversion.to_system_id)
        .join(target, target.id == GradeConversion.to_value_id)
        .order_by(from_system.id, to_system.id, source.ordering))
    return [(a, b, c, d) for a, b, c, d in rows.tuples()]


async def delete_conversion(session: AsyncSession, from_value_id: int, to_system_id: int) -> None:
    found = await conversion(session, from_value_id, to_system_id)
    if found is not None:
        await session.delete(found)


async def subject_grading(session: AsyncSession, subject_id: int, grade: int) -> SubjectGrading | None:
    return await session.get(SubjectGrading, (subject_id, grade))


async def subject_gradings(session: AsyncSession) -> list[SubjectGrading]:
    return list((await session.scalars(
        select(SubjectGrading).order_by(SubjectGrading.subject_id, SubjectGrading.grade))).all())


async def subjects(session: AsyncSession) -> list[Subject]:
    return list((await session.scalars(select(Subject).order_by(Subject.name))).all())


async def subject(session: AsyncSession, subject_id: int) -> Subject | None:
    return await session.get(Subject, subject_id)


async def work_kinds(session: AsyncSession) -> list[WorkKind]:
    return list((await session.scalars(select(WorkKind).order_by(WorkKind.active.desc(), WorkKind.name))).all())


async def work_kind(session: AsyncSession, kind_id: int) -> WorkKind | None:
    return await session.get(WorkKind, kind_id)


async def work_kind_named(session: AsyncSession, name: str) -> WorkKind | None:
    return (await session.scalars(select(WorkKind).where(WorkKind.name == name))).first()


async def work_kind_used(session: AsyncSession, kind_id: int) -> bool:
    """Whether any school table refers to the kind of work (marks, once the journal has them)."""
    for table in SchoolBase.metadata.tables.values():
        for fk in table.foreign_keys:
            refers = fk.column.table.name == WorkKind.__tablename__ and table.name != WorkKind.__tablename__
            if refers and await session.scalar(select(exists().where(fk.parent == kind_id))):
                return True
    return False
