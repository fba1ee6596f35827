"""Undoing changes over the audit log (R-SEC-3): one entry or everything a compromised account did since T,
for any school table; refused with nothing changed when the row moved on since."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Table, func, select

from services import audit
from services.audit.models import AuditLog
from services.db import Database, SchoolBase
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person, SchoolSetting
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, acting

INTRUDER = audit.Actor.account(301)  # the compromised account
COLLEAGUE = audit.Actor.account(302)
ADMIN = audit.Actor.account(303)






async def last_entry_id(db: Database, school: ProvisionedSchool) -> int:
    async with db.transaction(school.schema) as session:
        found = await session.scalar(select(func.max(AuditLog.id)))
        assert found is not None
        return found


async def revert(db: Database, school: ProvisionedSchool, audit_id: int) -> int:
    async with db.transaction(school.schema) as session:
        return await audit.revert(session, audit_id, account_id=ADMIN.account_id, actor_label=ADMIN.label,
                                  reason="учётная запись скомпрометирована")


async def rows(db: Database, school: ProvisionedSchool, model: type[SchoolBase]) -> list[tuple[object, ...]]:
    async with db.transaction(school.schema) as session:
        table = model.__table__
        assert isinstance(table, Table)
        return [tuple(r) for r in await session.execute(select(table).order_by(*table.primary_key.columns))]


async def test_revert_an_insert_an_update_and_a_delete(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, COLLEAGUE) as session:
        teacher = Person(kind="staff", last_name="Смирнова", first_name="Анна", birth_date=date(1980, 1, 2))
        unit = ClassUnit(grade=6, letter="А")
        session.add_all([teacher, unit])
    people_before, classes_before = await rows(db, school, Person), await rows(db, school, ClassUnit)

    async with acting(db, school.schema, INTRUDER) as session:
        session.add(Person(kind="student", last_name="Лишний", first_name="Ученик"))
    inserted = await last_entry_id(db, school)
    async with acting(db, school.schema, INTRUDER) as session:
        changed = await session.get(ClassUnit, unit.id)
        assert changed is not None
        changed.letter, changed.class_teacher_id = "Я", teacher.id
    updated = await last_entry_id(db, school)
    async with acting(db, school.schema, INTRUDER) as session:
        changed = await session.get(ClassUnit, unit.id)
        assert changed is not None
        changed.class_teacher_id = None
        await session.flush()
        await session.delete(await session.get(Person, teacher.id))
    deleted = await last_entry_id(db, school)

    async with db.transaction(school.schema) as session:
        entry = await session.get(AuditLog, deleted)
        assert entry is not None
        assert entry.action == "delete"
    # Newest first: the teacher comes back, then the class points at her and is named again, then the extra goes.
    for audit_id in (deleted, deleted - 1, updated, inserted):
        revert_id = await revert(db, school, audit_id)
        async with db.transaction(school.schema) as session:
            made = await session.get(AuditLog, revert_id)
            assert made is not None
            assert (made.reverts_id, made.account_id) == (audit_id, 303)
            assert made.reason == "учётная запись скомпрометирована"
    assert await rows(db, school, Person) == people_before, "same id, same values, creation time included"
    assert await rows(db, school, ClassUnit) == classes_before
    async with db.transaction(school.schema) as session:
        assert await audit.verify(session) == []


async def test_revert_works_for_composite_and_text_keys(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, COLLEAGUE) as session:
        mother, son = Person(kind="guardian", last_name="А", first_name="Б"), Person(kind="student", last_name="А",
                                                                                        first_name="В")
        session.add_all([mother, son, SchoolSetting(key="homework_hours", value={"hours": 2})])
    settings_before = await rows(db, school, SchoolSetting)
    async with acting(db, school.schema, INTRUDER) as session:
        session.add(Guardianship(guardian_id=mother.id, student_id=son.id, relation="опекун"))
        setting = await session.get(SchoolSetting, "homework_hours")
        assert setting is not None
        setting.value = {"hours": 48}
    last = await last_entry_id(db, school)
    await revert(db, school, last)
    await revert(db, school, last - 1)
    assert await rows(db, school, Guardianship) == []
    assert await rows(db, school, SchoolSetting) == settings_before


async def test_a_conflicting_revert_is_refused_and_changes_nothing(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, COLLEAGUE) as session:
        unit = ClassUnit(grade=7, letter="А")
        session.add(unit)
    async with acting(db, school.schema, INTRUDER) as session:
        changed = await session.get(ClassUnit, unit.id)
        assert changed is not None
        changed.letter = "Ж"
    bad = await last_entry_id(db, school)
    async with acting(db, school.schema, COLLEAGUE) as session:
        changed = await session.get(ClassUnit, unit.id)
        assert changed is not None
        changed.letter = "Б"
    fixed = await last_entry_id(db, school)
    classes, log = await rows(db, school, ClassUnit), await rows(db, school, AuditLog)

    with pytest.raises(audit.RevertConflict) as refused:
        await revert(db, school, bad)
    assert refused.value.later_ids == [fixed]
    assert "Отмена невозможна" in refused.value.message_ru
    assert f"{fixed} (account:302)" in str(refused.value)
    assert await rows(db, school, ClassUnit) == classes
    assert await rows(db, school, AuditLog) == log

    revert_id = await revert(db, school, fixed)
    with pytest.raises(audit.AlreadyReverted):
        await revert(db, school, fixed)
    with pytest.raises(audit.RevertOfRevert):
        await revert(db, school, revert_id)
    with pytest.raises(audit.RevertRefused):
        await revert(db, school, revert_id + 1000)


async def test_a_revert_other_rows_depend_on_is_refused(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with acting(db, school.schema, INTRUDER) as session:
        session.add(Person(kind="staff", last_name="Новый", first_name="Учитель"))
    made = await last_entry_id(db, school)
    async with acting(db, school.schema, COLLEAGUE) as session:
        teacher_id = await session.scalar(select(Person.id))
        session.add(ClassUnit(grade=8, letter="В", class_teacher_id=teacher_id))
    log = await rows(db, school, AuditLog)
    with pytest.raises(audit.RevertConflict, match="database refused"):
        await revert(db, school, made)
    assert await rows(db, school, AuditLog) == log


async def test_revert_all_since_undoes_only_the_compromised_accounts_later_changes(
    db: Database, make_school: MakeSchool
) -> None:
    school = await make_school()
    async with acting(db, school.schema, INTRUDER) as session:  # before T: the account was still in good hands
        own = ClassUnit(grade=1, letter="А")
        session.add_all([own, Person(kind="student", last_name="Честный", first_name="Ученик")])
    async with acting(db, school.schema, COLLEAGUE) as session:
        shared = ClassUnit(grade=2, letter="А")
        contested = ClassUnit(grade=3, letter="А")
        session.add_all([shared, contested])
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    await asyncio.sleep(0.05)
    before_t = {"classes": await rows(db, school, ClassUnit)}

    async with acting(db, school.schema, INTRUDER) as session:
        newcomer = Person(kind="staff", last_name="Подставной", first_name="Учитель")
        session.add(newcomer)
        await session.flush()
        session.add(ClassUnit(grade=9, letter="Х", class_teacher_id=newcomer.id))
        target = await session.get(ClassUnit, shared.id)
        assert target is not None
        target.letter, target.class_teacher_id = "Ф", newcomer.id
    async with acting(db, school.schema, INTRUDER) as session:
        target = await session.get(ClassUnit, shared.id)
        assert target is not None
        target.letter = "Ц"
        other = await session.get(ClassUnit, contested.id)
        assert other is not None
        other.letter = "Ъ"
        student = await session.scalar(select(Person).where(Person.last_name == "Честный"))
        assert student is not None
        session.add(Enrollment(student_id=student.id, class_unit_id=own.id, start_date=date(2025, 9, 1)))
    async with acting(db, school.schema, COLLEAGUE) as session:  # someone noticed and fixed one class by hand
        other = await session.get(ClassUnit, contested.id)
        assert other is not None
        other.letter = "Б"
        session.add(Person(kind="student", last_name="Новая", first_name="Ученица"))
    colleague_people = [r for r in await rows(db, school, Person) if r[2] in ("Новая", "Честный")]

    async with db.transaction(school.schema) as session:
        listed = await audit.changes_by_account_since(session, INTRUDER.account_id or 0, since)
        assert len(listed) == 6
        report = await audit.revert_all_since(session, INTRUDER.account_id or 0, since,
                                              actor_account_id=ADMIN.account_id, actor_label=ADMIN.label,
                                              reason="компрометация")
    contested_entry = next(e.id for e in listed if e.entity_key == {"id": contested.id})
    assert [c.audit_id for c in report.conflicts] == [contested_entry]
    reverted = [entry_id for entry_id, _ in report.reverted]
    assert reverted == sorted(reverted, reverse=True), "newest first"
    assert set(reverted) == {e.id for e in listed} - {contested_entry}

    classes = {r[0]: r for r in await rows(db, school, ClassUnit)}
    assert classes[shared.id] == next(r for r in before_t["classes"] if r[0] == shared.id)
    assert classes[own.id] == next(r for r in before_t["classes"] if r[0] == own.id), "changes before T stay"
    assert classes[contested.id][2] == "Б", "the colleague's correction stays"
    assert len(classes) == 3
    assert await rows(db, school, Enrollment) == []
    assert [r for r in await rows(db, school, Person) if r[2] in ("Новая", "Честный")] == colleague_people
    assert not [r for r in await rows(db, school, Person) if r[2] == "Подставной"]

    async with db.transaction(school.schema) as session:
        again = await audit.revert_all_since(session, INTRUDER.account_id or 0, since,
                                             actor_account_id=ADMIN.account_id, actor_label=ADMIN.label, reason=None)
        assert again.reverted == []
        assert len(again.skipped) == 5
        assert [c.audit_id for c in again.conflicts] == [contested_entry]
        assert await audit.verify(session) == []
