"""Invite codes in bulk (R-STR-7): issued per person, registered by anyone holding one, printed and exported."""

from __future__ import annotations

import base64
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, update

from services.config import Settings
from services.db import Database
from services.identity.models import Account, Invite, Membership, PlatformAudit
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person
from tenants.provisioning import ProvisionedSchool, invite_code_hash
from tests.conftest import TEST_PASSWORD, MakeSchool, SignIn, _csrf_header, school_writes

HTML = {"Accept": "text/html"}
CODE_RE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\b")


async def add_class(db: Database, school: ProvisionedSchool, grade: int, letter: str,
                    families: list[tuple[str, list[str]]], *, start: date = date(2020, 9, 1),
                    end: date | None = None) -> tuple[int, list[tuple[int, list[int]]]]:
    """A class with one student per family, each with their guardians: (class id, [(student id, [guardian ids])])."""
    async with school_writes(db, school.schema) as session:
        unit = (await session.execute(
            select(ClassUnit).where(ClassUnit.grade == grade, ClassUnit.letter == letter))).scalar_one_or_none()
        if unit is None:
            unit = ClassUnit(grade=grade, letter=letter)
            session.add(unit)
            await session.flush()
        out = []
        for student_name, guardian_names in families:
            student = Person(kind="student", last_name=student_name, first_name="Ученик", middle_name="Тестович")
            session.add(student)
            await session.flush()
            session.add(Enrollment(student_id=student.id, class_unit_id=unit.id, start_date=start, end_date=end))
            guardian_ids = []
            for name in guardian_names:
                guardian = Person(kind="guardian", last_name=name, first_name="Родитель")
                session.add(guardian)
                await session.flush()
                session.add(Guardianship(guardian_id=guardian.id, student_id=student.id))
                guardian_ids.append(guardian.id)
            out.append((student.id, guardian_ids))
        return unit.id, out


async def add_staff(db: Database, school: ProvisionedSchool, *names: str) -> list[int]:
    async with school_writes(db, school.schema) as session:
        people = [Person(kind="staff", last_name=name, first_name="Сотрудник") for name in names]
        session.add_all(people)
        await session.flush()
        return [p.id for p in people]


async def issue(client: httpx.AsyncClient, school: ProvisionedSchool, kinds: list[str],
                class_unit_id: int | None = None) -> list[dict[str, object]]:
    response = await client.post(f"/api/v1/schools/{school.slug}/invites",
                                 json={"class_unit_id": class_unit_id, "kinds": kinds})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    issued: list[dict[str, object]] = response.json()
    return issued


