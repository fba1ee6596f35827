"""Compromised credentials (R-SEC-3): sessions end, a new password is due, and the administrator finds and
reverts every change the account made since T — for any kind of record, through the audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from services import audit
from services.db import Database
from services.identity.models import Account
from services.structure.models import ClassUnit, Person
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn, _csrf_header, acting, school_writes


async def account_of(db: Database, client: httpx.AsyncClient) -> int:
    async with db.platform_session() as session:
        found = await session.scalar(select(Account.id).where(Account.login == client.headers["x-test-login"]))
        assert found is not None
        return found




async def test_the_administrator_reverts_what_a_compromised_account_did(
    db: Database, make_school: MakeSchool, sign_in: SignIn, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    victim = await sign_in({school: ["teacher"]})
    colleague = await sign_in({school: ["teacher"]})
    victim_id, colleague_id = await account_of(db, victim), await account_of(db, colleague)

    async with school_writes(db, school.schema) as session:
        pupil = Person(kind="student", last_name="Орлова", first_name="Дарья")
        session.add(pupil)
    async with acting(db, school.schema, audit.Actor.account(victim_id)) as session:
        session.add(ClassUnit(grade=6, letter="Б"))  # before T: legitimate
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    await asyncio.sleep(0.05)
    async with acting(db, school.schema, audit.Actor.account(victim_id)) as session:
        (await session.get(Person, pupil.id)).first_name = "Взломано"  # type: ignore[union-attr]
        session.add(ClassUnit(grade=9, letter="Я"))
    async with acting(db, school.schema, audit.Actor.account(colleague_id)) as session:
        session.add(ClassUnit(grade=10, letter="А"))

    base = f"/api/v1/schools/{school.slug}/users/{victim_id}"
    marked = await admin.post(f"{base}/compromised", json={"since": since.isoformat()})
    assert marked.status_code == 204, marked.text
    assert (await victim.get("/api/v1/me")).status_code == 401, "every session of the account ended"

    async with httpx.AsyncClient(base_url=server_url, event_hooks={"request": [_csrf_header]}) as relogin:
        await relogin.get("/login")
        back = await relogin.post("/login", data={"login": victim.headers["x-test-login"], "password": TEST_PASSWORD})
        assert back.headers["location"] == "/profile", "a new password is required first"
        assert (await relogin.get(f"/api/v1/schools/{school.slug}/classes")).status_code == 403

    changes = (await admin.get(f"{base}/changes")).json()
    assert sorted((c["action"], c["entity"]) for c in changes) == [("insert", "class_unit"), ("update", "person")]
    update = next(c for c in changes if c["action"] == "update")
    assert (update["before"]["first_name"], update["after"]["first_name"]) == ("Дарья", "Взломано")

    assert (await admin.post(f"/api/v1/schools/{school.slug}/audit/{update['id']}/revert")).status_code == 200
    again = await admin.post(f"/api/v1/schools/{school.slug}/audit/{update['id']}/revert")
    assert again.status_code == 409
    assert again.json()["detail"]

    report = (await admin.post(f"{base}/revert-all")).json()
    assert report["conflicts"] == []
    assert update["id"] in report["skipped"]
    assert len(report["reverted"]) == 1

    async with db.transaction(school.schema) as session:
        assert (await session.get(Person, pupil.id)).first_name == "Дарья"  # type: ignore[union-attr]
        classes = sorted(f"{c.grade}{c.letter}" for c in (await session.execute(select(ClassUnit))).scalars())
    assert classes == ["10А", "6Б"], "the colleague's change and the change before T stay"
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == [], "reverts are in the hash chain too"


async def test_a_teacher_reports_their_own_credentials_compromised(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    phone = await sign_in({school: ["teacher"]})
    future = await teacher.post("/api/v1/auth/compromised", json={"since": "2999-01-01T00:00:00+03:00"})
    assert future.status_code == 422
    assert "будущем" in future.json()["detail"]
    reported = await teacher.post("/api/v1/auth/compromised", json={"since": "2026-11-01T08:00:00+07:00"})
    assert reported.status_code == 204
    assert (await teacher.get("/api/v1/me")).status_code == 401
    assert (await phone.get("/api/v1/me")).status_code == 200, "another account is untouched"
    async with db.platform_session() as session:
        account = (await session.execute(select(Account).where(
            Account.login == teacher.headers["x-test-login"]))).scalar_one()
    assert account.must_change_password
    assert account.compromised_since == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)

    colleague = await sign_in({school: ["teacher"]})
    refused = await colleague.post(f"/api/v1/schools/{school.slug}/users/{account.id}/compromised",
                                   json={"since": "2026-11-01T08:00:00+07:00"})
    assert refused.status_code == 403, "only who holds compromise.manage records it for others"


async def test_the_administrators_compromise_page_records_lists_and_reverts(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school(time_zone="Asia/Novosibirsk")
    admin = await sign_in({school: ["administrator"]})
    victim = await sign_in({school: ["teacher"]})
    victim_id = await account_of(db, victim)
    page = f"/s/{school.slug}/admin/compromise/{victim_id}"
    html = {"Accept": "text/html"}
    assert "Компрометация учётной записи" in (await admin.get(page, headers=html)).text

    local_now = datetime.now(UTC).astimezone(ZoneInfo("Asia/Novosibirsk"))
    since = (local_now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    async with acting(db, school.schema, audit.Actor.account(victim_id)) as session:
        session.add(ClassUnit(grade=3, letter="Ю"))
    recorded = await admin.post(page, data={"since": since}, headers=html)
    assert "Компрометация зафиксирована" in recorded.text
    assert "class_unit" in recorded.text
    assert (await victim.get("/api/v1/me")).status_code == 401

    undone = await admin.post(f"{page}/revert-all", headers=html)
    assert "Отменено изменений: 1" in undone.text
    async with db.transaction(school.schema) as session:
        assert (await session.execute(select(ClassUnit))).scalars().all() == []
    teacher = await sign_in({school: ["teacher"]})
    assert (await teacher.get(page, headers=html)).status_code == 403


async def test_a_person_reports_it_from_the_profile_page_in_their_schools_time(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school(time_zone="Asia/Vladivostok")
    teacher = await sign_in({school: ["teacher"]})
    profile = await teacher.get("/profile", headers={"Accept": "text/html"})
    assert "Asia/Vladivostok" in profile.text
    bad = await teacher.post("/profile/compromised", data={"since": "вчера"}, headers={"Accept": "text/html"})
    assert bad.status_code == 422
    assert "Укажите дату и время" in bad.text
    done = await teacher.post("/profile/compromised", data={"since": "2026-11-02T09:30"}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert (await teacher.get("/api/v1/me")).status_code == 401
    async with db.platform_session() as session:
        account = (await session.execute(select(Account).where(
            Account.login == teacher.headers["x-test-login"]))).scalar_one()
    assert account.compromised_since == datetime(2026, 11, 1, 23, 30, tzinfo=UTC), "09:30 in Vladivostok (UTC+10)"
    assert account.must_change_password
