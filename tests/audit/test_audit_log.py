"""The school's audit log: every write recorded with who and before/after, refused without an actor,
hash-chained, append-only, tamper-evident (R-SEC-2)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from services import audit
from services.audit.models import AuditLog
from services.audit.service import GENESIS
from services.db import Database
from services.identity.models import RolePermission
from services.structure.models import ClassUnit, Guardianship, Person, SchoolSetting
from tenants import audit_cli
from tenants.provisioning import ProvisionedSchool, set_status
from tests.conftest import Backends, MakeSchool, acting

TEACHER = audit.Actor.account(101)
ADMIN = audit.Actor.account(102)






async def entries(db: Database, school: ProvisionedSchool) -> list[AuditLog]:
    async with db.transaction(school.schema) as session:
        return list((await session.execute(select(AuditLog).order_by(AuditLog.id))).scalars())


def person(**values: Any) -> Person:
    return Person(**{"kind": "student", "last_name": "Иванова", "first_name": "Мария", **values})


async def test_a_write_records_who_when_what_before_and_after(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    started = datetime.now(UTC)
    async with acting(db, school.schema, TEACHER) as session:
        pupil = person(birth_date=date(2015, 3, 8))
        unit = ClassUnit(grade=5, letter="А")
        session.add_all([pupil, unit])
        await session.flush()
        unit.class_teacher_id = None
        pupil.first_name = "Марья"
    async with acting(db, school.schema, ADMIN) as session:
        await session.delete(await session.get(ClassUnit, unit.id))

    made, renamed, removed = [e for e in await entries(db, school) if e.entity == "person"] + \
        [e for e in await entries(db, school) if e.entity == "class_unit"][1:]
    assert (made.action, made.account_id, made.actor_label) == ("insert", 101, "account:101")
    assert made.before is None
    assert made.after is not None
    assert made.after["first_name"] == "Мария"
    assert made.after["birth_date"] == "2015-03-08"
    assert made.after["created_at"] is not None, "values the database chose are recorded too"
    assert made.entity_key == {"id": pupil.id}
    assert started - timedelta(seconds=5) < made.at < datetime.now(UTC) + timedelta(seconds=5)
    assert renamed.action == "update"
    assert renamed.before is not None
    assert renamed.after is not None
    assert (renamed.before["first_name"], renamed.after["first_name"]) == ("Мария", "Марья")
    assert (removed.action, removed.account_id, removed.after) == ("delete", 102, None)
    assert removed.before == {"id": unit.id, "grade": 5, "letter": "А", "class_teacher_id": None}
    actions = [(e.entity, e.action) for e in await entries(db, school)]
    # Setting a column to the value it had is not a change: class_teacher_id None -> None left no entry.
    assert actions == [("person", "insert"), ("class_unit", "insert"), ("person", "update"), ("class_unit", "delete")]


async def test_composite_and_text_keys_and_json_values(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, TEACHER) as session:
        mother, son = person(kind="guardian"), person()
        session.add_all([mother, son])
        await session.flush()
        session.add(Guardianship(guardian_id=mother.id, student_id=son.id))
        session.add(SchoolSetting(key="idle_timeout_minutes", value={"minutes": 30, "ratio": 0.5}))
    logged = {e.entity: e for e in await entries(db, school)}
    assert logged["guardianship"].entity_key == {"guardian_id": mother.id, "student_id": son.id}
    assert logged["guardianship"].after is not None
    assert logged["guardianship"].after["relation"] == "законный представитель"
    assert logged["school_setting"].entity_key == {"key": "idle_timeout_minutes"}
    assert logged["school_setting"].after is not None
    assert logged["school_setting"].after["value"] == {"minutes": 30, "ratio": 0.5}


async def test_a_write_without_an_actor_is_refused(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    with pytest.raises(audit.ActorMissing) as refused:
        async with acting(db, school.schema, None) as session:
            session.add(person())
    assert "Изменение не сохранено" in refused.value.message_ru
    async with db.transaction(school.schema) as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 0
    assert await entries(db, school) == []


async def test_writes_around_the_flush_are_refused_and_bulk_helpers_audit(
    db: Database, make_school: MakeSchool
) -> None:
    school = await make_school()
    for statement in (
        insert(Person).values(kind="staff", last_name="Петров", first_name="Пётр"),
        update(Person).values(first_name="Павел"),
        delete(RolePermission),
        text(f'UPDATE "{school.schema}".person SET first_name = \'Павел\''),
    ):
        with pytest.raises(audit.UnauditedWrite):
            async with acting(db, school.schema, TEACHER) as session:
                await session.execute(statement)
    with pytest.raises(audit.UnauditedWrite):
        async with acting(db, school.schema, TEACHER) as session:
            session.add(AuditLog(actor_label="system:x", action="insert", entity="person", entity_key={},
                                 prev_hash=GENESIS, hash=GENESIS))

    async with acting(db, school.schema, TEACHER) as session:
        rows = await audit.insert_rows(session, Person, [
            {"kind": "student", "last_name": "Сидоров", "first_name": f"Ученик {i}"} for i in range(3)
        ])
        assert [r["first_name"] for r in rows] == ["Ученик 0", "Ученик 1", "Ученик 2"]
        assert await audit.update_rows(session, Person, {"middle_name": "Ильич"}, Person.id < rows[2]["id"]) == 2
        assert await audit.delete_rows(session, Person, Person.id == rows[2]["id"]) == 1
    logged = [(e.action, e.entity_key["id"]) for e in await entries(db, school)]
    ids = [r["id"] for r in rows]
    assert logged == [("insert", i) for i in ids] + [("update", ids[0]), ("update", ids[1]), ("delete", ids[2])]


async def test_the_chain_is_intact_after_many_writes(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    for i in range(5):
        async with acting(db, school.schema, TEACHER) as session:
            session.add_all([person(first_name=f"Имя {i}"), ClassUnit(grade=i + 1, letter="Б")])
            await session.flush()
            unit = await session.scalar(select(ClassUnit).where(ClassUnit.grade == i + 1))
            assert unit is not None
            unit.letter = "В"
            session.add(SchoolSetting(key=f"k{i}", value=[1.0, 1e20, "x"]))
    logged = await entries(db, school)
    assert len(logged) == 20
    assert logged[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(logged))
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == []


async def tamper(db: Database, school: ProvisionedSchool, sql: str) -> None:
    """What someone with the owner's rights could do: switch the trigger off, edit, switch it on again."""
    async with db.engine.begin() as conn:
        table = f'"{school.schema}".audit_log'
        await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER audit_log_append_only"))
        await conn.execute(text(sql.replace("{table}", table)))
        await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER audit_log_append_only"))


