"""The school's users page and API: roles, the last administrator, temporary passwords, removal (R-ROLE-3)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from services.db import Database
from services.identity.models import Account, Membership, PlatformAudit
from tenants.provisioning import ProvisionedSchool
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn, _csrf_header
from tests.identity.test_invites import HTML, add_staff


async def account_id(db: Database, client: httpx.AsyncClient) -> int:
    async with db.transaction() as session:
        found = await session.scalar(select(Account.id).where(Account.login == client.headers["x-test-login"]))
    assert found is not None
    return found


async def roles_of(db: Database, school: ProvisionedSchool, account: int) -> list[str]:
    async with db.transaction() as session:
        roles = await session.scalar(select(Membership.roles).where(
            Membership.school_id == school.id, Membership.account_id == account))
    return list(roles or [])


async def test_users_page_lists_members_with_roles_and_people(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    [person] = await add_staff(db, school, "Лебедева")
    teacher = await sign_in({school: ["teacher", "class_teacher"]}, person_ids={school: person},
                            must_change_password=False)

    page = await admin.get(f"/s/{school.slug}/admin/users/", headers=HTML)

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert teacher.headers["x-test-login"] in page.text
    assert "Учитель, Классный руководитель" in page.text
    assert "Лебедева Сотрудник" in page.text
    listing = (await admin.get(f"/api/v1/schools/{school.slug}/users")).json()
    member = next(m for m in listing if m["login"] == teacher.headers["x-test-login"])
    assert (member["roles"], member["person_id"], member["person_name"]) == (
        ["teacher", "class_teacher"], person, "Лебедева Сотрудник")

    for path in (f"/s/{school.slug}/admin/users/", f"/api/v1/schools/{school.slug}/users"):
        assert (await teacher.get(path, headers=HTML)).status_code == 403


async def test_role_edit_is_saved_and_audited_with_ids_only(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    teacher = await sign_in({school: ["teacher"]})
    member = await account_id(db, teacher)

    page = await admin.post(f"/s/{school.slug}/admin/users/{member}/roles", headers=HTML,
                            data={"role": ["teacher", "deputy_head"]})

    assert page.status_code == 200, page.text
    assert "Роли сохранены." in page.text
    assert await roles_of(db, school, member) == ["deputy_head", "teacher"]
    # The new role's permissions apply at once: a deputy head reads every journal.
    assert (await teacher.get(f"/s/{school.slug}/", headers=HTML)).status_code == 200

    api = await admin.put(f"/api/v1/schools/{school.slug}/users/{member}/roles", json={"roles": ["teacher"]})
    assert api.status_code == 200, api.text
    assert api.json()["roles"] == ["teacher"]

    async with db.transaction() as session:
        audit = (await session.execute(select(PlatformAudit).where(
            PlatformAudit.school_id == school.id, PlatformAudit.action == "membership.roles_changed")
            .order_by(PlatformAudit.id))).scalars().all()
    assert [a.detail for a in audit] == [
        {"account_id": member, "added": ["deputy_head"], "removed": []},
        {"account_id": member, "added": [], "removed": ["deputy_head"]},
    ]
    assert {a.actor for a in audit} == {f"account:{await account_id(db, admin)}"}


async def test_the_last_administrator_stays(db: Database, sign_in: SignIn, make_school: MakeSchool) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    me = await account_id(db, admin)

    demote = await admin.post(f"/s/{school.slug}/admin/users/{me}/roles", headers=HTML, data={"role": ["teacher"]})
    assert demote.status_code == 409
    assert "хотя бы один администратор" in demote.text
    api = await admin.put(f"/api/v1/schools/{school.slug}/users/{me}/roles", json={"roles": ["director"]})
    assert api.status_code == 409
    assert api.headers["content-type"].startswith("application/problem+json")
    assert "хотя бы один администратор" in api.json()["detail"]
    removed = await admin.post(f"/s/{school.slug}/admin/users/{me}/remove", headers=HTML)
    assert removed.status_code == 409
    assert "самого себя" in removed.text
    assert await roles_of(db, school, me) == ["administrator"]

    # With a second administrator the first may step down; then the second is the last one.
    second = await sign_in({school: ["administrator"]})
    assert (await admin.post(f"/s/{school.slug}/admin/users/{me}/roles", headers=HTML,
                             data={"role": ["director"]})).status_code == 200
    assert await roles_of(db, school, me) == ["director"]
    assert (await admin.get(f"/s/{school.slug}/admin/users/", headers=HTML)).status_code == 403
    last = await account_id(db, second)
    refused = await second.post(f"/s/{school.slug}/admin/users/{last}/roles", headers=HTML,
                                data={"role": ["teacher"]})
    assert refused.status_code == 409


async def test_family_roles_do_not_mix_with_staff_roles(db: Database, sign_in: SignIn, make_school: MakeSchool) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    parent = await sign_in({school: ["parent"]})
    member = await account_id(db, parent)

    page = await admin.post(f"/s/{school.slug}/admin/users/{member}/roles", headers=HTML,
                            data={"role": ["parent", "teacher"]})
    assert page.status_code == 422
    assert "нельзя совмещать с ролями сотрудников" in page.text
    api = await admin.put(f"/api/v1/schools/{school.slug}/users/{member}/roles",
                          json={"roles": ["student", "administrator"]})
    assert api.status_code == 422
    empty = await admin.post(f"/s/{school.slug}/admin/users/{member}/roles", headers=HTML, data={})
    assert empty.status_code == 422
    assert "хотя бы одну роль" in empty.text
    assert await roles_of(db, school, member) == ["parent"]
    # Family roles together are fine.
    ok = await admin.post(f"/s/{school.slug}/admin/users/{member}/roles", headers=HTML,
                          data={"role": ["parent", "parent_committee"]})
    assert ok.status_code == 200


async def test_password_reset_shows_a_temporary_password_that_must_be_changed(
    db: Database, sign_in: SignIn, make_school: MakeSchool, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    teacher = await sign_in({school: ["teacher"]})
    login, member = teacher.headers["x-test-login"], await account_id(db, teacher)

    page = await admin.post(f"/s/{school.slug}/admin/users/{member}/password-reset", headers=HTML)

    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    found = re.search(r"Временный пароль для <b>([^<]+)</b>: <code[^>]*>([^<]+)</code>", page.text)
    assert found is not None
    assert found.group(1) == login
    temporary = found.group(2)
    # The member's sessions ended with the reset.
    assert (await teacher.get(f"/api/v1/schools/{school.slug}/classes")).status_code == 401
    listing = await admin.get(f"/s/{school.slug}/admin/users/", headers=HTML)
    assert "должен сменить пароль" in listing.text
    assert temporary not in listing.text, "the temporary password is shown once"

    async with httpx.AsyncClient(base_url=server_url, timeout=30, event_hooks={"request": [_csrf_header]}) as again:
        await again.get("/login")
        assert (await again.post("/login", data={"login": login, "password": TEST_PASSWORD})).status_code == 401
        signed = await again.post("/login", data={"login": login, "password": temporary})
        assert signed.status_code == 303
        assert signed.headers["location"] == "/profile"
        school_page = await again.get(f"/s/{school.slug}/", headers=HTML)
        assert school_page.status_code == 403
        assert "Сначала смените пароль" in school_page.text
        changed = await again.post("/profile/password", headers=HTML, data={
            "current": temporary, "new": "новый-пароль-2027", "repeat": "новый-пароль-2027"})
        assert changed.status_code in (200, 201), changed.text
        assert (await again.get(f"/s/{school.slug}/", headers=HTML)).status_code == 200

    own = await admin.post(f"/s/{school.slug}/admin/users/{await account_id(db, admin)}/password-reset",
                           headers=HTML)
    assert own.status_code == 409
    assert "в профиле" in own.text


async def test_removing_a_member_ends_their_access_to_this_school_only(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school, other = await make_school(), await make_school()
    admin = await sign_in({school: ["administrator"]})
    teacher = await sign_in({school: ["teacher"], other: ["teacher"]})
    member = await account_id(db, teacher)

    page = await admin.post(f"/s/{school.slug}/admin/users/{member}/remove", headers=HTML)

    assert page.status_code == 200, page.text
    assert "Пользователь удалён из школы." in page.text
    assert teacher.headers["x-test-login"] not in page.text
    refused = await teacher.get(f"/s/{school.slug}/", headers=HTML)
    assert refused.status_code == 403
    assert "нет доступа" in refused.text
    assert (await teacher.get(f"/s/{other.slug}/", headers=HTML)).status_code == 200
    async with db.transaction() as session:
        audit = (await session.execute(select(PlatformAudit.detail).where(
            PlatformAudit.school_id == school.id, PlatformAudit.action == "membership.removed"))).scalars().all()
    assert audit == [{"account_id": member, "roles": ["teacher"]}]
    assert (await admin.delete(f"/api/v1/schools/{school.slug}/users/{member}")).status_code == 404
