"""The demonstration region: three filled schools, working logins, and idempotent on every later call."""

from __future__ import annotations

import time
from datetime import date

from argon2 import PasswordHasher
from sqlalchemy import func, select

from services.config import Settings
from services.db import Database
from services.identity.models import Account, Invite, Membership
from services.region.models import Municipality, Region, School
from services.structure.models import ClassUnit, Enrollment, Person
from services.structure.repository import classes_with_counts
from tenants.demo import DEMO_REGION_CODE, DemoInfo, DemoLogin, create_demo_region
from tenants.provisioning import invite_code_hash


async def _counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with db.platform_session() as session:
        for model in (Region, Municipality, School, Account, Membership, Invite):
            counts[model.__tablename__] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        schemas = (await session.execute(select(School.schema_name).where(School.slug.like("demo-%")))).scalars()
        for schema in schemas:
            async with db.school_session(schema or "") as school:
                for name, table in (("person", Person), ("class_unit", ClassUnit), ("enrollment", Enrollment)):
                    counts[f"{schema}.{name}"] = int(
                        await school.scalar(select(func.count()).select_from(table)) or 0
                    )
    return counts


async def test_demo_region_is_filled_once(db: Database, settings: Settings) -> None:
    started = time.perf_counter()
    info = await create_demo_region(db, settings=settings)
    elapsed = time.perf_counter() - started
    assert info.created
    assert elapsed < 10, f"demo creation took {elapsed:.1f} s"

    async with db.platform_session() as session:
        region = (await session.execute(select(Region).where(Region.code == DEMO_REGION_CODE))).scalar_one()
        assert region.name == "Демонстрационная область"
        municipalities = (await session.execute(
            select(Municipality.id).where(Municipality.region_id == region.id)
        )).scalars().all()
        assert len(municipalities) == 2
        schools = (await session.execute(
            select(School).where(School.municipality_id.in_(municipalities)).order_by(School.slug)
        )).scalars().all()
    assert [s.slug for s in schools] == ["demo-1", "demo-2", "demo-3"]
    assert len({s.time_zone for s in schools}) == 3
    assert all(s.status == "active" for s in schools)

    for school in schools:
        assert school.schema_name
        async with db.school_session(school.schema_name) as session:
            classes = await classes_with_counts(session, date.today())
            kinds = dict((await session.execute(
                select(Person.kind, func.count()).group_by(Person.kind)
            )).tuples().all())
            teachers = set((await session.execute(select(ClassUnit.class_teacher_id))).scalars())
        assert [unit.name for unit, _ in classes] == ["1А", "5А", "5Б", "9А", "11А"]
        assert all(students == 10 for _, students in classes), classes
        assert kinds["student"] == 50
        assert kinds["guardian"] == 50
        assert kinds["staff"] >= 8
        assert None not in teachers
        assert len(teachers) == 5

    # Every login has a password that verifies, and memberships carry the roles.
    assert all(login.password for login in info.logins)
    assert len({login.password for login in info.logins}) == len(info.logins)
    hasher = PasswordHasher()
    async with db.platform_session() as session:
        for login in info.logins:
            account = (await session.execute(select(Account).where(Account.login == login.login))).scalar_one()
            assert login.password is not None
            assert account.password_hash is not None
            assert hasher.verify(account.password_hash, login.password)
        rows = (await session.execute(
            select(Account.login, School.slug, Membership.roles, Membership.person_id)
            .join(Membership, Membership.account_id == Account.id)
            .join(School, School.id == Membership.school_id)
            .where(Account.login.like("demo%"))
        )).tuples().all()
        for demo_school in info.schools:
            assert demo_school.admin_invite_code
            invite = (await session.execute(
                select(Invite).where(Invite.code_hash == invite_code_hash(demo_school.admin_invite_code))
            )).scalar_one()
            assert invite.role == "administrator"
    roles = {(login, slug): set(r) for login, slug, r, _ in rows}
    assert all(person_id is not None for *_, person_id in rows)
    assert roles[("demo1-admin", "demo-1")] >= {"administrator"}
    assert roles[("demo2-teacher", "demo-2")] >= {"teacher", "class_teacher"}
    assert roles[("demo3-parent", "demo-3")] == {"parent"}
    assert roles[("demo1-student", "demo-1")] == {"student"}
    multi = {slug for login, slug in roles if login == "demo-teacher-2schools"}
    assert multi == {"demo-1", "demo-2"}, "one teacher account works in two schools (R-ROLE-6)"

    # The saved form round-trips.
    restored = DemoInfo.from_json(info.to_json())
    assert (restored.region, restored.schools, restored.logins) == (info.region, info.schools, info.logins)

    # A second call creates nothing and changes no secret.
    before = await _counts(db)
    again = await create_demo_region(db, settings=settings)
    assert not again.created
    assert not again.secrets_issued
    assert await _counts(db) == before
    assert [s.slug for s in again.schools] == ["demo-1", "demo-2", "demo-3"]
    assert all(login.password is None for login in again.logins)

    # Given the saved result, a call keeps its secrets; given a result missing one, it issues a fresh one.
    saved = DemoInfo.from_json(info.to_json())
    kept = await create_demo_region(db, settings=settings, previous=saved)
    assert not kept.created
    assert not kept.secrets_issued
    assert kept.logins == info.logins
    assert await _counts(db) == before

    lost = DemoInfo(saved.region, saved.schools, tuple(
        login if login.login != "demo2-parent" else DemoLogin("demo2-parent", login.role, login.schools)
        for login in saved.logins
    ))
    renewed = await create_demo_region(db, settings=settings, previous=lost)
    assert renewed.secrets_issued
    new_password = next(login.password for login in renewed.logins if login.login == "demo2-parent")
    assert new_password
    assert new_password != next(login.password for login in info.logins if login.login == "demo2-parent")
    async with db.platform_session() as session:
        stored = await session.scalar(select(Account.password_hash).where(Account.login == "demo2-parent"))
    assert stored is not None
    assert hasher.verify(stored, new_password)