def cli(backends: Backends, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    return subprocess.run([sys.executable, "-m", "tenants.audit_cli", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


async def test_an_edited_or_removed_entry_is_detected(
    db: Database, make_school: MakeSchool, backends: Backends, capsys: pytest.CaptureFixture[str]
) -> None:
    school, other = await make_school(), await make_school()
    for s in (school, other):
        for i in range(4):
            async with acting(db, s.schema, TEACHER) as session:
                session.add(person(first_name=f"Имя {i}"))
    ids = [e.id for e in await entries(db, school)]
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == []
    args = argparse.Namespace(command="audit-verify", slug=school.slug, all=False)
    assert await audit_cli.run_audit_command(db, args) == 0
    assert f"intact {school.slug}" in capsys.readouterr().out

    # Someone covers a change up: the edited entry no longer matches its hash.
    await tamper(db, school, "UPDATE {table} SET after = jsonb_set(after, '{first_name}', '\"Другое\"') "
                             f"WHERE id = {ids[1]}")
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == [ids[1]]
    assert await audit_cli.run_audit_command(db, args) == 1
    assert f"TAMPERED {school.slug}" in capsys.readouterr().out
    shown = cli(backends, "audit-verify", school.slug)
    assert shown.returncode == 1, shown.stderr
    assert f"entries fail: {ids[1]}" in shown.stdout
    assert cli(backends, "audit-verify", other.slug).returncode == 0
    assert cli(backends, "audit-verify", "no-such-school").returncode == 2

    # Removing an entry breaks the link of the one after it.
    await tamper(db, school, f"DELETE FROM {{table}} WHERE id = {ids[2]}")
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == [ids[1], ids[3]]

    # --all checks every active school: the tampered one fails, the clean one passes.
    everything = cli(backends, "audit-verify", "--all")
    assert everything.returncode == 1
    assert f"TAMPERED {school.slug}" in everything.stdout
    assert f"intact {other.slug}" in everything.stdout
    await set_status(db, school.slug, "archived", actor="tests")  # out of later --all runs


async def test_the_application_cannot_change_or_remove_entries(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, TEACHER) as session:
        session.add(person())
    table = f'"{school.schema}".audit_log'
    for sql in (f"UPDATE {table} SET reason = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as conn:
                await conn.execute(text(sql))
    with pytest.raises(audit.UnauditedWrite):  # and a session refuses before the database has to
        async with acting(db, school.schema, TEACHER) as session:
            await session.execute(update(AuditLog).values(reason="x"))
    assert len(await entries(db, school)) == 1


async def test_concurrent_writers_keep_one_chain(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    writers = 12

    async def write(i: int) -> None:
        async with acting(db, school.schema, audit.Actor.account(200 + i)) as session:
            session.add(person(first_name=f"Имя {i}"))
            await session.flush()
            await asyncio.sleep(0.01)  # hold the chain lock while others queue for it
            session.add(ClassUnit(grade=1 + i % 11, letter=f"Л{i}"))

    started = time.perf_counter()
    await asyncio.gather(*(write(i) for i in range(writers)))
    elapsed = time.perf_counter() - started
    logged = await entries(db, school)
    assert len(logged) == 2 * writers
    assert len({e.prev_hash for e in logged}) == len(logged), "no two entries link to the same predecessor"
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == []
    print(f"{writers} concurrent writers: {elapsed:.2f} s")


async def test_changes_by_account_since_lists_only_that_accounts_later_changes(
    db: Database, make_school: MakeSchool
) -> None:
    school = await make_school()
    async with acting(db, school.schema, TEACHER) as session:
        session.add(person(first_name="До"))
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    await asyncio.sleep(0.05)
    async with acting(db, school.schema, TEACHER) as session:
        session.add(person(first_name="После"))
    async with acting(db, school.schema, ADMIN) as session:
        session.add(person(first_name="Другой"))
    async with db.transaction(school.schema) as session:
        changes = await audit.changes_by_account_since(session, TEACHER.account_id or 0, since)
    assert [(c.action, c.after and c.after["first_name"]) for c in changes] == [("insert", "После")]
    assert changes[0].reverted_by is None


async def test_bookkeeping_tables_marked_not_audited_are_written_without_entries(
        db: Database, make_school: MakeSchool) -> None:
    from services.notifications.models import NotificationMail

    school = await make_school()
    async with acting(db, school.schema, TEACHER) as session:
        parent = Person(kind="guardian", last_name="Родитель", first_name="Р")
        session.add(parent)
    count = len(await entries(db, school))
    now = datetime.now(UTC)
    mail = {"guardian_id": parent.id, "mode": "each", "to_address": "r@example.ru", "subject": "s", "body": "b",
            "due_at": now, "next_attempt_at": now}
    async with acting(db, school.schema, None) as session:  # no actor needed, ORM or bulk
        session.add(NotificationMail(**mail))
        await session.execute(insert(NotificationMail).values(**mail))
    assert len(await entries(db, school)) == count
    with pytest.raises(audit.ActorMissing):
        async with acting(db, school.schema, None) as session:
            session.add_all([NotificationMail(**mail), Person(kind="guardian", last_name="Б", first_name="В")])


async def test_an_erasure_redacts_the_persons_entries_and_nothing_else_may_change(
        db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, ADMIN) as session:
        person = Person(kind="guardian", last_name="Сидорова", first_name="Елена")
        session.add(person)
    async with acting(db, school.schema, ADMIN) as session:
        (await session.get(Person, person.id)).last_name = "Петрова"  # type: ignore[union-attr]
    async with acting(db, school.schema, ADMIN) as session:
        assert await audit.redact(session, "person", {"id": person.id}, ["last_name", "first_name"]) == 2
    logged = [e for e in await entries(db, school) if e.entity == "person"]
    assert all(e.redacted_at is not None for e in logged)
    assert all("last_name" not in (e.before or {}) and "last_name" not in (e.after or {}) for e in logged)
    assert logged[-1].after["kind"] == "guardian"  # what is not personal stays
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == []
    async with db.transaction(school.schema) as session:
        # With the flag, only before/after may change, and only together with redacted_at.
        await session.execute(text("SET LOCAL journal.audit_redaction = 'on'"))
        forged = update(AuditLog).where(AuditLog.id == logged[0].id).values(
            hash="0" * 64, redacted_at=datetime.now(UTC)).execution_options(audited=True)
        with pytest.raises(DBAPIError):
            await session.execute(forged)
    with pytest.raises(ValueError, match="non-key"):
        async with acting(db, school.schema, ADMIN) as session:
            await audit.redact(session, "person", {"id": person.id}, ["id"])
