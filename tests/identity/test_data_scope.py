"""Parents see only their children, students only themselves; staff by permission (R-ROLE-4, R-ROLE-6)."""

from __future__ import annotations

from services.db import Database
from services.structure.models import Guardianship, Person
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn, school_writes


async def family(db: Database, school: ProvisionedSchool) -> dict[str, int]:
    async with school_writes(db, school.schema) as session:
        people = {
            "mother": Person(kind="guardian", last_name="Смирнова", first_name="Анна"),
            "son": Person(kind="student", last_name="Смирнов", first_name="Илья"),
            "daughter": Person(kind="student", last_name="Смирнова", first_name="Вера"),
            "stranger": Person(kind="student", last_name="Кузнецов", first_name="Олег"),
        }
        session.add_all(people.values())
        await session.flush()
        session.add_all([Guardianship(guardian_id=people["mother"].id, student_id=people[c].id)
                         for c in ("son", "daughter")])
        return {name: person.id for name, person in people.items()}


async def test_a_parent_sees_own_children_only_a_student_only_themself(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    ids = await family(db, school)
    card = f"/api/v1/schools/{school.slug}/students"

    mother = await sign_in({school: ["parent"]}, person_ids={school: ids["mother"]})
    assert (await mother.get(f"{card}/{ids['son']}")).json()["first_name"] == "Илья"
    assert (await mother.get(f"{card}/{ids['daughter']}")).status_code == 200
    refused = await mother.get(f"{card}/{ids['stranger']}")
    assert refused.status_code == 403
    assert "Кузнецов" not in refused.text

    son = await sign_in({school: ["student"]}, person_ids={school: ids["son"]})
    assert (await son.get(f"{card}/{ids['son']}")).status_code == 200
    assert (await son.get(f"{card}/{ids['daughter']}")).status_code == 403

    deputy = await sign_in({school: ["deputy_head"]})
    assert (await deputy.get(f"{card}/{ids['stranger']}")).json()["last_name"] == "Кузнецов"
    teacher = await sign_in({school: ["teacher"]})
    assert (await teacher.get(f"{card}/{ids['stranger']}")).status_code == 403


async def test_one_login_for_a_parent_with_children_in_two_schools(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    first, second = await make_school(name="Школа № 1"), await make_school(name="Гимназия № 2")
    in_first, in_second = await family(db, first), await family(db, second)
    parent = await sign_in({first: ["parent"], second: ["parent"]},
                           person_ids={first: in_first["mother"], second: in_second["mother"]})
    schools = (await parent.get("/api/v1/me")).json()["schools"]
    assert sorted(s["school"] for s in schools) == sorted([first.slug, second.slug])
    assert (await parent.get(f"/api/v1/schools/{first.slug}/students/{in_first['son']}")).status_code == 200
    assert (await parent.get(f"/api/v1/schools/{second.slug}/students/{in_second['son']}")).status_code == 200
    # Same ids, other school: the mother of school 1 is not the guardian there unless the membership says so.
    outsider = await sign_in({second: ["parent"]}, person_ids={second: in_second["stranger"]})
    assert (await outsider.get(f"/api/v1/schools/{second.slug}/students/{in_second['son']}")).status_code == 403
    chooser = await parent.get("/schools", headers={"Accept": "text/html"})
    assert "Школа № 1" in chooser.text
    assert "Гимназия № 2" in chooser.text
