"""Parent access as a service (R-DRY-4): the public form, the deadline in working days, approval with an invite
code that registers the parent, refusals with the listed reasons, automatic refusal at 18, overdue marking."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from services import audit
from services.access import service
from services.access.models import AccessApplication
from services.access.workdays import age_on
from services.calendar.service import add_working_days
from services.db import Database
from services.identity.models import Invite, Membership
from services.structure.models import Guardianship, Person
from tests.access.helpers import HTML, add_holiday, add_student, anonymous, application_form
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn, school_writes


def _expected_due(start: date, holiday: date, days: int) -> date:
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day != holiday:
            days -= 1
    return day


async def test_working_days_skip_weekends_and_school_holidays(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    await add_holiday(db, school, date(2026, 11, 30))  # a Monday
    async with db.school_session(school.schema) as session:
        # Thursday 26.11 + 3 working days: Fri 27, (Sat, Sun, holiday Mon 30), Tue 1.12, Wed 2.12.
        assert await add_working_days(session, date(2026, 11, 26), 3) == date(2026, 12, 2)
        assert await add_working_days(session, date(2026, 11, 23), 3) == date(2026, 11, 26)
    assert age_on(date(2008, 11, 24), date(2026, 11, 23)) == 17
    assert age_on(date(2008, 11, 23), date(2026, 11, 23)) == 18


async def test_public_application_is_listed_with_its_deadline_and_approval_registers_the_parent(
    db: Database, make_school: MakeSchool, sign_in: SignIn, server_url: str
) -> None:
    school = await make_school()
    student_id, _ = await add_student(db, school, "Петров", "Илья", date(2015, 3, 1))
    admin = await sign_in({school: ["administrator"]})
    async with anonymous(server_url, f"/s/{school.slug}/access/apply") as parent:
        page = await parent.get(f"/s/{school.slug}/access/apply", headers=HTML)
        assert "Заявление на доступ к электронному дневнику" in page.text
        # The holiday is the next working day, so it moves the deadline by one.
        today = datetime.now(ZoneInfo("Europe/Moscow")).date()
        holiday = today + timedelta(days=1)
        while holiday.weekday() >= 5:
            holiday += timedelta(days=1)
        await add_holiday(db, school, holiday)
        response = await parent.post(f"/s/{school.slug}/access/apply", data=application_form(), headers=HTML)
        assert response.status_code == 200, response.text
        assert "Заявление зарегистрировано" in response.text
        number = re.search(r"№ (\d+)</b> от (\d\d\.\d\d\.\d{4})", response.text)
        assert number is not None
        assert number.group(2) == today.strftime("%d.%m.%Y")
        due = _expected_due(today, holiday, 3)
        assert f"не позднее <b>{due.strftime('%d.%m.%Y')}</b>" in response.text
    app_id = int(number.group(1))

    listed = (await admin.get(f"/api/v1/schools/{school.slug}/access/applications?open_only=true")).json()
    assert [(a["id"], a["due_on"], a["overdue"], a["source"]) for a in listed] == [
        (app_id, due.isoformat(), False, "online")]
    page = await admin.get(f"/s/{school.slug}/admin/access", headers=HTML)
    assert f"№ {app_id}" in page.text
    assert due.strftime("%d.%m.%Y") in page.text
    assert "просрочено" not in page.text
    detail = await admin.get(f"/s/{school.slug}/admin/access/{app_id}", headers=HTML)
    assert "Петров Илья" in detail.text
    assert f'value="{student_id}"' in detail.text

    approved = await admin.post(f"/api/v1/schools/{school.slug}/access/applications/{app_id}/approve",
                                json={"student_id": student_id})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["invite_code"]
    assert body["decided_by_account_id"]
    assert approved.headers["cache-control"] == "no-store"
    async with db.school_session(school.schema) as session:
        guardian = await session.get(Person, body["guardian_id"])
        assert guardian is not None
        assert (guardian.kind, guardian.last_name, guardian.first_name,
                                         guardian.middle_name) == ("guardian", "Петрова", "Мария", "Ивановна")
        link = await session.get(Guardianship, (guardian.id, student_id))
        assert link is not None
        assert link.relation == "мать"
        invite = await session.scalar(select(Invite).where(Invite.school_id == school.id,
                                                           Invite.person_id == guardian.id))
        assert invite is not None
        assert invite.role == "parent"
    again = await admin.post(f"/api/v1/schools/{school.slug}/access/applications/{app_id}/approve",
                             json={"student_id": student_id})
    assert again.status_code == 409

    # The code registers the parent, bound to the guardian record.
    async with anonymous(server_url, "/register") as browser:
        login = f"parent-{uuid.uuid4().hex[:8]}"
        registered = await browser.post("/register", headers=HTML, data={
            "code": body["invite_code"], "login": login, "password": TEST_PASSWORD})
        assert registered.status_code == 303, registered.text
    async with db.platform_session() as session:
        membership = await session.scalar(select(Membership).where(
            Membership.school_id == school.id, Membership.person_id == guardian.id))
        assert membership is not None
        assert membership.roles == ["parent"]


async def test_refusals_with_the_listed_reasons(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    admin = await sign_in({school: ["secretary"]})
    api = f"/api/v1/schools/{school.slug}/access/applications"
    payload = {k: v for k, v in application_form().items() if k != "contact_phone"}
    created = await admin.post(api, json=payload)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["source"] == "paper"
    assert app["status"] == "open"

    wrong = await admin.post(f"{api}/{app['id']}/refuse", json={"reason": "сам не знаю", "answer": ""})
    assert wrong.status_code == 422
    assert set(wrong.json()["messages"]) == {"Выберите причину отказа из списка.", "Напишите текст ответа заявителю."}
    refused = await admin.post(f"{api}/{app['id']}/refuse", json={
        "reason": "documents", "answer": "В свидетельстве о рождении указана другая фамилия матери."})
    assert refused.status_code == 200, refused.text
    out = refused.json()
    assert (out["status"], out["refusal_reason"], out["refusal_reason_text"]) == (
        "refused", "documents", "документы недействительны или противоречивы")
    assert out["decided_at"]
    assert out["decided_by_account_id"]
    assert (await admin.post(f"{api}/{app['id']}/refuse", json={"reason": "withdrawn", "answer": "x"})).status_code \
        == 409
    # Every listed reason is accepted, with its Russian wording.
    assert set(service.REFUSAL_REASONS.values()) == {
        "не является родителем (законным представителем)", "ребёнок не обучается в школе",
        "ученику исполнилось 18 лет", "документы недействительны или противоречивы", "заявитель отозвал заявление"}
    for reason in ("not_guardian", "not_student", "withdrawn"):
        other = (await admin.post(api, json=payload)).json()
        done = await admin.post(f"{api}/{other['id']}/refuse", json={"reason": reason, "answer": "Ответ."})
        assert done.json()["refusal_reason"] == reason
    # A student who left the school cannot be chosen: the answer is the refusal.
    gone_id, _ = await add_student(db, school, "Ушедший", "Иван", date(2015, 3, 1), enrolled=False)
    other = (await admin.post(api, json=payload)).json()
    response = await admin.post(f"{api}/{other['id']}/approve", json={"student_id": gone_id})
    assert response.status_code == 422
    assert "не обучается в школе" in response.text
    # Bad input is refused with Russian messages, nothing registered.
    bad = await admin.post(api, json=payload | {"applicant_name": "Петрова", "contact_email": ""})
    assert bad.status_code == 422
    assert "Укажите фамилию и имя заявителя." in bad.json()["messages"]


async def test_applications_about_an_adult_student_are_refused_automatically(
    db: Database, make_school: MakeSchool, sign_in: SignIn, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    eighteen = date(today.year - 18, today.month, min(today.day, 28))
    async with anonymous(server_url, f"/s/{school.slug}/access/apply") as parent:
        response = await parent.post(f"/s/{school.slug}/access/apply", headers=HTML,
                                     data=application_form(child_birth_date=eighteen.isoformat()))
        assert response.status_code == 200
        assert "В доступе отказано: ученику исполнилось 18 лет." in response.text
    listed = (await admin.get(f"/api/v1/schools/{school.slug}/access/applications")).json()
    assert [(a["status"], a["refusal_reason"], a["decided_by_account_id"]) for a in listed] == [
        ("refused", "adult", None)]
    assert "18 лет" in listed[0]["answer_text"]

    # At the decision: the student's own birth date in the school's records counts.
    student_id, guardian_id = await add_student(db, school, "Взрослый", "Пётр", eighteen, guardian=("Взрослая", "Анна"))
    app = (await admin.post(f"/api/v1/schools/{school.slug}/access/applications", json={
        k: v for k, v in application_form(child_name="Взрослый Пётр").items() if k != "contact_phone"})).json()
    assert app["status"] == "open"
    decided = await admin.post(f"/api/v1/schools/{school.slug}/access/applications/{app['id']}/approve",
                               json={"student_id": student_id, "guardian_id": guardian_id})
    assert decided.status_code == 200
    out = decided.json()
    assert (out["status"], out["refusal_reason"], out["invite_code"], out["decided_by_account_id"]) == (
        "refused", "adult", None, None)
    async with db.platform_session() as session:
        assert await session.scalar(select(Invite.id).where(Invite.school_id == school.id,
                                                            Invite.person_id == guardian_id)) is None


async def test_overdue_applications_are_marked(db: Database, make_school: MakeSchool, sign_in: SignIn) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    api = f"/api/v1/schools/{school.slug}/access/applications"
    app = (await admin.post(api, json={k: v for k, v in application_form().items() if k != "contact_phone"})).json()
    async with school_writes(db, school.schema) as session:
        await audit.update_rows(session, AccessApplication, {"registered_on": date(2026, 1, 12),
                                                             "due_on": date(2026, 1, 15)},
                                AccessApplication.id == app["id"])
    listed = (await admin.get(f"{api}?open_only=true")).json()
    assert [(a["id"], a["overdue"]) for a in listed] == [(app["id"], True)]
    page = await admin.get(f"/s/{school.slug}/admin/access", headers=HTML)
    assert "15.01.2026 — <b>просрочено</b>" in page.text


async def test_the_public_form_is_throttled_per_address(make_school: MakeSchool, server_url: str) -> None:
    school = await make_school()
    form = f"/s/{school.slug}/access/apply"
    async with anonymous(server_url, form) as parent:
        for _ in range(5):
            response = await parent.post(form, headers=HTML, data=application_form(applicant_name="X"))
            assert response.status_code == 422
            assert "Укажите фамилию и имя заявителя." in response.text
        response = await parent.post(form, headers=HTML, data=application_form())
        assert response.status_code == 429
        assert "Слишком много обращений с вашего адреса" in response.text


async def test_staff_without_access_manage_and_families_cannot_decide(
    make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    for role in ("teacher", "parent", "student"):
        member = await sign_in({school: [role]})
        response = await member.get(f"/api/v1/schools/{school.slug}/access/applications")
        assert response.status_code == 403, role
        assert isinstance(member, httpx.AsyncClient)


async def test_the_decision_pages_register_approve_and_refuse(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    student_id, guardian_id = await add_student(db, school, "Котов", "Лев", date(2016, 4, 4),
                                                guardian=("Котова", "Ирина"))
    admin = await sign_in({school: ["administrator"]})
    base = f"/s/{school.slug}/admin/access"
    form = application_form(applicant_name="Котова Ирина", child_name="Котов Лев", child_birth_date="2016-04-04")
    page = await admin.post(base, headers=HTML, data=form)
    assert page.status_code == 200
    found = re.search(r"Заявление зарегистрировано: № (\d+) от", page.text)
    assert found is not None
    first = int(found.group(1))
    bad = await admin.post(base, headers=HTML, data=form | {"child_birth_date": ""})
    assert bad.status_code == 422
    assert "Укажите дату рождения ребёнка." in bad.text
    detail = await admin.get(f"{base}/{first}", headers=HTML)
    assert f'name="guardian_id" value="{guardian_id}"' in detail.text
    approved = await admin.post(f"{base}/{first}/approve", headers=HTML,
                                data={"student_id": str(student_id), "guardian_id": str(guardian_id)})
    assert approved.status_code == 200
    assert "Пригласительный код родителя" in approved.text
    assert approved.headers["cache-control"] == "no-store"
    async with db.platform_session() as session:
        invite = await session.scalar(select(Invite).where(Invite.person_id == guardian_id,
                                                           Invite.school_id == school.id))
        assert invite is not None
        assert invite.role == "parent"

    second_page = await admin.post(base, headers=HTML, data=form)
    second = re.search(r"Заявление зарегистрировано: № (\d+) от", second_page.text)
    assert second is not None
    refused = await admin.post(f"{base}/{second.group(1)}/refuse", headers=HTML,
                               data={"reason": "withdrawn", "answer": "Заявление отозвано заявителем 24.11."})
    assert refused.status_code == 200
    assert "Отказ записан." in refused.text
    assert "заявитель отозвал заявление" in refused.text
