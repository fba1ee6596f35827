"""People, classes, groups, teaching load and student movement (R-STR-3, R-STR-4, R-STR-6), through the API
and pages as a deputy head uses them, and the repository helpers the journal grid reads."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from services.calendar.models import AcademicYear
from services.db import Database
from services.structure import repository
from services.structure.models import Enrollment, GroupMembership, Movement, Person
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn, school_writes


def api(school: ProvisionedSchool, path: str) -> str:
    return f"/api/v1/schools/{school.slug}{path}"


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else None


async def person(client: httpx.AsyncClient, school: ProvisionedSchool, kind: str, last: str, first: str = "Иван",
                 **extra: Any) -> int:
    body = {"last_name": last, "first_name": first, **extra}
    created: int = (await ok(await client.post(api(school, f"/people/{kind}"), json=body)))["id"]
    return created


async def new_class(client: httpx.AsyncClient, school: ProvisionedSchool, grade: int, letter: str) -> int:
    created: int = (await ok(await client.post(api(school, "/classes"), json={"grade": grade, "letter": letter})))["id"]
    return created


async def year(db: Database, school: ProvisionedSchool) -> int:
    async with school_writes(db, school.schema) as session:
        item = AcademicYear(name="2026/2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
        session.add(item)
        await session.flush()
        return item.id


async def test_classes_are_created_renamed_and_unique_per_grade(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    teacher_id = await person(deputy, school, "staff", "Петрова", "Анна")
    created = await ok(await deputy.post(api(school, "/classes"),
                                         json={"grade": 5, "letter": "а", "class_teacher_id": teacher_id}))
    assert (created["name"], created["class_teacher_id"]) == ("5А", teacher_id)

    duplicate = await deputy.post(api(school, "/classes"), json={"grade": 5, "letter": "А"})
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "Класс 5А уже есть."
    for bad in ({"grade": 12, "letter": "А"}, {"grade": 0, "letter": "А"}, {"grade": 5, "letter": "A"},
                {"grade": 5, "letter": "АБ"}):
        refused = await deputy.post(api(school, "/classes"), json=bad)
        assert refused.status_code == 422, bad

    other = await new_class(deputy, school, 6, "Б")
    renamed = await ok(await deputy.put(api(school, f"/classes/{other}"), json={"grade": 6, "letter": "В"}))
    assert renamed["name"] == "6В"
    clash = await deputy.put(api(school, f"/classes/{other}"), json={"grade": 5, "letter": "А"})
    assert clash.json()["detail"] == "Класс 5А уже есть."
    listing = await ok(await deputy.get(api(school, "/classes")))
    assert [row["name"] for row in listing] == ["5А", "6В"]
    assert set(listing[0]) == {"id", "name", "grade", "letter", "students"}


async def test_class_teacher_must_be_staff(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    student_id = await person(deputy, school, "students", "Сидоров")
    refused = await deputy.post(api(school, "/classes"), json={"grade": 7, "letter": "А",
                                                               "class_teacher_id": student_id})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Классным руководителем может быть только сотрудник школы."
    assert await ok(await deputy.get(api(school, "/classes"))) == []


async def test_people_and_guardians(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    student_id = await person(deputy, school, "students", "Сидоров", birth_date="2015-03-04")
    guardian_id = await person(deputy, school, "guardians", "Сидорова", "Мария")
    future = await deputy.post(api(school, "/people/students"),
                               json={"last_name": "Будущий", "first_name": "Ученик", "birth_date": "2999-01-01"})
    assert future.status_code == 422
    assert "в будущем" in future.json()["detail"]
    blank = await deputy.post(api(school, "/people/staff"), json={"last_name": " ", "first_name": ""})
    assert blank.json()["detail"] == "Укажите фамилию. Укажите имя."

    await ok(await deputy.post(api(school, f"/students/{student_id}/guardians"),
                               json={"guardian_id": guardian_id, "relation": "мать"}))
    again = await deputy.post(api(school, f"/students/{student_id}/guardians"),
                              json={"guardian_id": guardian_id})
    assert again.status_code == 409
    wrong = await deputy.post(api(school, f"/students/{student_id}/guardians"),
                              json={"guardian_id": student_id})
    assert wrong.status_code == 404
    links = await ok(await deputy.get(api(school, f"/students/{student_id}/guardians")))
    assert links == [{"guardian_id": guardian_id, "student_id": student_id, "relation": "мать"}]

    updated = await ok(await deputy.put(api(school, f"/people/students/{student_id}"),
                                        json={"last_name": "Сидоров", "first_name": "Пётр"}))
    assert updated["first_name"] == "Пётр"
    in_use = await deputy.delete(api(school, f"/people/guardians/{guardian_id}"))
    assert in_use.status_code == 409
    await ok(await deputy.delete(api(school, f"/students/{student_id}/guardians/{guardian_id}")))
    await ok(await deputy.delete(api(school, f"/people/guardians/{guardian_id}")))
    assert await ok(await deputy.get(api(school, "/people/guardians"))) == []
    assert [p["last_name"] for p in await ok(await deputy.get(api(school, "/people/students")))] == ["Сидоров"]

    subject = await ok(await deputy.post(api(school, "/subjects"), json={"name": "Астрономия"}))
    assert subject["short_name"] == "Астрономия"
    assert (await deputy.post(api(school, "/subjects"), json={"name": "астрономия"})).status_code == 409
    assert (await deputy.post(api(school, "/subjects"), json={"name": "математика"})).status_code == 409
    assert "Астрономия" in [s["name"] for s in await ok(await deputy.get(api(school, "/subjects")))]


async def test_movement_arrival_transfer_withdrawal(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    a5, b5 = await new_class(deputy, school, 5, "А"), await new_class(deputy, school, 5, "Б")
    student_id = await person(deputy, school, "students", "Сидоров")
    subject = await ok(await deputy.post(api(school, "/subjects"), json={"name": "Английский язык"}))
    group = await ok(await deputy.post(api(school, "/groups"), json={
        "kind": "subgroup", "name": "5А англ. 1", "class_unit_id": a5, "subject_id": subject["id"]}))

    await ok(await deputy.post(api(school, "/movements/arrival"), json={
        "student_id": student_id, "class_unit_id": a5, "on_date": "2026-09-01", "document": "Приказ № 1"}))
    again = await deputy.post(api(school, "/movements/arrival"),
                              json={"student_id": student_id, "class_unit_id": b5, "on_date": "2026-09-02"})
    assert again.status_code == 409
    await ok(await deputy.post(api(school, f"/groups/{group['id']}/members"),
                               json={"student_id": student_id, "start_date": "2026-09-01"}))

    # A transfer dated before the enrolment is refused and changes nothing.
    early = await deputy.post(api(school, "/movements/transfer"),
                              json={"student_id": student_id, "to_class_id": b5, "on_date": "2026-08-20"})
    assert early.status_code == 422
    assert early.json()["detail"] == "Дата перевода раньше даты зачисления (01.09.2026)."
    async with db.school_session(school.schema) as session:
        assert len((await session.scalars(select(Enrollment))).all()) == 1
        assert len((await session.scalars(select(Movement))).all()) == 1

    await ok(await deputy.post(api(school, "/movements/transfer"), json={
        "student_id": student_id, "to_class_id": b5, "on_date": "2026-11-10", "reason": "заявление родителей"}))
    before_last = await deputy.post(api(school, "/movements/withdrawal"),
                                    json={"student_id": student_id, "on_date": "2026-11-01"})
    assert before_last.status_code == 422
    assert before_last.json()["detail"] == "Дата выбытия раньше даты зачисления (10.11.2026)."
    await ok(await deputy.post(api(school, "/movements/withdrawal"),
                               json={"student_id": student_id, "on_date": "2027-03-15"}))

    async with db.school_session(school.schema) as session:
        def ids(people: list[Person]) -> list[int]:
            return [p.id for p in people]

        assert ids(await repository.students_of_class_on(session, a5, date(2026, 8, 31))) == []
        assert ids(await repository.students_of_class_on(session, a5, date(2026, 9, 1))) == [student_id]
        assert ids(await repository.students_of_class_on(session, a5, date(2026, 11, 9))) == [student_id]
        assert ids(await repository.students_of_class_on(session, a5, date(2026, 11, 10))) == []
        assert ids(await repository.students_of_class_on(session, b5, date(2026, 11, 9))) == []
        assert ids(await repository.students_of_class_on(session, b5, date(2026, 11, 10))) == [student_id]
        assert ids(await repository.students_of_class_on(session, b5, date(2027, 3, 15))) == [student_id]
        assert ids(await repository.students_of_class_on(session, b5, date(2027, 3, 16))) == []
        quarter = await repository.enrolled_between(session, a5, date(2026, 11, 1), date(2026, 12, 31))
        assert [(b.student.id, b.start_date, b.end_date) for b in quarter] == [
            (student_id, date(2026, 9, 1), date(2026, 11, 9))]
        assert await repository.enrolled_between(session, b5, date(2026, 9, 1), date(2026, 11, 9)) == []
        membership = (await session.scalars(select(GroupMembership))).one()
        assert membership.end_date == date(2026, 11, 9), "the subgroup of the old class ends with the transfer"

    history = await ok(await deputy.get(api(school, f"/students/{student_id}/movements")))
    assert [(m["kind"], m["on_date"], m["from_class_id"], m["to_class_id"]) for m in history] == [
        ("arrival", "2026-09-01", None, a5), ("transfer", "2026-11-10", a5, b5),
        ("withdrawal", "2027-03-15", b5, None)]
    on_day = await ok(await deputy.get(api(school, f"/classes/{a5}/students"), params={"on": "2026-10-01"}))
    assert [row["student_id"] for row in on_day] == [student_id]
    page = await deputy.get(f"/s/{school.slug}/students/{student_id}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Перевод" in page.text
    assert "10.11.2026" in page.text


async def test_subgroup_members_must_be_in_the_class(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    a5, b5 = await new_class(deputy, school, 5, "А"), await new_class(deputy, school, 5, "Б")
    inside, outside = (await person(deputy, school, "students", "Внутри"),
                       await person(deputy, school, "students", "Снаружи"))
    for student_id, unit in ((inside, a5), (outside, b5)):
        await ok(await deputy.post(api(school, "/movements/arrival"),
                                   json={"student_id": student_id, "class_unit_id": unit, "on_date": "2026-09-01"}))
    subject = await ok(await deputy.post(api(school, "/subjects"), json={"name": "Робототехника"}))
    group = await ok(await deputy.post(api(school, "/groups"), json={
        "kind": "subgroup", "name": "5А инф. 2", "class_unit_id": a5, "subject_id": subject["id"]}))
    no_class = await deputy.post(api(school, "/groups"), json={"kind": "subgroup", "name": "Без класса"})
    assert no_class.status_code == 422

    refused = await deputy.post(api(school, f"/groups/{group['id']}/members"),
                                json={"student_id": outside, "start_date": "2026-09-01"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Ученик не учится в классе 5А на даты членства в подгруппе."
    too_early = await deputy.post(api(school, f"/groups/{group['id']}/members"),
                                  json={"student_id": inside, "start_date": "2026-08-01"})
    assert too_early.status_code == 422
    await ok(await deputy.post(api(school, f"/groups/{group['id']}/members"),
                               json={"student_id": inside, "start_date": "2026-09-01"}))
    members = await ok(await deputy.get(api(school, f"/groups/{group['id']}/members")))
    assert [m["student_id"] for m in members] == [inside]

    club = await ok(await deputy.post(api(school, "/groups"), json={"kind": "cross_class", "name": "Шахматы"}))
    for student_id in (inside, outside):
        await ok(await deputy.post(api(school, f"/groups/{club['id']}/members"),
                                   json={"student_id": student_id, "start_date": "2026-09-01"}))
    home = await ok(await deputy.post(api(school, "/groups"), json={"kind": "individual", "name": "На дому"}))
    await ok(await deputy.post(api(school, f"/groups/{home['id']}/members"),
                               json={"student_id": inside, "start_date": "2026-09-01"}))
    second = await deputy.post(api(school, f"/groups/{home['id']}/members"),
                               json={"student_id": outside, "start_date": "2026-09-01"})
    assert second.json()["detail"] == "В группе индивидуального обучения может быть только один ученик."


async def test_teaching_load_duplicates_and_hours(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    year_id = await year(db, school)
    deputy = await sign_in({school: ["deputy_head"]})
    a5 = await new_class(deputy, school, 5, "А")
    teacher = await person(deputy, school, "staff", "Петрова", "Анна")
    student = await person(deputy, school, "students", "Сидоров")
    subject = (await ok(await deputy.post(api(school, "/subjects"), json={"name": "Астрономия"})))["id"]
    item = {"academic_year_id": year_id, "teacher_id": teacher, "subject_id": subject, "class_unit_id": a5}

    for hours in (0, -1, 40.5, 41):
        refused = await deputy.post(api(school, "/load"), json={**item, "hours_per_week": hours})
        assert refused.status_code == 422, hours
        assert refused.json()["detail"] == "Часов в неделю должно быть больше 0 и не больше 40."
    created = await ok(await deputy.post(api(school, "/load"), json={**item, "hours_per_week": 5}))
    assert created["hours_per_week"] in ("5.0", 5.0, "5")
    await ok(await deputy.post(api(school, "/load"), json={**item, "subject_id": subject, "hours_per_week": 40,
                                                           "class_unit_id": None, "group_id": (await ok(
                                                               await deputy.post(api(school, "/groups"), json={
                                                                   "kind": "cross_class", "name": "Олимпиадная"})))[
                                                               "id"]}))
    duplicate = await deputy.post(api(school, "/load"), json={**item, "hours_per_week": 2})
    assert duplicate.status_code == 409
    not_staff = await deputy.post(api(school, "/load"), json={**item, "teacher_id": student, "hours_per_week": 2})
    assert not_staff.json()["detail"] == "Нагрузку можно дать только сотруднику школы."
    both = await deputy.post(api(school, "/load"), json={**item, "group_id": 1, "hours_per_week": 2})
    assert both.json()["detail"] == "Укажите либо класс, либо группу."

    per_teacher = await ok(await deputy.get(api(school, "/load"), params={"teacher_id": teacher}))
    assert len(per_teacher) == 2
    per_class = await ok(await deputy.get(api(school, f"/classes/{a5}/load")))
    assert [row["id"] for row in per_class] == [created["id"]]

    page = await deputy.post(f"/s/{school.slug}/load", headers={"Accept": "text/html"}, data={
        "academic_year_id": str(year_id), "teacher_id": str(teacher), "subject_id": str(subject),
        "target": f"class:{a5}", "hours": "3"})
    assert page.status_code == 409
    assert "Такая нагрузка уже есть" in page.text
    table = await deputy.get(f"/s/{school.slug}/load", headers={"Accept": "text/html"})
    assert table.status_code == 200
    assert "Петрова Анна" in table.text
    assert "Астрономия" in table.text


async def test_teacher_cannot_write_and_parent_cannot_list_people(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    parent = await sign_in({school: ["parent"]})
    writes = [("POST", "/classes", {"grade": 5, "letter": "А"}),
              ("POST", "/people/students", {"last_name": "А", "first_name": "Б"}),
              ("POST", "/subjects", {"name": "Физика"}),
              ("POST", "/movements/arrival", {"student_id": 1, "class_unit_id": 1, "on_date": "2026-09-01"}),
              ("POST", "/load", {"academic_year_id": 1, "teacher_id": 1, "subject_id": 1, "hours_per_week": 1})]
    for method, path, body in writes:
        assert (await teacher.request(method, api(school, path), json=body)).status_code == 403, path
    assert (await teacher.get(api(school, "/classes"))).status_code == 200
    for kind in ("students", "staff", "guardians"):
        assert (await parent.get(api(school, f"/people/{kind}"))).status_code == 403
    assert (await parent.get(f"/s/{school.slug}/staff", headers={"Accept": "text/html"})).status_code == 403


async def test_pages_create_a_class_and_record_an_arrival(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    html = {"Accept": "text/html"}
    home = await deputy.get(f"/s/{school.slug}/", headers=html)
    assert f"/s/{school.slug}/classes" in home.text
    assert f"/s/{school.slug}/load" in home.text
    staff = await deputy.post(f"/s/{school.slug}/staff", headers=html,
                              data={"last_name": "Петрова", "first_name": "Анна"}, follow_redirects=True)
    assert "Петрова Анна" in staff.text
    created = await deputy.post(f"/s/{school.slug}/classes", headers=html, data={"grade": "9", "letter": "В"})
    assert created.status_code == 303
    class_url = created.headers["location"]
    again = await deputy.post(f"/s/{school.slug}/classes", headers=html, data={"grade": "9", "letter": "В"})
    assert again.status_code == 409
    assert "Класс 9В уже есть." in again.text
    arrived = await deputy.post(f"{class_url}/arrival", headers=html, follow_redirects=True, data={
        "last_name": "Новиков", "first_name": "Олег", "on_date": "2026-09-01"})
    assert arrived.status_code == 200
    assert "Прибытие оформлено." in arrived.text
    assert "Новиков Олег" in arrived.text
    # A refused arrival of a new student leaves no half-created person behind.
    refused = await deputy.post(f"{class_url}/arrival", headers=html, data={
        "last_name": "Ошибкин", "first_name": "Пётр", "on_date": "2026-09-01", "birth_date": "2999-01-01"})
    assert refused.status_code == 422
    assert "в будущем" in refused.text
    students = await ok(await deputy.get(api(school, "/people/students")))
    assert [s["last_name"] for s in students] == ["Новиков"]


async def test_people_of_school_a_are_not_seen_through_school_b(make_school: MakeSchool, sign_in: SignIn) -> None:
    a, b = await make_school(name="Школа А"), await make_school(name="Школа Б")
    deputy = await sign_in({a: ["deputy_head"], b: ["deputy_head"]})
    student_a = await person(deputy, a, "students", "Аверин")
    student_b = await person(deputy, b, "students", "Борисов")
    assert student_a == student_b, "both schools number their rows from 1: the test is about identical ids"
    assert [p["last_name"] for p in await ok(await deputy.get(api(b, "/people/students")))] == ["Борисов"]
    assert (await ok(await deputy.get(api(b, f"/people/students/{student_a}"))))["last_name"] == "Борисов"
    history = await ok(await deputy.get(api(a, f"/students/{student_a}/movements")))
    assert history == []


async def test_pages_transfer_and_withdraw(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    html = {"Accept": "text/html"}
    a9, b9 = await new_class(deputy, school, 9, "А"), await new_class(deputy, school, 9, "Б")
    student_id = await person(deputy, school, "students", "Новиков", "Олег")
    await ok(await deputy.post(api(school, "/movements/arrival"),
                               json={"student_id": student_id, "class_unit_id": a9, "on_date": "2026-09-01"}))
    listing = await deputy.get(f"/s/{school.slug}/classes", headers=html)
    assert listing.status_code == 200
    assert f"/s/{school.slug}/classes/{a9}" in listing.text

    early = await deputy.post(f"/s/{school.slug}/classes/{a9}/transfer", headers=html, data={
        "student_id": str(student_id), "to_class_id": str(b9), "on_date": "2026-08-01"})
    assert early.status_code == 422
    assert "Дата перевода раньше даты зачисления (01.09.2026)." in early.text
    moved = await deputy.post(f"/s/{school.slug}/classes/{a9}/transfer", headers=html, follow_redirects=True,
                              data={"student_id": str(student_id), "to_class_id": str(b9), "on_date": "2026-10-01"})
    assert "Перевод оформлен." in moved.text
    wrong_class = await deputy.post(f"/s/{school.slug}/classes/{a9}/withdrawal", headers=html, data={
        "student_id": str(student_id), "on_date": "2026-12-01"})
    assert wrong_class.status_code == 422
    left = await deputy.post(f"/s/{school.slug}/classes/{b9}/withdrawal", headers=html, follow_redirects=True,
                             data={"student_id": str(student_id), "on_date": "2026-12-01", "reason": "переезд"})
    assert "Выбытие оформлено." in left.text
    history = await ok(await deputy.get(api(school, f"/students/{student_id}/movements")))
    assert [m["kind"] for m in history] == ["arrival", "transfer", "withdrawal"]
    past = await deputy.get(f"/s/{school.slug}/classes/{b9}", params={"on": "2026-11-01"}, headers=html)
    assert "Новиков Олег" in past.text


async def test_the_same_class_created_at_once_by_several_people_exists_once(make_school: MakeSchool,
                                                                             sign_in: SignIn) -> None:
    school = await make_school()
    deputies = [await sign_in({school: ["deputy_head"]}) for _ in range(4)]
    answers = await asyncio.gather(*(d.post(api(school, "/classes"), json={"grade": 7, "letter": "В"})
                                     for d in deputies))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409], [a.text for a in answers]
    assert all("Класс 7В уже есть" in a.json()["detail"] for a in answers if a.status_code == 409)
