"""No request of school A ever reaches school B's rows (R-PLT-1)."""

from __future__ import annotations

import asyncio
import random
from datetime import date

from litestar import Litestar
from sqlalchemy import select, text

from services import audit
from services.db import Database
from services.structure.models import ClassUnit, Enrollment, Person
from tenants.provisioning import ProvisionedSchool, set_status
from tests.conftest import MakeSchool, SignIn, school_writes


async def add_class(db: Database, school: ProvisionedSchool, grade: int, letter: str, students: int) -> int:
    async with school_writes(db, school.schema) as session:
        unit = ClassUnit(grade=grade, letter=letter)
        session.add(unit)
        await session.flush()
        for n in range(students):
            person = Person(kind="student", last_name=f"Ученик{n}", first_name="Тест")
            session.add(person)
            await session.flush()
            session.add(Enrollment(student_id=person.id, class_unit_id=unit.id, start_date=date(2020, 9, 1)))
        return unit.id


async def test_same_ids_in_two_schools_never_cross(db: Database, sign_in: SignIn, make_school: MakeSchool) -> None:
    a, b = await make_school(name="Школа А"), await make_school(name="Школа Б")
    # One person working in both schools: the only thing that picks the school is the URL.
    client = await sign_in({a: ["administrator"], b: ["administrator"]})
    id_a = await add_class(db, a, 5, "А", students=3)
    id_b = await add_class(db, b, 7, "Б", students=4)
    assert id_a == id_b == 1, "both schools number their rows from 1: the test is about identical ids"

    got_a = (await client.get(f"/api/v1/schools/{a.slug}/classes/{id_a}")).json()
    got_b = (await client.get(f"/api/v1/schools/{b.slug}/classes/{id_b}")).json()
    assert (got_a["name"], got_a["students"]) == ("5А", 3)
    assert (got_b["name"], got_b["students"]) == ("7Б", 4)
    listing_a = (await client.get(f"/api/v1/schools/{a.slug}/classes")).json()
    assert [row["name"] for row in listing_a] == ["5А"]
    page_a = (await client.get(f"/s/{a.slug}/", headers={"Accept": "text/html"})).text
    assert "5А" in page_a
    assert "7Б" not in page_a

    # Ids that exist only in B are simply absent through A.
    await add_class(db, b, 8, "В", students=0)
    missing = await client.get(f"/api/v1/schools/{a.slug}/classes/2")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_a_write_through_school_a_never_changes_school_b(db: Database, make_school: MakeSchool) -> None:
    a, b = await make_school(), await make_school()
    await add_class(db, a, 2, "А", students=0)
    await add_class(db, b, 2, "А", students=0)
    async with school_writes(db, a.schema) as session:
        await audit.update_rows(session, ClassUnit, {"letter": "Я"}, ClassUnit.id == 1)
        await audit.insert_rows(session, ClassUnit, [{"id": 2, "grade": 3, "letter": "Ж"}])
    async with school_writes(db, b.schema) as session:
        rows = (await session.execute(select(ClassUnit.id, ClassUnit.letter).order_by(ClassUnit.id))).all()
    assert [tuple(r) for r in rows] == [(1, "А")]


async def test_concurrent_requests_across_five_schools_see_only_their_own(
    db: Database, app: Litestar, sign_in: SignIn, make_school: MakeSchool
) -> None:
    schools = [await make_school(name=f"Школа {n}") for n in range(5)]
    client = await sign_in({school: ["teacher"] for school in schools})
    for n, school in enumerate(schools):
        for k in range(n + 1):
            await add_class(db, school, n + 1, "АБВГД"[k], students=0)
    expected = {s.slug: [f"{n + 1}{'АБВГД'[k]}" for k in range(n + 1)] for n, s in enumerate(schools)}

    plan = [schools[i % 5] for i in range(200)]
    random.Random(7).shuffle(plan)

    async def fetch(school: ProvisionedSchool) -> tuple[str, list[str]]:
        response = await client.get(f"/api/v1/schools/{school.slug}/classes")
        assert response.status_code == 200, response.text
        return school.slug, [row["name"] for row in response.json()]

    results = await asyncio.gather(*(fetch(s) for s in plan))
    assert len(results) == 200
    for slug, names in results:
        assert names == expected[slug]

    # Every connection the pool holds now has the server's default search_path: no school stuck to it.
    engine = app.state.runtime.db.engine
    held = [await engine.connect() for _ in range(engine.pool.size())]
    try:
        paths = {(await conn.execute(text("SHOW search_path"))).scalar_one() for conn in held}
    finally:
        for conn in held:
            await conn.close()
    assert paths == {'"$user", public'}


async def test_suspended_school_is_refused_and_unknown_is_not_found(
    db: Database, app: Litestar, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school = await make_school()
    client = await sign_in({school: ["teacher"]})
    assert (await client.get(f"/api/v1/schools/{school.slug}/classes")).status_code == 200

    await set_status(db, school.slug, "suspended", actor="tests", reason="проверка")
    app.state.runtime.registry.invalidate(school.slug)
    refused = await client.get(f"/api/v1/schools/{school.slug}/classes")
    assert refused.status_code == 403
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "/problems/school-unavailable"
    assert "приостановлена" in problem["detail"]
    page = await client.get(f"/s/{school.slug}/", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert "приостановлена" in page.text

    await set_status(db, school.slug, "active", actor="tests")
    app.state.runtime.registry.invalidate(school.slug)
    assert (await client.get(f"/api/v1/schools/{school.slug}/classes")).status_code == 200

    unknown = await client.get("/api/v1/schools/no-such-school/classes")
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "/problems/school-not-found"
    malformed = await client.get("/api/v1/schools/DROP%20SCHEMA/classes")
    assert malformed.status_code == 404
