"""The groups pages: a subgroup of a class is created and takes an enrolled student; a student from another class
is refused with the Russian message and nothing is written; a teacher may look but not change (issue 4 item 8)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from services.db import Database
from services.structure.models import ClassUnit, Enrollment, GroupMembership, Person, StudyGroup, Subject
from tests.conftest import MakeSchool, SignIn, school_writes


async def test_subgroup_created_member_added_outsider_refused(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        a5, b5 = ClassUnit(grade=5, letter="А"), ClassUnit(grade=5, letter="Б")
        inside = Person(kind="student", last_name="Ковалёва", first_name="Анна")
        outside = Person(kind="student", last_name="Лебедев", first_name="Иван")
        english = Subject(name="Английский язык", short_name="Англ.")
        session.add_all([a5, b5, inside, outside, english])
        await session.flush()
        session.add_all([Enrollment(student_id=inside.id, class_unit_id=a5.id, start_date=date(2026, 9, 1)),
                         Enrollment(student_id=outside.id, class_unit_id=b5.id, start_date=date(2026, 9, 1))])
        ids = {"a5": a5.id, "inside": inside.id, "outside": outside.id, "english": english.id}

    deputy = await sign_in({school: ["deputy_head"]})
    base = f"/s/{school.slug}/groups"
    page = await deputy.get(base)
    assert page.status_code == 200
    assert "Группы ещё не созданы" in page.text

    refused = await deputy.post(base, data={"name": "5А англ. 1", "kind": "subgroup",
                                            "class_unit_id": str(ids["a5"])})
    assert refused.status_code == 422
    assert "Для подгруппы укажите класс и предмет." in refused.text

    created = await deputy.post(base, data={"name": "5А англ. 1", "kind": "subgroup",
                                            "class_unit_id": str(ids["a5"]), "subject_id": str(ids["english"])})
    assert created.status_code == 303
    group_url = created.headers["location"].split("?")[0]
    listing = await deputy.get(base)
    assert "5А англ. 1" in listing.text
    assert "подгруппа класса" in listing.text
    assert "Английский язык" in listing.text

    added = await deputy.post(group_url, data={"student_id": str(ids["inside"]), "start_date": "2026-09-01"})
    assert added.status_code == 303
    shown = await deputy.get(group_url)
    assert "Ковалёва Анна" in shown.text
    assert "01.09.2026" in shown.text

    outsider = await deputy.post(group_url, data={"student_id": str(ids["outside"]), "start_date": "2026-09-01"})
    assert outsider.status_code == 422
    assert "Ученик не учится в классе 5А на даты членства в подгруппе." in outsider.text
    async with db.transaction(school.schema) as session:
        assert await session.scalar(select(func.count()).select_from(GroupMembership)) == 1
        assert await session.scalar(select(func.count()).select_from(StudyGroup)) == 1

    teacher = await sign_in({school: ["teacher"]})
    assert (await teacher.get(base)).status_code == 200
    assert (await teacher.post(base, data={"name": "Кружок", "kind": "cross_class"})).status_code == 403
    assert (await teacher.post(group_url, data={"student_id": str(ids["inside"]),
                                                "start_date": "2026-09-02"})).status_code == 403
