"""The support queue (R-COM-4): a member's request, password recovery from anyone with the same answer whether the
login exists or not, the administrator's queue new → in progress → done, the existing password reset, throttling."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.db import Database
from services.identity.models import Account
from tests.access.helpers import HTML, anonymous
from tests.conftest import MakeSchool, SignIn


async def test_a_member_files_a_request_and_the_administrator_answers_it(
    make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    admin = await sign_in({school: ["administrator"]})
    page = await teacher.post(f"/s/{school.slug}/support", headers=HTML,
                              data={"subject": "Не открывается журнал 5А", "body": "После входа пустая страница."})
    assert page.status_code == 200
    number = re.search(r"Обращение № (\d+) принято", page.text)
    assert number is not None
    request_id = int(number.group(1))
    empty = await teacher.post(f"/s/{school.slug}/support", headers=HTML, data={"subject": "", "body": ""})
    assert empty.status_code == 422
    assert "Тема обращения" in empty.text
    # Only the administrator (support.manage) sees the queue.
    assert (await teacher.get(f"/api/v1/schools/{school.slug}/support/requests")).status_code == 403
    assert (await teacher.get(f"/s/{school.slug}/admin/support", headers=HTML)).status_code == 403
    queue = (await admin.get(f"/api/v1/schools/{school.slug}/support/requests")).json()
    assert [(r["id"], r["kind"], r["status"], r["subject"]) for r in queue] == [
        (request_id, "support", "new", "Не открывается журнал 5А")]

    api = f"/api/v1/schools/{school.slug}/support/requests/{request_id}"
    no_answer = await admin.post(api, json={"status": "done"})
    assert no_answer.status_code == 409
    assert "Напишите ответ" in no_answer.text
    assert (await admin.post(api, json={"status": "in_progress"})).json()["status"] == "in_progress"
    done = await admin.post(f"/s/{school.slug}/admin/support/{request_id}", headers=HTML,
                            data={"status": "done", "answer": "Очистите кэш браузера."})
    assert done.status_code == 200
    assert f"Обращение № {request_id} сохранено." in done.text
    back = await admin.post(api, json={"status": "new"})
    assert back.status_code == 409
    mine = await teacher.get(f"/s/{school.slug}/support", headers=HTML)
    assert "Очистите кэш браузера." in mine.text
    assert "выполнено" in mine.text


async def test_password_recovery_never_tells_whether_the_login_exists_and_the_reset_is_the_existing_one(
    db: Database, make_school: MakeSchool, sign_in: SignIn, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    member = await sign_in({school: ["teacher"]})
    login = member.headers["x-test-login"]
    form = f"/s/{school.slug}/support/password"
    async with anonymous(server_url, form) as browser:
        known = await browser.post(form, headers=HTML, data={"login": login.upper(), "contact": "+7 900 000-00-00"})
        unknown = await browser.post(form, headers=HTML, data={"login": "nobody-here", "contact": "+7 900 000-00-01"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "Запрос принят." in known.text

    queue = (await admin.get(f"/api/v1/schools/{school.slug}/support/requests")).json()
    by_contact = {r["contact"]: r for r in queue}
    assert {r["kind"] for r in queue} == {"password"}
    found, missing = by_contact["+7 900 000-00-00"], by_contact["+7 900 000-00-01"]
    assert found["login"] == login
    assert missing["login"] is None
    assert missing["account_id"] is None
    page = await admin.get(f"/s/{school.slug}/admin/support", headers=HTML)
    assert "логин не найден в школе" in page.text
    assert "Выдать временный пароль" in page.text

    refused = await admin.post(f"/api/v1/schools/{school.slug}/support/requests/{missing['id']}/password-reset")
    assert refused.status_code == 409
    reset = await admin.post(f"/s/{school.slug}/admin/support/{found['id']}/password-reset", headers=HTML)
    assert reset.status_code == 200
    temporary = re.search(r'<code style="font-size:1.3rem">([a-z0-9]+)</code>', reset.text)
    assert temporary is not None
    async with db.platform_session() as session:
        account = await session.scalar(select(Account).where(Account.login == login))
        assert account is not None
        assert account.must_change_password
    # The member's session ended with the reset; the temporary password works and asks for a new one.
    assert (await member.get(f"/api/v1/schools/{school.slug}/support/requests")).status_code == 401
    await member.get("/login")
    signed = await member.post("/login", data={"login": login, "password": temporary.group(1)})
    assert signed.status_code == 303
    assert signed.headers["location"] == "/profile"
    after = (await admin.get(f"/api/v1/schools/{school.slug}/support/requests")).json()
    handled = next(r for r in after if r["id"] == found["id"])
    assert handled["status"] == "in_progress"
    assert handled["password_reset_at"]


async def test_the_password_form_is_throttled_per_address(make_school: MakeSchool, server_url: str) -> None:
    school = await make_school()
    form = f"/s/{school.slug}/support/password"
    async with anonymous(server_url, form) as browser:
        for n in range(5):
            response = await browser.post(form, headers=HTML, data={"login": f"someone{n}", "contact": "a@b.ru"})
            assert response.status_code == 200
        blocked = await browser.post(form, headers=HTML, data={"login": "someone", "contact": "a@b.ru"})
        assert blocked.status_code == 429
        assert "Слишком много обращений с вашего адреса" in blocked.text
