"""A journal write's event, end to end: the API commits the write and its `journal.entry_saved` event together, the
relay sends it, a real Dramatiq worker judges the entry's timeliness (R-REP-2) in the school's schema. And the
scheduler's lateness scan over every active school."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from services.db import Database
from services.journal.models import Lateness
from services.journal.scope import ENTRY_SAVED
from services.outbox.models import OutboxEvent
from services.region.models import School
from tests.conftest import MakeSchool
from tests.journal import conftest as journal_fixtures
from tests.journal.conftest import Clients, JournalSchool, build_journal_school
from tests.workers import test_outbox_pipeline as pipeline
from tests.workers.test_outbox_pipeline import Process, eventually
from workers.outbox_relay import relay_once
from workers.scheduler import scan_lateness

# The fixtures this module shares with others: the worker as operators run it, and the journal school.
actors = pipeline.actors
redis = pipeline.redis
worker = pipeline.worker
journal = journal_fixtures.journal
people = journal_fixtures.people


async def school_events(db: Database, school_id: int) -> list[OutboxEvent]:
    async with db.transaction() as s:
        return list((await s.scalars(select(OutboxEvent).where(
            OutboxEvent.school_id == school_id, OutboxEvent.topic == ENTRY_SAVED).order_by(OutboxEvent.id))).all())


async def lateness(db: Database, journal: JournalSchool) -> list[Lateness]:
    async with db.transaction(journal.school.schema) as s:
        return list((await s.scalars(select(Lateness).order_by(Lateness.kind))).all())


async def test_a_late_homework_written_through_the_api_is_judged_by_the_worker(
        db: Database, journal: JournalSchool, people: Clients, actors: ModuleType, worker: Process) -> None:
    lesson = journal.lessons["yesterday"]  # lesson 1 yesterday: homework was due by 10:45 yesterday
    assert await school_events(db, journal.school.id) == []

    refused = await people.teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/"
                                                   f"{journal.students[0]}"), json={"text": "7"})
    assert refused.status_code == 422, refused.text
    assert await school_events(db, journal.school.id) == []  # a refused write leaves no event

    saved = await people.teacher.put(journal.api(f"/lessons/{lesson}"),
                                     json={"topic": "Сложение дробей", "homework": "§12, № 5"})
    assert saved.status_code == 200, saved.text
    [event] = await school_events(db, journal.school.id)
    assert event.payload == {"what": "lesson", "lesson_id": lesson}
    assert event.dispatched_at is None

    async def relayed() -> bool:
        await relay_once(db, actors.broker)
        async with db.transaction() as s:
            return await s.scalar(select(OutboxEvent.dispatched_at).where(OutboxEvent.id == event.id)) is not None

    await eventually(relayed, within=20, what="the relay sending the journal event")

    async def judged() -> list[Lateness]:
        return [x for x in await lateness(db, journal) if x.kind == "homework_late"]

    [late] = await eventually(judged, within=30, what="the worker recording the late homework")
    yesterday = journal.today - timedelta(days=1)
    assert (late.lesson_id, late.teacher_id) == (lesson, journal.teacher)
    assert late.due_at == datetime.combine(yesterday, time(10, 45), ZoneInfo("Europe/Moscow"))
    assert late.done_at is not None
    assert late.done_at > late.due_at
    # The lesson's day is over: its topic came late (now done), its attendance is still missing.
    found = {x.kind: x for x in await lateness(db, journal)}
    assert found["topic_missing"].done_at is not None
    assert found["attendance_missing"].done_at is None


async def test_the_lateness_scan_covers_every_active_school_and_survives_a_failing_one(
        db: Database, make_school: MakeSchool) -> None:
    broken = await build_journal_school(db, make_school)
    healthy = await build_journal_school(db, make_school)
    async with db.transaction() as s:
        await s.execute(update(School).where(School.id == broken.school.id).values(time_zone="Nowhere/Atlantis"))
    try:
        # The healthy school's yesterday lesson: 3 (its lesson of 20 days ago is older than the scan looks).
        assert await scan_lateness(db) >= 3
    finally:
        async with db.transaction() as s:
            await s.execute(update(School).where(School.id == broken.school.id).values(time_zone="Europe/Moscow"))

    found = await lateness(db, healthy)
    assert {(x.lesson_id, x.kind) for x in found} == {
        (healthy.lessons["yesterday"], kind) for kind in ("topic_missing", "attendance_missing", "homework_late")}
    assert await lateness(db, broken) == []
    async with db.transaction(healthy.school.schema) as s:
        assert await s.scalar(select(func.count()).select_from(Lateness)) == 3

    # Idempotent: a second pass at the same moment adds nothing anywhere.
    moment = datetime.now(UTC)
    await scan_lateness(db, now=moment)
    assert await scan_lateness(db, now=moment) == 0
    assert len(await lateness(db, healthy)) == 3
