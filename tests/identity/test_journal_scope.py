"""Who may read and write which journal, decided in the policy module before the journal exists (R-ROLE-4, -5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from services.calendar.models import AcademicYear
from services.db import Database
from services.identity.permissions import DEFAULT_ROLE_PERMISSIONS
from services.identity.policy import Principal, allowed_permissions, may_read_journal, may_write_journal
from services.identity.sessions import SessionData
from services.structure.models import ClassUnit, Person, Subject, TeachingLoad
from tests.conftest import MakeSchool, school_writes


def principal(roles: set[str], person_id: int | None) -> Principal:
    granted = {p for role in roles for p in DEFAULT_ROLE_PERMISSIONS[role]}
    base = Principal(1, "x", frozenset(), False, "sid", SessionData(1, 0, 0))
    return replace(base, roles=frozenset(roles), permissions=allowed_permissions(frozenset(roles), granted),
                   person_id=person_id)


async def test_teachers_write_their_load_class_teachers_read_their_class(db: Database,
                                                                           make_school: MakeSchool) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        year = AcademicYear(name="2026/2027", start_date=date(2026, 9, 1), end_date=date(2027, 5, 31))
        maths = Person(kind="staff", last_name="Иванова", first_name="Мария")
        history = Person(kind="staff", last_name="Петров", first_name="Олег")
        pupil = Person(kind="student", last_name="Смирнов", first_name="Илья")
        session.add_all([year, maths, history, pupil])
        await session.flush()
        five_a = ClassUnit(grade=5, letter="А", class_teacher_id=history.id)
        five_b = ClassUnit(grade=5, letter="Б")
        session.add_all([five_a, five_b])
        await session.flush()
        algebra = await session.scalar(select(Subject.id).where(Subject.name == "Математика"))
        load_a = TeachingLoad(academic_year_id=year.id, teacher_id=maths.id, subject_id=algebra,
                              class_unit_id=five_a.id, hours_per_week=Decimal(5))
        load_b = TeachingLoad(academic_year_id=year.id, teacher_id=history.id, subject_id=algebra,
                              class_unit_id=five_b.id, hours_per_week=Decimal(5))
        session.add_all([load_a, load_b])
        await session.flush()
        ids = (maths.id, history.id, pupil.id, load_a, load_b)
    maths_id, history_id, pupil_id, a_load, b_load = ids
    day = date(2026, 9, 7)

    async with db.transaction(school.schema) as session:
        teacher = principal({"teacher"}, maths_id)
        assert await may_write_journal(teacher, session, load=a_load, on_date=day)
        assert not await may_write_journal(teacher, session, load=b_load, on_date=day)
        assert await may_read_journal(teacher, session, load=a_load)
        assert not await may_read_journal(teacher, session, load=b_load)

        class_teacher = principal({"teacher", "class_teacher"}, history_id)
        assert await may_read_journal(class_teacher, session, load=a_load)
        assert not await may_write_journal(class_teacher, session, load=a_load, on_date=day)

        deputy = principal({"deputy_head"}, None)
        assert await may_read_journal(deputy, session, load=b_load)
        for family in ({"student"}, {"parent"}):
            someone = principal(family, pupil_id)
            assert not await may_read_journal(someone, session, load=a_load)
            assert not await may_write_journal(someone, session, load=a_load, on_date=day)
