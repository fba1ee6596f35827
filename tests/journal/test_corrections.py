"""Corrections (R-JRN-6, R-SEC-2, R-SEC-3): a change to an earlier day's entry says why; every cell has its history
for the deputy head; undoing what a compromised account wrote works on journal entries too."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.db import Database
from services.identity.models import Account
from services.journal.models import Mark
from services.outbox.models import OutboxEvent
from services.structure.models import Person
from tests.conftest import SignIn, school_writes
from tests.journal.conftest import Clients, JournalSchool


async def _yesterdays_mark(db: Database, journal: JournalSchool, value: str = "3") -> int:
    """A mark entered on an earlier day (the lesson of "yesterday", entered then)."""
    async with school_writes(db, journal.school.schema) as s:
        mark = Mark(lesson_id=journal.lessons["yesterday"], student_id=journal.students[0], work_kind_id=1,
                    value=value, author_id=journal.teacher, created_at=datetime.now(UTC) - timedelta(days=1))
        s.add(mark)
        await s.flush()
        return mark.id


async def test_an_earlier_days_mark_is_corrected_with_a_reason_and_the_deputy_sees_the_history(
        db: Database, journal: JournalSchool, people: Clients) -> None:
    mark_id = await _yesterdays_mark(db, journal)
    lesson, a = journal.lessons["yesterday"], journal.students[0]
    cell = journal.api(f"/lessons/{lesson}/cells/{a}")
    why = await people.teacher.put(cell, json={"text": "4"})
    assert why.status_code == 422
    assert why.json()["type"] == "/problems/journal-reason-required"
    assert (await people.teacher.patch(journal.api(f"/marks/{mark_id}"), json={"value": "4"})).status_code == 422
    assert (await people.teacher.delete(journal.api(f"/marks/{mark_id}"))).status_code == 422
    fixed = await people.teacher.put(cell, json={"text": "4", "reason": "Ошибка при вводе"})
    assert fixed.status_code == 200
    # A mark entered today is changed freely.
    assert (await people.teacher.put(cell, json={"text": "4/5", "reason": "Ответ у доски"})).status_code == 200
    assert (await people.teacher.put(cell, json={"text": "4/4"})).status_code == 200

    history = (await people.deputy.get(journal.api(f"/lessons/{lesson}/students/{a}/history"))).json()
    teacher_name = "Иванова Т"
    assert [(h["before"], h["after"], h["author"], h["reason"]) for h in history] == [
        ("—", "3", "система", None),
        ("3", "4", teacher_name, "Ошибка при вводе"),
        ("—", "5", teacher_name, "Ответ у доски"),
        ("5", "4", teacher_name, None),
    ]
    assert all(h["what"] == "отметка" for h in history)
    # Teachers and families don't read the audit.
    assert (await people.teacher.get(journal.api(f"/lessons/{lesson}/students/{a}/history"))).status_code == 403
    assert (await people.parent.get(journal.api(f"/lessons/{lesson}/students/{a}/history"))).status_code == 403


async def test_attendance_changes_are_in_the_cells_history(db: Database, journal: JournalSchool,
                                                           people: Clients) -> None:
    lesson, a = journal.lessons["today"], journal.students[0]
    await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": "н"})
    await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": "б"})
    await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": ""})
    history = (await people.deputy.get(journal.api(f"/lessons/{lesson}/students/{a}/history"))).json()
    assert [(h["what"], h["before"], h["after"]) for h in history] == [
        ("посещаемость", "—", "н"), ("посещаемость", "н", "б"), ("посещаемость", "б", "—")]


async def test_what_a_compromised_account_wrote_in_the_journal_is_undone(
        db: Database, journal: JournalSchool, people: Clients, sign_in: SignIn) -> None:
    lesson, (a, b, _) = journal.lessons["today"], journal.students
    await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{a}"), json={"text": "5"})  # before T
    await asyncio.sleep(0.05)
    since = datetime.now(UTC)
    await asyncio.sleep(0.05)
    for student, text in ((a, "2"), (b, "2/н")):
        assert (await people.teacher.put(journal.api(f"/lessons/{lesson}/cells/{student}"),
                                         json={"text": text})).status_code == 200
    await people.teacher.put(journal.api(f"/lessons/{lesson}"), json={"topic": "Взлом"})
    admin = await sign_in({journal.school: ["administrator"]})
    async with db.transaction() as s:
        account = await s.scalar(select(Account.id).where(Account.login == people.teacher.headers["x-test-login"]))
    base = f"/api/v1/schools/{journal.slug}/users/{account}"
    assert (await admin.post(f"{base}/compromised", json={"since": since.isoformat()})).status_code == 204
    async with db.transaction() as s:
        events_before = await s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.school_id == journal.school.id, OutboxEvent.topic == "journal.entry_saved"))
    report = (await admin.post(f"{base}/revert-all")).json()
    assert (report["conflicts"], len(report["reverted"])) == ([], 4), report
    async with db.transaction(journal.school.schema) as s:
        marks = sorted((m.student_id, m.value) for m in (await s.execute(select(Mark))).scalars())
        assert marks == [(a, "5")]
        assert await s.scalar(select(func.count()).select_from(Person)) > 0
    async with db.transaction() as s:
        events_after = await s.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.school_id == journal.school.id, OutboxEvent.topic == "journal.entry_saved"))
    assert events_after == (events_before or 0) + 4, "each undone journal row is announced like a write"
    grid = (await people.deputy.get(journal.api(f"/loads/{journal.maths}/grid"))).json()
    assert "rows" in grid, grid
    cells = {row["student_id"]: row["cells"][str(lesson)] for row in grid["rows"] if str(lesson) in row["cells"]}
    assert cells == {a: "5", b: ""}
    assert {x["id"]: x["topic"] for x in grid["lessons"]}[lesson] is None
    history = (await people.deputy.get(journal.api(f"/lessons/{lesson}/students/{a}/history"))).json()
    assert [(h["before"], h["after"], h["reverted"]) for h in history] == [
        ("—", "5", False), ("5", "2", True), ("2", "5", False)]
