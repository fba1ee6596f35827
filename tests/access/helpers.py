"""Shared set-up of the access and support tests: a class with a student, an anonymous browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx

from services.calendar.models import AcademicYear, Holiday
from services.db import Database
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person
from tenants.provisioning import ProvisionedSchool
from tests.conftest import _csrf_header, school_writes

HTML = {"Accept": "text/html"}


async def add_student(db: Database, school: ProvisionedSchool, last: str, first: str, birth: date, *,
                      guardian: tuple[str, str] | None = None, enrolled: bool = True) -> tuple[int, int | None]:
    """A student of 5А (enrolled from a year ago), optionally with a guardian; returns (student, guardian) ids."""
    async with school_writes(db, school.schema) as session:
        unit = ClassUnit(grade=5, letter=f"А{last[:1]}")
        student = Person(kind="student", last_name=last, first_name=first, birth_date=birth)
        session.add_all([unit, student])
        await session.flush()
        start = date.today() - timedelta(days=365)
        session.add(Enrollment(student_id=student.id, class_unit_id=unit.id, start_date=start,
                               end_date=None if enrolled else start + timedelta(days=30)))
        guardian_id = None
        if guardian:
            parent = Person(kind="guardian", last_name=guardian[0], first_name=guardian[1])
            session.add(parent)
            await session.flush()
            session.add(Guardianship(guardian_id=parent.id, student_id=student.id))
            guardian_id = parent.id
        return student.id, guardian_id


async def add_holiday(db: Database, school: ProvisionedSchool, day: date) -> None:
    """A school-wide day off on `day`, inside a year around it."""
    async with school_writes(db, school.schema) as session:
        year = AcademicYear(name=f"Y{day.isoformat()}", start_date=day - timedelta(days=100),
                            end_date=day + timedelta(days=200))
        session.add(year)
        await session.flush()
        session.add(Holiday(academic_year_id=year.id, name="Выходной", start_date=day, end_date=day,
                            grade_from=1, grade_to=11))


@asynccontextmanager
async def anonymous(server_url: str, form: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with no session that has opened `form` and so holds the CSRF cookie."""
    async with httpx.AsyncClient(base_url=server_url, timeout=30, event_hooks={"request": [_csrf_header]}) as http:
        assert (await http.get(form, headers=HTML)).status_code == 200
        yield http


def application_form(**overrides: str) -> dict[str, str]:
    form = {
        "applicant_name": "Петрова Мария Ивановна", "contact_email": "mama@example.ru", "contact_phone": "",
        "child_name": "Петров Илья", "child_class": "5А", "child_birth_date": "2015-03-01",
        "relationship": "мать", "documents": "паспорт, свидетельство о рождении",
    }
    return form | overrides
