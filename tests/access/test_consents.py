"""Consent per item of the consent sheet (R-SEC-5): given and revoked with who and when; revoking what the journal
needs ends the parent's access and schedules the erasure within 10 working days; carrying it out removes the data."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from services import audit
from services.access.consent_items import ACCESS_ITEMS, CONSENT_ITEMS
from services.access.models import Consent
from services.audit.models import AuditLog
from services.calendar.service import add_working_days
from services.db import Database
from services.identity.models import Account, Invite, Membership
from services.structure.models import Guardianship, Person
from tests.access.helpers import HTML, add_student
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn


def test_the_sheet_lists_every_item_of_the_regulation() -> None:
    assert len(CONSENT_ITEMS) == 35
    assert CONSENT_ITEMS["1.3"] == "Информация для связи"
    assert CONSENT_ITEMS["6.15"] == "Уничтожение персональных данных"
    assert CONSENT_ITEMS.keys() >= ACCESS_ITEMS


async def test_consent_given_and_revoked_per_item_and_revocation_ends_access_and_erasure_follows(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    student_id, guardian_id = await add_student(db, school, "Сидоров", "Олег", date(2014, 5, 5),
                                                guardian=("Сидорова", "Елена"))
    assert guardian_id is not None
    admin = await sign_in({school: ["administrator"]})
    parent = await sign_in({school: ["parent"]}, person_ids={school: guardian_id})
    assert (await parent.get(f"/s/{school.slug}/support", headers=HTML)).status_code == 200
    api = f"/api/v1/schools/{school.slug}/consents/{guardian_id}"

    given = await admin.put(api, json={"given": sorted(CONSENT_ITEMS)})
    assert given.status_code == 200, given.text
    assert len(given.json()["given"]) == 35
    assert given.json()["erasure"] is None
    unknown = await admin.put(api, json={"given": ["9.9"]})
    assert unknown.status_code == 422
    # Revoking an item the journal does not need is recorded and nothing else happens.
    photo = (await admin.put(api, json={"revoked": ["5.2"]})).json()
    assert (photo["revoked"], photo["access_ended_accounts"], photo["erasure"]) == (["5.2"], [], None)
    assert (await parent.get(f"/s/{school.slug}/support", headers=HTML)).status_code == 200
    items = (await admin.get(api)).json()
    revoked = [i for i in items if i["revoked_at"]]
    assert [(i["code"], i["text"]) for i in revoked] == [("5.2", "Фотография учащегося")]
    assert revoked[0]["revoked_by_account_id"]
    assert revoked[0]["given_by_account_id"]
    page = await admin.get(f"/s/{school.slug}/admin/consents/{guardian_id}", headers=HTML)
    assert "Информация для связи" in page.text
    assert 'value="5.2">' in page.text

    # An unused invite of the same person is withdrawn with the access.
    async with db.transaction() as session:
        await session.execute(insert(Invite).values(
            code_hash=uuid.uuid4().hex, school_id=school.id, role="parent", person_id=guardian_id,
            expires_at=datetime(2099, 1, 1, tzinfo=ZoneInfo("UTC"))))
    # Revoking contact data: access ends at once, the erasure is due in 10 working days.
    ended = await admin.put(api, json={"revoked": ["1.3"]})
    assert ended.status_code == 200, ended.text
    out = ended.json()
    assert len(out["access_ended_accounts"]) == 1
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    async with db.school_session(school.schema) as session:
        assert out["erasure"]["due_on"] == (await add_working_days(session, today, 10)).isoformat()
    assert out["erasure"]["requested_on"] == today.isoformat()
    # The parent's session is gone; signing in again, the school is closed to them.
    assert (await parent.get(f"/api/v1/schools/{school.slug}/support/requests")).status_code == 401
    async with db.platform_session() as session:
        assert await session.scalar(select(Membership.id).where(
            Membership.school_id == school.id, Membership.person_id == guardian_id)) is None
        assert await session.scalar(select(Invite.id).where(Invite.person_id == guardian_id,
                                                            Invite.school_id == school.id)) is None
        login = await session.scalar(select(Account.login).where(Account.id == out["access_ended_accounts"][0]))
    await parent.get("/login")
    assert (await parent.post("/login", data={"login": login, "password": TEST_PASSWORD})).status_code == 303
    assert (await parent.get(f"/s/{school.slug}/support", headers=HTML)).status_code == 403

    listed = (await admin.get(f"/api/v1/schools/{school.slug}/erasures")).json()
    assert [(t["id"], t["person_id"], t["overdue"], t["done_at"]) for t in listed] == [
        (out["erasure"]["id"], guardian_id, False, None)]
    page = await admin.get(f"/s/{school.slug}/admin/consents", headers=HTML)
    assert "Уничтожить данные" in page.text
    assert "Сидорова Елена" in page.text

    done = await admin.post(f"/api/v1/schools/{school.slug}/erasures/{out['erasure']['id']}/done")
    assert done.status_code == 200, done.text
    assert done.json()["done_at"]
    assert done.json()["done_by_account_id"]
    assert "Обезличена" in done.json()["summary"]
    async with db.school_session(school.schema) as session:
        person = await session.get(Person, guardian_id)
        assert person is not None
        assert (person.last_name, person.first_name, person.middle_name, person.birth_date) == (
            "(данные удалены)", "", None, None)
        assert await session.get(Guardianship, (guardian_id, student_id)) is None
        assert await session.scalar(select(Consent.id).where(Consent.person_id == guardian_id).limit(1))
        # The audit log's versions of the person row lost the name too, and the chain still verifies.
        logged = list((await session.execute(select(AuditLog).where(
            AuditLog.entity == "person", AuditLog.entity_key == {"id": guardian_id}))).scalars())
        assert logged
        assert all(log.redacted_at is not None for log in logged)
        assert "Сидорова" not in json.dumps([(log.before, log.after) for log in logged], ensure_ascii=False)
        assert await audit.verify(session) == []
        with pytest.raises(audit.RevertRefused):
            await audit.revert(session, logged[0].id, account_id=None, actor_label="system:tests", reason=None)
    assert (await admin.get(f"/api/v1/schools/{school.slug}/erasures")).json() == []
    again = await admin.post(f"/api/v1/schools/{school.slug}/erasures/{out['erasure']['id']}/done")
    assert again.status_code == 409
    assert (await admin.put(api, json={"given": ["1.1"]})).status_code == 409


async def test_written_revocation_from_the_page_revokes_everything(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    school = await make_school()
    _, guardian_id = await add_student(db, school, "Орлов", "Максим", date(2013, 1, 1), guardian=("Орлова", "Нина"))
    admin = await sign_in({school: ["administrator"]})
    saved = await admin.post(f"/s/{school.slug}/admin/consents/{guardian_id}", headers=HTML,
                             data={"item": ["1.1", "1.3", "6.1"]})
    assert saved.status_code == 200
    assert "Согласие записано: 1.1, 1.3, 6.1." in saved.text
    revoked = await admin.post(f"/s/{school.slug}/admin/consents/{guardian_id}/revoke", headers=HTML)
    assert revoked.status_code == 200
    assert "Согласие отозвано: 1.1, 1.3, 6.1." in revoked.text
    assert "Доступ к журналу прекращён" in revoked.text
    async with db.school_session(school.schema) as session:
        assert await session.scalar(select(Consent.id).where(Consent.person_id == guardian_id,
                                                             Consent.revoked_at.is_(None))) is None
    page = await admin.get(f"/s/{school.slug}/admin/consents", headers=HTML)
    assert "Орлова Нина" in page.text
    assert "просрочено" not in page.text


async def test_a_revocation_in_one_school_keeps_the_parent_signed_in_to_another(
    db: Database, make_school: MakeSchool, sign_in: SignIn
) -> None:
    """Access ends in the school that recorded the revocation; the same account's session goes on in the school
    of the parent's other child, so nothing there is interrupted."""
    first, second = await make_school(), await make_school()
    _, guardian = await add_student(db, first, "Сидоров", "Олег", date(2014, 5, 5), guardian=("Сидорова", "Елена"))
    _, other = await add_student(db, second, "Сидорова", "Анна", date(2016, 3, 3), guardian=("Сидорова", "Елена"))
    assert guardian is not None
    assert other is not None
    admin = await sign_in({first: ["administrator"]})
    parent = await sign_in({first: ["parent"], second: ["parent"]}, person_ids={first: guardian, second: other})
    for school in (first, second):
        assert (await parent.get(f"/api/v1/schools/{school.slug}/notifications/settings")).status_code == 200

    api = f"/api/v1/schools/{first.slug}/consents/{guardian}"
    assert (await admin.put(api, json={"given": sorted(CONSENT_ITEMS)})).status_code == 200
    out = (await admin.put(api, json={"revoked": ["1.3"]})).json()
    assert len(out["access_ended_accounts"]) == 1
    assert out["signed_out_accounts"] == []
    assert (await parent.get(f"/api/v1/schools/{first.slug}/notifications/settings")).status_code == 403
    assert (await parent.get(f"/api/v1/schools/{second.slug}/notifications/settings")).status_code == 200
