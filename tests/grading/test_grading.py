"""Grading as school data (R-STR-2): systems, per subject and grade, conversions, kinds of work, the page."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from services.db import Database
from services.grading import repository, service
from services.structure.models import Subject
from tests.conftest import MakeSchool, SignIn, school_writes


def api(slug: str) -> str:
    return f"/api/v1/schools/{slug}/grading"


async def subject_id(db: Database, schema: str, name: str = "Математика") -> int:
    async with db.transaction(schema) as session:
        found = await session.scalar(select(Subject.id).where(Subject.name == name))
    assert found is not None
    return int(found)


async def marks(client: httpx.AsyncClient, slug: str, subject: int, grade: int) -> list[str]:
    response = await client.get(f"{api(slug)}/allowed-marks", params={"subject_id": subject, "grade": grade})
    assert response.status_code == 200, response.text
    return [v["value"] for v in response.json()]


async def test_grade_one_has_no_marks_grade_five_the_five_point_system(
        db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    maths = await subject_id(db, school.schema)
    teacher = await sign_in({school: ["teacher"]})
    assert await marks(teacher, school.slug, maths, 1) == []
    assert await marks(teacher, school.slug, maths, 5) == ["5", "4", "3", "2", "н/а", "осв"]
    async with db.transaction(school.schema) as session:
        values = await service.allowed_marks(session, maths, 5)
        assert [v.is_special for v in values] == [False] * 4 + [True] * 2
        assert not (await service.effective_grading(session, maths, 1)).marks_allowed


async def test_switching_grade_ten_to_the_ten_point_system(db: Database, make_school: MakeSchool,
                                                          sign_in: SignIn) -> None:
    school = await make_school()
    maths = await subject_id(db, school.schema)
    deputy = await sign_in({school: ["deputy_head"]})
    chosen = await deputy.put(f"{api(school.slug)}/subjects", json={"subject_id": maths, "grade": 10,
                                                                     "system": "ten"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json() == {"subject_id": maths, "grade": 10, "system": "ten", "marks_allowed": True,
                             "explicit": True}
    assert await marks(deputy, school.slug, maths, 10) == [str(n) for n in range(10, 0, -1)] + ["н/а", "осв"]
    assert (await marks(deputy, school.slug, maths, 11))[:1] == ["5"]
    # …and grade 1 may be given marks, grade 5 none, by the school's choice.
    await deputy.put(f"{api(school.slug)}/subjects", json={"subject_id": maths, "grade": 5, "system": None})
    assert await marks(deputy, school.slug, maths, 5) == []
    unknown = await deputy.put(f"{api(school.slug)}/subjects", json={"subject_id": maths, "grade": 5,
                                                                      "system": "nope"})
    assert unknown.status_code == 404
    assert "не найдена" in unknown.json()["detail"]


async def test_conversion_ten_to_five(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    params = {"value": "8", "from_system": "ten", "to_system": "five"}
    assert (await deputy.get(f"{api(school.slug)}/convert", params=params)).json()["result"] == "4"
    async with db.transaction(school.schema) as session:
        assert await service.convert(session, "8", "ten", "five") == "4"
        assert await service.convert(session, "н/а", "ten", "five") == "н/а"
        assert await service.convert(session, "4", "five", "ten") is None
    edited = await deputy.put(f"{api(school.slug)}/conversions", json={
        "from_system": "ten", "value": "8", "to_system": "five", "to_value": "5"})
    assert edited.status_code == 204, edited.text
    assert (await deputy.get(f"{api(school.slug)}/convert", params=params)).json()["result"] == "5"
    wrong = await deputy.put(f"{api(school.slug)}/conversions", json={
        "from_system": "ten", "value": "8", "to_system": "five", "to_value": "6"})
    assert wrong.status_code == 422
    assert "нет отметки «6»" in wrong.json()["detail"]


async def test_a_new_system_is_school_data(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    created = await deputy.post(f"{api(school.slug)}/systems", json={
        "code": "three", "name": "3-балльная", "values": [
            {"value": "3", "label": "хорошо", "numeric_value": "3"},
            {"value": "2", "label": "удовлетворительно", "numeric_value": "2"},
            {"value": "1", "label": "плохо", "numeric_value": "1", "is_passing": False}]})
    assert created.status_code == 201, created.text
    assert [v["value"] for v in created.json()["values"]] == ["3", "2", "1", "н/а", "осв"]
    system_id = created.json()["id"]
    added = await deputy.post(f"{api(school.slug)}/systems/{system_id}/values", json={
        "value": "0", "label": "не выполнено", "numeric_value": "0", "is_passing": False})
    assert added.status_code == 201
    duplicate = await deputy.post(f"{api(school.slug)}/systems", json={"code": "three", "name": "Ещё раз"})
    assert duplicate.status_code == 409
    systems = (await deputy.get(f"{api(school.slug)}/systems")).json()
    assert {s["code"] for s in systems} >= {"five", "ten", "hundred", "pass", "three"}
    conversion = await deputy.put(f"{api(school.slug)}/conversions", json={
        "from_system": "three", "value": "3", "to_system": "five", "to_value": "5"})
    assert conversion.status_code == 204
    async with db.transaction(school.schema) as session:
        assert await service.convert(session, "3", "three", "five") == "5"


async def test_work_kinds_and_weights(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    url = f"{api(school.slug)}/work-kinds"
    zero = await deputy.post(url, json={"name": "Зачёт", "short_name": "Зач.", "weight": "0"})
    assert zero.status_code == 422
    assert "больше 0 и не больше 10" in zero.json()["detail"]
    eleven = await deputy.post(url, json={"name": "Зачёт", "short_name": "Зач.", "weight": "11"})
    assert eleven.status_code == 422
    created = await deputy.post(url, json={"name": "Зачёт", "short_name": "Зач.", "weight": "2.5",
                                           "is_written": True})
    assert created.status_code == 201, created.text
    kind = created.json()
    changed = await deputy.put(f"{url}/{kind['id']}", json={**kind, "weight": "3"})
    assert changed.status_code == 200
    assert changed.json()["weight"] == "3"
    removed = await deputy.delete(f"{url}/{kind['id']}")
    assert removed.status_code == 200
    assert removed.json() == {"deleted": True}
    names = [k["name"] for k in (await deputy.get(url)).json()]
    assert "Контрольная работа" in names
    assert "Зачёт" not in names
    async with school_writes(db, school.schema) as session:
        with pytest.raises(service.GradingError, match="больше 0"):
            await service.create_work_kind(session, "Ноль", "0", service.parse_weight("0,0"))


async def test_a_teacher_cannot_change_grading(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    maths = await subject_id(db, school.schema)
    refused = await teacher.put(f"{api(school.slug)}/subjects", json={"subject_id": maths, "grade": 10,
                                                                      "system": "ten"})
    assert refused.status_code == 403
    weight = await teacher.post(f"{api(school.slug)}/work-kinds", json={"name": "Х", "short_name": "Х",
                                                                        "weight": "1"})
    assert weight.status_code == 403
    assert (await teacher.get(f"/s/{school.slug}/setup/grading")).status_code == 403
    assert (await teacher.get(f"{api(school.slug)}/work-kinds")).status_code == 200


async def test_the_grading_page(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    maths = await subject_id(db, school.schema)
    admin = await sign_in({school: ["administrator"]})
    page = await admin.get(f"/s/{school.slug}/setup/grading")
    assert page.status_code == 200, page.text
    assert "5-балльная" in page.text
    assert "Контрольная работа" in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    saved = await admin.post(f"/s/{school.slug}/setup/grading/subjects", data={
        "_csrf_token": token[1], f"sg-{maths}-10": "ten", f"sg-{maths}-1": "none", f"sg-{maths}-5": "five"})
    assert saved.status_code == 200, saved.text
    assert "Изменено настроек предметов: 1" in saved.text
    assert await marks(admin, school.slug, maths, 10) == [str(n) for n in range(10, 0, -1)] + ["н/а", "осв"]
    zero = await admin.post(f"/s/{school.slug}/setup/grading/work-kinds", data={
        "name": "Зачёт", "short_name": "Зач.", "weight": "0"})
    assert zero.status_code == 400
    assert "больше 0 и не больше 10" in zero.text
    added = await admin.post(f"/s/{school.slug}/setup/grading/work-kinds", data={
        "name": "Зачёт", "short_name": "Зач.", "weight": "1,5"})
    assert "Вид работы «Зачёт» добавлен" in added.text
    system = await admin.post(f"/s/{school.slug}/setup/grading/systems", data={
        "code": "three", "name": "3-балльная", "values": "3; хорошо; 3\n2; средне; 2\n1; плохо; 1; нет"})
    assert "Система оценивания «3-балльная» добавлена" in system.text, system.text
    conversion = await admin.post(f"/s/{school.slug}/setup/grading/conversions", data={
        "from_system": "three", "value": "1", "to_system": "five", "to_value": "2"})
    assert "Таблица перевода сохранена" in conversion.text
    assert "1→2" in conversion.text


async def test_a_used_kind_of_work_is_deactivated_not_deleted(db: Database, make_school: MakeSchool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    school = await make_school()

    async def used(session: object, kind_id: int) -> bool:  # marks refer to it (the journal's table, later)
        return True

    monkeypatch.setattr(repository, "work_kind_used", used)
    async with school_writes(db, school.schema) as session:
        kind = await service.create_work_kind(session, "Зачёт", "Зач.", service.parse_weight("2"))
        assert await service.remove_work_kind(session, kind.id) is False
    async with db.transaction(school.schema) as session:
        found = await repository.work_kind(session, kind.id)
        assert found is not None
        assert found.active is False