@asynccontextmanager
async def anonymous(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with no session: it has fetched the form, so it holds the CSRF cookie it must send back."""
    async with httpx.AsyncClient(base_url=server_url, timeout=30, event_hooks={"request": [_csrf_header]}) as http:
        await http.get("/register")
        yield http


async def register(http: httpx.AsyncClient, code: str, login: str | None = None) -> httpx.Response:
    data = {"code": code}
    if login is not None:
        data |= {"login": login, "password": TEST_PASSWORD}
    return await http.post("/register", data=data, headers=HTML)


async def test_class_issue_binds_codes_to_its_students_and_guardians_and_reissue_adds_only_new(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    class_id, families = await add_class(db, school, 5, "А",
                                         [("Иванов", ["Иванова", "Иванов"]), ("Петров", ["Петрова"])])
    await add_class(db, school, 6, "Б", [("Сидоров", ["Сидорова"])])  # another class: not in this batch
    await add_class(db, school, 5, "А", [("Выбывший", ["Выбывшая"])], end=date(2021, 5, 31))  # left long ago
    await add_staff(db, school, "Учителева")

    issued = await issue(admin, school, ["student", "parent"], class_id)

    expected = {(s, "student") for s, _ in families} | {(g, "parent") for _, gs in families for g in gs}
    assert {(i["person_id"], i["role"]) for i in issued} == expected
    # Handing-out order: each student followed by their own guardians.
    assert [i["last_name"] for i in issued] == ["Иванов", "Иванов", "Иванова", "Петров", "Петрова"]
    assert [i["role"] for i in issued][:3] == ["student", "parent", "parent"]
    assert {i["class_name"] for i in issued} == {"5А"}
    parent = next(i for i in issued if i["last_name"] == "Петрова")
    assert parent["children"] == ["Петров Ученик (5А)"]
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    assert {i["valid_until"] for i in issued} == {(today + timedelta(days=30)).isoformat()}

    async with db.transaction() as session:
        stored = {row.code_hash: row for row in (await session.execute(
            select(Invite).where(Invite.school_id == school.id, Invite.person_id.is_not(None)))).scalars()}
        audit = (await session.execute(select(PlatformAudit).where(
            PlatformAudit.school_id == school.id, PlatformAudit.action == "invites.issued"))).scalars().one()
    assert len(stored) == len(issued)
    for item in issued:
        row = stored[invite_code_hash(str(item["code"]))]  # stored hashed, never in clear
        assert (row.person_id, row.role, row.used_at) == (item["person_id"], item["role"], None)
        assert str(item["code"]) not in row.code_hash
        assert row.expires_at > datetime.now(UTC) + timedelta(days=29)
    assert audit.detail["issued"] == {"parent": 3, "student": 2, "teacher": 0}
    assert "Иванов" not in str(audit.detail), "the audit holds counts, never names"

    # Everyone is covered: a second run issues nothing; a newcomer gets exactly their own codes.
    assert await issue(admin, school, ["student", "parent"], class_id) == []
    _, newcomers = await add_class(db, school, 5, "А", [("Новенький", ["Новенькая"])])
    again = await issue(admin, school, ["student", "parent"], class_id)
    assert {(i["person_id"], i["role"]) for i in again} == {(newcomers[0][0], "student"),
                                                           (newcomers[0][1][0], "parent")}


async def test_whole_school_issue_covers_every_class_guardians_once_and_staff_as_teachers(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    _, five = await add_class(db, school, 5, "А", [("Смирнов", ["Смирнова"])])
    staff = await add_staff(db, school, "Учителева", "Завучева")
    # The same mother has a second child in 7В: one parent code, both classes on it.
    async with school_writes(db, school.schema) as session:
        seven = ClassUnit(grade=7, letter="В")
        session.add(seven)
        child = Person(kind="student", last_name="Смирнова", first_name="Дочь")
        session.add(child)
        await session.flush()
        session.add(Enrollment(student_id=child.id, class_unit_id=seven.id, start_date=date(2020, 9, 1)))
        session.add(Guardianship(guardian_id=five[0][1][0], student_id=child.id))

    issued = await issue(admin, school, ["student", "parent", "staff"])

    roles = sorted((i["role"], i["person_id"]) for i in issued)
    assert roles == sorted([("student", five[0][0]), ("student", child.id), ("parent", five[0][1][0]),
                            *(("teacher", s) for s in staff)])
    mother = next(i for i in issued if i["role"] == "parent")
    assert mother["class_name"] == "5А, 7В"
    assert await issue(admin, school, ["student", "parent", "staff"]) == []

    refused = await admin.post(f"/api/v1/schools/{school.slug}/invites",
                               json={"class_unit_id": None, "kinds": []})
    assert refused.status_code == 422
    assert "Отметьте, кому выдать коды" in refused.json()["detail"]
    for_class = await admin.post(f"/api/v1/schools/{school.slug}/invites",
                                 json={"class_unit_id": 1, "kinds": ["staff"]})
    assert for_class.status_code == 422
    assert "для всей школы" in for_class.json()["detail"]
    missing = await admin.post(f"/api/v1/schools/{school.slug}/invites",
                               json={"class_unit_id": 999, "kinds": ["student"]})
    assert missing.status_code == 404


async def test_a_code_registers_a_new_account_bound_to_the_person(
    db: Database, sign_in: SignIn, make_school: MakeSchool, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    class_id, families = await add_class(db, school, 3, "Б", [("Кузнецов", [])])
    [invite] = await issue(admin, school, ["student"], class_id)
    login = f"pupil-{uuid.uuid4().hex[:8]}"

    async with anonymous(server_url) as browser:
        response = await register(browser, str(invite["code"]).lower().replace("-", ""), login)
        assert response.status_code == 303, response.text
        home = await browser.get(f"/s/{school.slug}/", headers=HTML)
        assert home.status_code == 200

    async with db.transaction() as session:
        account = (await session.execute(select(Account).where(Account.login == login))).scalar_one()
        membership = (await session.execute(select(Membership).where(Membership.account_id == account.id))).scalar_one()
        used = (await session.execute(select(Invite).where(
            Invite.code_hash == invite_code_hash(str(invite["code"]))))).scalar_one()
    assert (membership.school_id, membership.person_id, membership.roles) == (school.id, families[0][0], ["student"])
    assert used.used_by_account_id == account.id


async def test_parent_with_children_in_two_schools_ends_with_one_account(
    db: Database, sign_in: SignIn, make_school: MakeSchool, server_url: str
) -> None:
    first, second = await make_school(name="Школа № 1"), await make_school(name="Школа № 2")
    codes, guardians = [], []
    for school in (first, second):
        admin = await sign_in({school: ["administrator"]})
        class_id, families = await add_class(db, school, 2, "А", [("Орлов", ["Орлова"])])
        [invite] = await issue(admin, school, ["parent"], class_id)
        codes.append(str(invite["code"]))
        guardians.append(families[0][1][0])
    login = f"mother-{uuid.uuid4().hex[:8]}"

    async with anonymous(server_url) as browser:
        assert (await register(browser, codes[0], login)).status_code == 303
        # Signed in now: the second school's code joins the same account; no login or password asked.
        page = await browser.get("/register", headers=HTML)
        assert login in page.text
        assert (await register(browser, codes[1])).status_code == 303
        schools = await browser.get("/schools", headers=HTML)
        assert "Школа № 1" in schools.text
        assert "Школа № 2" in schools.text

    async with db.transaction() as session:
        accounts = (await session.execute(select(Account.id).where(Account.login == login))).scalars().all()
        rows = (await session.execute(select(Membership.school_id, Membership.person_id, Membership.roles)
                                      .where(Membership.account_id.in_(accounts)))).all()
    assert len(accounts) == 1
    assert sorted(tuple(r) for r in rows) == sorted([(first.id, guardians[0], ["parent"]),
                                                     (second.id, guardians[1], ["parent"])])


async def test_used_or_expired_codes_are_refused_in_russian(
    db: Database, sign_in: SignIn, make_school: MakeSchool, server_url: str
) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    class_id, _ = await add_class(db, school, 4, "А", [("Волков", []), ("Зайцев", [])])
    used, expired = (str(i["code"]) for i in await issue(admin, school, ["student"], class_id))
    async with db.transaction() as session:
        await session.execute(update(Invite).where(Invite.code_hash == invite_code_hash(expired))
                              .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))

    async with anonymous(server_url) as browser:
        assert (await register(browser, used, f"first-{uuid.uuid4().hex[:8]}")).status_code == 303
    for code in (used, expired, "ABCD-EFGH-JKLM"):
        async with anonymous(server_url) as browser:
            login = f"late-{uuid.uuid4().hex[:8]}"
            response = await register(browser, code, login)
            assert response.status_code == 400
            assert "Код не найден, уже использован или срок его действия истёк." in response.text
        async with db.transaction() as session:
            assert await session.scalar(select(Account.id).where(Account.login == login)) is None


def _rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_csv_download_is_the_batch_for_excel(db: Database, sign_in: SignIn, make_school: MakeSchool) -> None:
    school = await make_school()
    admin = await sign_in({school: ["administrator"]})
    class_id, families = await add_class(db, school, 9, "А", [("Ёлкин", ["Ёлкина"]), ("Яшин", [])])

    response = await admin.post(f"/s/{school.slug}/admin/invites/", headers=HTML,
                                data={"class_unit_id": str(class_id), "kind": ["student", "parent"], "format": "csv"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="invites-{school.slug}-{today.isoformat()}.csv"')
    assert b"\r\n" in response.content
    rows = _rows(response.content)
    assert rows[0] == ["Фамилия", "Имя", "Отчество", "Класс", "Роль", "Код", "Действует до"]
    assert len(rows) == 1 + 3
    valid_until = (today + timedelta(days=30)).strftime("%d.%m.%Y")
    assert rows[1] == ["Ёлкин", "Ученик", "Тестович", "9А", "Ученик", rows[1][5], valid_until]
    assert rows[2][:5] == ["Ёлкина", "Родитель", "", "9А", "Родитель (законный представитель)"]
    async with db.transaction() as session:
        hashes = set((await session.execute(select(Invite.code_hash).where(Invite.school_id == school.id,
                                                                           Invite.person_id.is_not(None)))).scalars())
    assert {invite_code_hash(r[5]) for r in rows[1:]} == hashes
    assert families


async def test_printable_slips_show_every_code_and_name_and_carry_the_same_batch_as_csv(
    db: Database, sign_in: SignIn, make_school: MakeSchool, settings: Settings
) -> None:
    school = await make_school(name="Гимназия № 7")
    admin = await sign_in({school: ["administrator"]})
    class_id, _ = await add_class(db, school, 1, "А", [("Белов", ["Белова"]), ("Чернов", [])])
    form = await admin.get(f"/s/{school.slug}/admin/invites/", headers=HTML)
    assert form.status_code == 200
    assert "1А" in form.text
    assert "Вся школа" in form.text

    page = await admin.post(f"/s/{school.slug}/admin/invites/", headers=HTML,
                            data={"class_unit_id": str(class_id), "kind": ["student", "parent"]})

    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    codes = CODE_RE.findall(html)
    assert len(codes) == 3
    assert html.count('class="slip"') == 3
    assert html.count("Пригласительный код") >= 3
    for name in ("Белов Ученик Тестович", "Белова Родитель", "Чернов Ученик Тестович"):
        assert name in html
    assert "Гимназия № 7" in html
    assert f"Откройте <b>{settings.public_url}/register</b>" in html
    assert "page-break-inside: avoid" in html
    assert "Родитель (законный представитель), 1А класс" in html
    valid_until = (datetime.now(ZoneInfo("Europe/Moscow")).date() + timedelta(days=30)).strftime("%d.%m.%Y")
    assert f"Действует до {valid_until}" in html

    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="([^"]+)"', html)
    assert href is not None
    assert href.group(2).startswith(f"invites-{school.slug}-")
    rows = _rows(base64.b64decode(href.group(1)))
    assert [r[5] for r in rows[1:]] == codes

    # Nothing left to issue: the page says so instead of showing empty slips.
    again = await admin.post(f"/s/{school.slug}/admin/invites/", headers=HTML,
                             data={"class_unit_id": str(class_id), "kind": ["student", "parent"]})
    assert "Новых кодов нет" in again.text
    assert not CODE_RE.findall(again.text)
    nothing = await admin.post(f"/s/{school.slug}/admin/invites/", headers=HTML, data={"class_unit_id": "school"})
    assert nothing.status_code == 422
    assert "Отметьте, кому выдать коды" in nothing.text


async def test_a_teacher_cannot_issue_invites(db: Database, sign_in: SignIn, make_school: MakeSchool) -> None:
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    class_id, _ = await add_class(db, school, 8, "А", [("Громов", ["Громова"])])

    assert (await teacher.get(f"/s/{school.slug}/admin/invites/", headers=HTML)).status_code == 403
    page = await teacher.post(f"/s/{school.slug}/admin/invites/", headers=HTML,
                              data={"class_unit_id": str(class_id), "kind": ["student"]})
    assert page.status_code == 403
    assert "Недостаточно прав" in page.text
    api = await teacher.post(f"/api/v1/schools/{school.slug}/invites", json={"class_unit_id": class_id,
                                                                             "kinds": ["student"]})
    assert api.status_code == 403
    async with db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(Invite).where(
            Invite.school_id == school.id, Invite.person_id.is_not(None)))
    assert count == 0
