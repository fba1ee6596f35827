"""A school for mail and surveys: 5А (class teacher Иванова, who teaches it maths) with two current students and
one who left, 6Б with one student; every student has a parent; Петров teaches nothing; a deputy head."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from services.calendar.models import AcademicYear
from services.db import Database
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person, Subject, TeachingLoad
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn, school_writes


@dataclass
class MailSchool:
    school: ProvisionedSchool
    class_teacher: int
    other_teacher: int
    deputy: int
    five_a: int
    six_b: int
    students: list[int]
    """[5А, 5А, left 5А, 6Б]"""
    parents: list[int]
    """the parent of each student, in the same order"""

    @property
    def slug(self) -> str:
        return self.school.slug

    def api(self, path: str) -> str:
        return f"/api/v1/schools/{self.school.slug}/messages{path}"

    def surveys(self, path: str = "") -> str:
        return f"/api/v1/schools/{self.school.slug}/surveys{path}"


async def build_mail_school(db: Database, make_school: MakeSchool) -> MailSchool:
    school = await make_school()
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    async with school_writes(db, school.schema) as s:
        start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
        year = AcademicYear(name=f"{start.year}/{start.year + 1}", start_date=start,
                            end_date=date(start.year + 1, 8, 31))
        staff = [Person(kind="staff", last_name=n, first_name="Т") for n in ("Иванова", "Петров", "Сидорова")]
        pupils = [Person(kind="student", last_name=n, first_name="У") for n in ("Алексеев", "Борисова", "Васин",
                                                                              "Гришин")]
        parents = [Person(kind="guardian", last_name=n, first_name="Р") for n in ("Алексеева", "Борисов",
                                                                                "Васина", "Гришина")]
        s.add_all([year, *staff, *pupils, *parents])
        await s.flush()
        five_a = ClassUnit(grade=5, letter="А", class_teacher_id=staff[0].id)
        six_b = ClassUnit(grade=6, letter="Б")
        s.add_all([five_a, six_b])
        await s.flush()
        s.add_all([
            Enrollment(student_id=pupils[0].id, class_unit_id=five_a.id, start_date=start),
            Enrollment(student_id=pupils[1].id, class_unit_id=five_a.id, start_date=start),
            Enrollment(student_id=pupils[2].id, class_unit_id=five_a.id, start_date=start,
                       end_date=today - timedelta(days=3)),
            Enrollment(student_id=pupils[3].id, class_unit_id=six_b.id, start_date=start),
            *[Guardianship(guardian_id=p.id, student_id=c.id) for p, c in zip(parents, pupils, strict=True)],
        ])
        maths = await s.scalar(select(Subject.id).where(Subject.name == "Математика"))
        assert maths is not None
        s.add(TeachingLoad(academic_year_id=year.id, teacher_id=staff[0].id, subject_id=maths,
                           class_unit_id=five_a.id, hours_per_week=Decimal(5)))
        await s.flush()
        return MailSchool(school, staff[0].id, staff[1].id, staff[2].id, five_a.id, six_b.id,
                          [p.id for p in pupils], [p.id for p in parents])


@pytest.fixture
async def mail(db: Database, make_school: MakeSchool) -> MailSchool:
    return await build_mail_school(db, make_school)


@dataclass
class MailClients:
    class_teacher: httpx.AsyncClient
    other_teacher: httpx.AsyncClient
    deputy: httpx.AsyncClient
    student: httpx.AsyncClient
    """the first student of 5А"""
    parent: httpx.AsyncClient
    """the first student's parent"""
    other_parent: httpx.AsyncClient
    """the second 5А student's parent"""
    six_b_parent: httpx.AsyncClient
    left_parent: httpx.AsyncClient
    """the parent of the student who left 5А"""


@pytest.fixture
async def people(mail: MailSchool, sign_in: SignIn) -> MailClients:
    s = mail.school
    return MailClients(
        await sign_in({s: ["teacher", "class_teacher"]}, person_ids={s: mail.class_teacher}),
        await sign_in({s: ["teacher"]}, person_ids={s: mail.other_teacher}),
        await sign_in({s: ["deputy_head"]}, person_ids={s: mail.deputy}),
        await sign_in({s: ["student"]}, person_ids={s: mail.students[0]}),
        await sign_in({s: ["parent"]}, person_ids={s: mail.parents[0]}),
        await sign_in({s: ["parent"]}, person_ids={s: mail.parents[1]}),
        await sign_in({s: ["parent"]}, person_ids={s: mail.parents[3]}),
        await sign_in({s: ["parent"]}, person_ids={s: mail.parents[2]}),
    )
