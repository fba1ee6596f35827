"""Every structure query. School tables only: the session decides which school's schema they hit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.structure.models import ClassUnit, Enrollment


def _current(on: date) -> object:
    return and_(Enrollment.start_date <= on, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= on))


async def classes_with_counts(session: AsyncSession, on: date) -> list[tuple[ClassUnit, int]]:
    """All classes, each with the number of students enrolled on `on`."""
    counts = (
        select(Enrollment.class_unit_id, func.count().label("n"))
        .where(_current(on))  # type: ignore[arg-type]
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
        select(func.count()).select_from(Enrollment).where(Enrollment.class_unit_id == class_id, _current(on))  # type: ignore[arg-type]
    )
    return unit, int(n or 0)
