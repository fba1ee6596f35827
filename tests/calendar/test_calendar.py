"""The school year (R-STR-1): years, standard periods, overlaps, holidays, closing, the set-up page."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from services.audit.models import AuditLog
from services.calendar import service
from services.calendar.models import AcademicYear, StudyPeriod
from services.db import Database
from tests.conftest import MakeSchool, SignIn, school_writes


def api(slug: str) -> str:
    return f"/api/v1/schools/{slug}/calendar"


async def test_year_and_standard_layout_of_periods(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    created = await deputy.post(f"{api(school.slug)}/years",
                                json={"name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})
    assert created.status_code == 201, created.text
    year_id = created.json()["id"]
    layout = await deputy.post(f"{api(school.slug)}/years/{year_id}/periods/standard", json={"layout": "quarters"})
    assert layout.status_code == 201, layout.text
    periods = layout.json()
    assert [(p["kind"], p["number"], p["grade_from"], p["grade_to"]) for p in periods] == [
        ("quarter", 1, 1, 9), ("quarter", 2, 1, 9), ("quarter", 3, 1, 9), ("quarter", 4, 1, 9),
        ("half", 1, 10, 11), ("half", 2, 10, 11)]
    assert periods[0]["name"] == "1 четверть"
    assert periods[0]["start_date"] == "2026-09-01"

    year = (await deputy.get(f"{api(school.slug)}/years/{year_id}")).json()
    assert len(year["periods"]) == 6
    day = (await deputy.get(f"{api(school.slug)}/school-day", params={"grade": 5, "on": "2026-11-10"})).json()
    assert day["school_day"] is True
    assert day["period"]["name"] == "2 четверть"
    senior = (await deputy.get(f"{api(school.slug)}/school-day", params={"grade": 10, "on": "2026-11-10"})).json()
    assert senior["period"]["name"] == "1 полугодие"
    sunday = (await deputy.get(f"{api(school.slug)}/school-day", params={"grade": 5, "on": "2026-11-08"})).json()
    assert sunday["school_day"] is False
    saturday: dict[str, str | int] = {"grade": 5, "on": "2026-11-07", "saturday": "true"}
    assert (await deputy.get(f"{api(school.slug)}/school-day", params=saturday)).json()["school_day"] is True


async def test_trimesters_with_edited_dates(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    year_id = (await admin.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    periods = [{"kind": "trimester", "number": n, "grade_from": 1, "grade_to": 11, "start_date": s, "end_date": e}
               for n, s, e in ((1, "2026-09-01", "2026-11-29"), (2, "2026-11-30", "2027-02-27"),
                               (3, "2027-03-01", "2027-05-25"))]
    response = await admin.post(f"{api(school.slug)}/years/{year_id}/periods/standard",
                                json={"layout": "trimesters", "periods": periods})
    assert response.status_code == 201, response.text
    assert [p["name"] for p in response.json()] == ["1 триместр", "2 триместр", "3 триместр"]
    assert response.json()[0]["end_date"] == "2026-11-29"


async def test_year_rules(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    url = f"{api(school.slug)}/years"
    backwards = await deputy.post(url, json={"name": "2026/2027", "start_date": "2027-05-31",
                                             "end_date": "2026-09-01"})
    assert backwards.status_code == 422
    assert "раньше даты окончания" in backwards.json()["detail"]
    too_long = await deputy.post(url, json={"name": "2026/2027", "start_date": "2026-09-01",
                                            "end_date": "2027-09-30"})
    assert too_long.status_code == 422
    assert "длиннее одного года" in too_long.json()["detail"]
    bad_name = await deputy.post(url, json={"name": "2026", "start_date": "2026-09-01", "end_date": "2027-05-31"})
    assert bad_name.status_code == 422
    assert "2026/2027" in bad_name.json()["detail"]
    ok = await deputy.post(url, json={"name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})
    assert ok.status_code == 201
    again = await deputy.post(url, json={"name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})
    assert again.status_code == 409
    assert "уже есть" in again.json()["detail"]
    renamed = await deputy.put(f"{url}/{ok.json()['id']}", json={"name": "2026/2027", "start_date": "2026-09-01",
                                                                 "end_date": "2027-06-30"})
    assert renamed.status_code == 200
    assert renamed.json()["end_date"] == "2027-06-30"


async def test_overlapping_period_is_refused_naming_the_other(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    year_id = (await deputy.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    url = f"{api(school.slug)}/years/{year_id}/periods"
    first = await deputy.post(url, json={"kind": "quarter", "number": 1, "grade_from": 1, "grade_to": 9,
                                         "start_date": "2026-09-01", "end_date": "2026-11-03"})
    assert first.status_code == 201, first.text
    second = await deputy.post(url, json={"kind": "quarter", "number": 2, "grade_from": 5, "grade_to": 9,
                                          "start_date": "2026-11-03", "end_date": "2026-12-28"})
    assert second.status_code == 409
    assert second.json()["detail"] == (
        "Период «2 четверть» (5–9 кл.) пересекается с «1 четверть» (1–9 кл.): 01.09.2026–03.11.2026.")
    # Other grades, or another kind of period, do not conflict.
    seniors = await deputy.post(url, json={"kind": "quarter", "number": 2, "grade_from": 10, "grade_to": 11,
                                           "start_date": "2026-11-03", "end_date": "2026-12-28"})
    assert seniors.status_code == 201, seniors.text
    half = await deputy.post(url, json={"kind": "half", "number": 1, "grade_from": 1, "grade_to": 9,
                                        "start_date": "2026-09-01", "end_date": "2026-12-28"})
    assert half.status_code == 201
    # The standard layout over existing quarters is refused as a whole.
    layout = await deputy.post(f"{url}/standard", json={"layout": "quarters"})
    assert layout.status_code in (409, 422)
    assert "уже есть" in layout.json()["detail"]
    assert len((await deputy.get(f"{api(school.slug)}/years/{year_id}")).json()["periods"]) == 3


async def test_period_outside_the_year_is_refused(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    year_id = (await deputy.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    response = await deputy.post(f"{api(school.slug)}/years/{year_id}/periods", json={
        "kind": "quarter", "number": 4, "grade_from": 1, "grade_to": 9,
        "start_date": "2027-03-30", "end_date": "2027-06-15"})
    assert response.status_code == 422
    assert "выходит за границы учебного года «2026/2027»" in response.json()["detail"]


async def test_holiday_outside_the_year_is_refused(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    year_id = (await deputy.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    url = f"{api(school.slug)}/years/{year_id}/holidays"
    outside = await deputy.post(url, json={"name": "Летние каникулы", "start_date": "2027-06-01",
                                           "end_date": "2027-08-31"})
    assert outside.status_code == 422
    assert "Каникулы «Летние каникулы» (01.06.2027–31.08.2027) выходят за границы" in outside.json()["detail"]
    inside = await deputy.post(url, json={"name": "Осенние каникулы", "start_date": "2026-10-26",
                                          "end_date": "2026-11-04"})
    assert inside.status_code == 201
    day = (await deputy.get(f"{api(school.slug)}/school-day", params={"grade": 3, "on": "2026-10-27"})).json()
    assert day["school_day"] is False


async def test_closing_a_period_twice_is_refused_and_reopening_is_audited(
        db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    year_id = (await deputy.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    periods = (await deputy.post(f"{api(school.slug)}/years/{year_id}/periods/standard",
                                 json={"layout": "quarters"})).json()
    first = periods[0]["id"]
    closed = await deputy.post(f"{api(school.slug)}/periods/{first}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_at"] is not None
    assert closed.json()["closed_by"] is not None
    twice = await deputy.post(f"{api(school.slug)}/periods/{first}/close")
    assert twice.status_code == 409
    assert "«1 четверть» (1–9 кл.): 01.09.2026–25.10.2026 уже закрыт" in twice.json()["detail"]
    edit = await deputy.put(f"{api(school.slug)}/periods/{first}", json={
        "kind": "quarter", "number": 1, "grade_from": 1, "grade_to": 9,
        "start_date": "2026-09-01", "end_date": "2026-10-20"})
    assert edit.status_code == 409
    assert "сначала откройте" in edit.json()["detail"]
    reopened = await deputy.post(f"{api(school.slug)}/periods/{first}/reopen")
    assert reopened.status_code == 200
    assert reopened.json()["closed_at"] is None
    assert (await deputy.post(f"{api(school.slug)}/periods/{first}/reopen")).status_code == 409

    async with db.transaction(school.schema) as session:  # the audit log records who closed and reopened it
        rows = (await session.execute(
            select(AuditLog.action, AuditLog.account_id, AuditLog.after).where(AuditLog.entity == "study_period")
            .order_by(AuditLog.id))).all()
    updates = [(account, after) for action, account, after in rows if action == "update"]
    assert len(updates) == 2
    assert updates[0][0] == updates[1][0] == closed.json()["closed_by"]
    assert updates[1][1]["closed_at"] is None


async def test_a_teacher_cannot_change_the_calendar(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    body = {"name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"}
    assert (await teacher.post(f"{api(school.slug)}/years", json=body)).status_code == 403
    assert (await teacher.post(f"/s/{school.slug}/setup/year", data=body)).status_code == 403
    assert (await teacher.get(f"{api(school.slug)}/years")).status_code == 200


async def test_period_for_and_school_days_in_the_service(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with school_writes(db, school.schema) as session:
        year = await service.create_year(session, "2026/2027", date(2026, 9, 1), date(2027, 5, 31))
        await service.add_standard_layout(session, year.id, "trimesters")
        await service.add_periods(session, year.id, [service.PeriodDraft(
            "year", 1, 1, 11, date(2026, 9, 1), date(2027, 5, 31))])
        await service.add_holiday(session, year.id, "Дополнительные каникулы", date(2027, 2, 15),
                                  date(2027, 2, 21), grade_from=1, grade_to=1)
    async with db.transaction(school.schema) as session:
        found = await service.period_for(session, 4, date(2026, 12, 3))
        assert found is not None
        assert found.name == "2 триместр"
        assert await service.period_for(session, 4, date(2027, 7, 1)) is None
        assert not await service.is_school_day(session, 1, date(2027, 2, 16))
        assert await service.is_school_day(session, 2, date(2027, 2, 16))
        assert not await service.is_school_day(session, 2, date(2027, 7, 6))  # summer: outside the year
        assert len(await service.school_days(session, 2, date(2027, 2, 15), date(2027, 2, 21))) == 5
        assert (await session.scalar(select(AcademicYear.name))) == "2026/2027"
        assert len((await session.scalars(select(StudyPeriod))).all()) == 4


async def test_the_setup_page_walks_through_the_year(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    page = await admin.get(f"/s/{school.slug}/setup")
    assert page.status_code == 200, page.text
    assert "1. Учебный год" in page.text
    assert "не задан" in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    created = await admin.post(f"/s/{school.slug}/setup/year", data={
        "_csrf_token": token[1], "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})
    assert created.status_code == 200, created.text
    assert "Учебный год «2026/2027» создан" in created.text
    year_id = re.search(r'name="year_id" value="(\d+)"', created.text)
    assert year_id is not None
    layout = await admin.post(f"/s/{school.slug}/setup/periods/standard", data={
        "year_id": year_id[1], "layout": "quarters", "end_0": "2026-10-24"})
    assert "Добавлено периодов: 6" in layout.text, layout.text
    assert "24.10.2026" in layout.text
    assert "заданы для 1–11 классов" in layout.text
    bad = await admin.post(f"/s/{school.slug}/setup/periods", data={
        "year_id": year_id[1], "kind": "quarter", "number": "1", "grade_from": "5", "grade_to": "9",
        "start_date": "2026-10-01", "end_date": "2026-10-30", "name": ""})
    assert bad.status_code == 400
    assert "1 четверть" in bad.text
    assert "уже есть" in bad.text
    holidays = await admin.post(f"/s/{school.slug}/setup/holidays/standard", data={
        "year_id": year_id[1], "skip_2": "1"})
    assert "Каникулы добавлены" in holidays.text
    assert "Зимние каникулы" in holidays.text
    assert "Дополнительные каникулы для 1 класса" not in holidays.text
    outside = await admin.post(f"/s/{school.slug}/setup/holidays", data={
        "year_id": year_id[1], "name": "Лето", "start_date": "2027-06-01", "end_date": "2027-06-10",
        "grade_from": "1", "grade_to": "11"})
    assert outside.status_code == 400
    assert "выходят за границы" in outside.text


async def test_closing_and_reopening_through_the_page(make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    deputy = await sign_in({school: ["deputy_head"]})
    year_id = (await deputy.post(f"{api(school.slug)}/years", json={
        "name": "2026/2027", "start_date": "2026-09-01", "end_date": "2027-05-31"})).json()["id"]
    first = (await deputy.post(f"{api(school.slug)}/years/{year_id}/periods/standard",
                               json={"layout": "trimesters"})).json()[0]["id"]
    closed = await deputy.post(f"/s/{school.slug}/setup/periods/{first}/close")
    assert closed.status_code == 200
    assert "Период «1 триместр» (1–11 кл.) закрыт." in closed.text
    twice = await deputy.post(f"/s/{school.slug}/setup/periods/{first}/close")
    assert twice.status_code == 400
    assert "уже закрыт" in twice.text
    reopened = await deputy.post(f"/s/{school.slug}/setup/periods/{first}/reopen")
    assert "Период «1 триместр» (1–11 кл.) открыт." in reopened.text
