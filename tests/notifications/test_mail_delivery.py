"""R-COM-2 end to end: a teacher saves a mark through the API, the relay sends the event, a real Dramatiq worker
tells the guardian as they chose, and a real SMTP server receives the letter. Quiet hours, digests, "off", the
inbox, and SMTP failures that are retried until the letter is delivered exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from services.db import Database
from services.notifications.schedule import digest_moment
from services.outbox.models import OutboxEvent
from tests.conftest import Backends
from tests.journal import conftest as journal_fixtures
from tests.journal.conftest import Clients, JournalSchool
from tests.notifications.conftest import MailServer, mails, notifications, relay_school, sent_mails
from tests.workers import test_outbox_pipeline as pipeline
from tests.workers.test_outbox_pipeline import Process, eventually
from workers.scheduler import notifications_for_school

actors = pipeline.actors
redis = pipeline.redis
journal = journal_fixtures.journal
people = journal_fixtures.people
MOSCOW = ZoneInfo("Europe/Moscow")


def address() -> str:
    return f"roditel-{uuid.uuid4().hex[:8]}@example.ru"


async def choose(parent: httpx.AsyncClient, journal: JournalSchool, **values: Any) -> None:
    body = {"email": None, "consent": True, "email_frequency": "each", "inapp_frequency": "each", **values}
    response = await parent.put(f"/api/v1/schools/{journal.slug}/notifications/settings", json=body)
    assert response.status_code == 200, response.text


async def save_cell(client: httpx.AsyncClient, journal: JournalSchool, lesson: str, text: str) -> None:
    response = await client.put(journal.api(f"/lessons/{journal.lessons[lesson]}/cells/{journal.students[0]}"),
                                json={"text": text})
    assert response.status_code == 200, response.text


async def handled(db: Database, redis: Redis, backends: Backends, journal: JournalSchool) -> None:
    """Wait until the worker has handled every event of the school (its run_once key is done)."""
    async with db.transaction() as s:
        ids = list((await s.scalars(select(OutboxEvent.id).where(OutboxEvent.school_id == journal.school.id))).all())
    assert ids

    async def all_done() -> bool:
        return all([await redis.get(f"{backends.namespace}:once:journal.entry_saved:{i}") == b"done" for i in ids])

    await eventually(all_done, within=30, what="the worker handling the school's journal events")


def sender(actors: ModuleType) -> Any:
    return lambda school_id, mail_id: actors.send_mail.send(school_id=school_id, mail_id=mail_id)


async def sweep(db: Database, actors: ModuleType, journal: JournalSchool, now: datetime | None = None) -> list[int]:
    school = journal.school
    return await notifications_for_school(db, school.id, school.schema, "Europe/Moscow", sender(actors), now=now)


async def test_a_mark_and_an_absence_reach_the_parent_by_mail_and_in_the_inbox(
        db: Database, journal: JournalSchool, people: Clients, *, actors: ModuleType, mail_worker: Process,
        smtp: MailServer) -> None:
    to = address()
    await choose(people.parent, journal, email=to)
    await save_cell(people.teacher, journal, "today", "5")
    await relay_school(db, actors.broker, journal.school.id)

    [letter] = await eventually(lambda: smtp.to(to), within=30, what="the letter of the mark")
    day = journal.today.strftime("%d.%m.%Y")
    assert letter.rcpt == [to]
    assert letter.message["To"] == to
    assert letter.message["From"] == "dnevnik@school.example.ru"
    assert letter.message["Subject"] == "У: отметка 5 — Математика"
    body = letter.message.get_content()
    assert f"У, Математика, урок {day}: отметка 5 — " in body
    assert "Здравствуйте!" in body
    assert letter.message.get_content_charset() == "utf-8"

    await save_cell(people.other_teacher, journal, "russian_today", "н")
    await relay_school(db, actors.broker, journal.school.id)
    await eventually(lambda: len(smtp.to(to)) == 2, within=30, what="the letter of the absence")
    absence = smtp.to(to)[1].message
    assert absence["Subject"].startswith("У: отсутствие")
    assert absence["Subject"].endswith("— Русский язык")
    [sent_mark, _] = await sent_mails(db, journal.school.schema, 2)
    assert sent_mark.attempts == 1

    inbox = (await people.parent.get(f"/api/v1/schools/{journal.slug}/notifications/inbox")).json()
    assert [n["title"] for n in inbox] == [absence["Subject"], "У: отметка 5 — Математика"]
    assert not any(n["read"] for n in inbox)
    read = await people.parent.post(f"/api/v1/schools/{journal.slug}/notifications/inbox/{inbox[1]['id']}/read")
    assert read.status_code == 204
    after = (await people.parent.get(f"/api/v1/schools/{journal.slug}/notifications/inbox")).json()
    assert [n["read"] for n in after] == [False, True]
    page = await people.parent.get(f"/s/{journal.slug}/notifications/inbox")
    assert page.status_code == 200
    assert "У: отметка 5 — Математика" in page.text
    # Another family's parent cannot mark it read: it is not theirs.
    assert (await people.student.post(
        f"/api/v1/schools/{journal.slug}/notifications/inbox/{inbox[0]['id']}/read")).status_code == 403


async def test_quiet_hours_hold_the_letter_until_they_end(
        db: Database, journal: JournalSchool, people: Clients, *, actors: ModuleType, mail_worker: Process,
        smtp: MailServer, redis: Redis, backends: Backends) -> None:
    to = address()
    local = datetime.now(MOSCOW)
    quiet_from = (local - timedelta(hours=1)).strftime("%H:%M")
    quiet_to = (local + timedelta(hours=1)).strftime("%H:%M")
    await choose(people.parent, journal, email=to, quiet_from=quiet_from, quiet_to=quiet_to)
    await save_cell(people.teacher, journal, "today", "4")
    await relay_school(db, actors.broker, journal.school.id)
    await handled(db, redis, backends, journal)

    [mail] = await mails(db, journal.school.schema)
    ends = mail.due_at.astimezone(MOSCOW)
    assert ends.strftime("%H:%M") == quiet_to
    assert timedelta(minutes=55) < mail.due_at - datetime.now(UTC) < timedelta(minutes=61)
    assert await sweep(db, actors, journal) == []  # still quiet
    await asyncio.sleep(1)
    assert smtp.to(to) == []
    [row] = await notifications(db, journal.school.schema)
    assert row.inapp
    assert row.mail_id == mail.id

    assert await sweep(db, actors, journal, now=mail.due_at + timedelta(seconds=1)) == [mail.id]
    [letter] = await eventually(lambda: smtp.to(to), within=30, what="the letter after the quiet hours")
    assert letter.message["Subject"] == "У: отметка 4 — Математика"


async def test_a_daily_digest_groups_the_marks_into_one_letter(
        db: Database, journal: JournalSchool, people: Clients, *, actors: ModuleType, mail_worker: Process,
        smtp: MailServer, redis: Redis, backends: Backends) -> None:
    to = address()
    await choose(people.parent, journal, email=to, email_frequency="daily", inapp_frequency="each")
    await save_cell(people.teacher, journal, "today", "5")
    await save_cell(people.other_teacher, journal, "russian_today", "3")
    await relay_school(db, actors.broker, journal.school.id)
    await handled(db, redis, backends, journal)

    rows = await notifications(db, journal.school.schema)
    assert [(r.email_mode, r.mail_id) for r in rows] == [("daily", None), ("daily", None)]
    assert await mails(db, journal.school.schema) == []
    moment = digest_moment(rows[0].created_at, "Europe/Moscow", "daily")
    assert moment.astimezone(MOSCOW).strftime("%H:%M") == "18:00"
    assert await sweep(db, actors, journal, now=moment - timedelta(minutes=1)) == []

    [mail_id] = await sweep(db, actors, journal, now=moment + timedelta(minutes=1))
    [letter] = await eventually(lambda: smtp.to(to), within=30, what="the digest")
    day = moment.astimezone(MOSCOW).strftime("%d.%m.%Y")
    assert letter.message["Subject"] == f"Сводка за {day}: отметки и посещаемость"
    body = letter.message.get_content()
    assert "отметка 5 — " in body
    assert "Математика" in body
    assert "отметка 3 — " in body
    assert "Русский язык" in body
    # One digest a day: the next pass finds nothing more to send.
    assert await sweep(db, actors, journal, now=moment + timedelta(minutes=2)) == []
    assert [r.mail_id for r in await notifications(db, journal.school.schema)] == [mail_id, mail_id]
    await asyncio.sleep(1)
    assert len(smtp.to(to)) == 1


async def test_off_sends_nothing(
        db: Database, journal: JournalSchool, people: Clients, *, actors: ModuleType, mail_worker: Process,
        smtp: MailServer, redis: Redis, backends: Backends) -> None:
    to = address()
    await choose(people.parent, journal, email=to, email_frequency="off", inapp_frequency="off")
    await save_cell(people.teacher, journal, "today", "2")
    await relay_school(db, actors.broker, journal.school.id)
    await handled(db, redis, backends, journal)
    assert await notifications(db, journal.school.schema) == []
    assert await mails(db, journal.school.schema) == []
    assert await sweep(db, actors, journal, now=datetime.now(UTC) + timedelta(days=8)) == []
    assert smtp.to(to) == []
    assert (await people.parent.get(f"/api/v1/schools/{journal.slug}/notifications/inbox")).json() == []


@pytest.mark.parametrize("failure", ["server stopped", "451 answer"])
async def test_a_failed_letter_is_retried_and_delivered_exactly_once(
        db: Database, journal: JournalSchool, people: Clients, *, actors: ModuleType, mail_worker: Process,
        smtp: MailServer, failure: str) -> None:
    to = address()
    await choose(people.parent, journal, email=to)
    if failure == "server stopped":
        smtp.stop()
    else:
        smtp.refuse = 1
    try:
        await save_cell(people.teacher, journal, "today", "5")
        await relay_school(db, actors.broker, journal.school.id)

        async def failed_once() -> Any:
            found = await mails(db, journal.school.schema)
            return found[0] if found and found[0].attempts >= 1 else None

        mail = await eventually(failed_once, within=30, what="the first, failed attempt")
    finally:
        if failure == "server stopped":
            smtp.start()
    assert mail.sent_at is None
    assert mail.last_error == ("SMTPDataError 451" if failure == "451 answer" else "SMTPConnectError")
    assert timedelta(seconds=25) < mail.next_attempt_at - datetime.now(UTC) <= timedelta(seconds=31)
    assert smtp.to(to) == []

    assert await sweep(db, actors, journal) == []  # backing off
    assert await sweep(db, actors, journal, now=mail.next_attempt_at + timedelta(seconds=1)) == [mail.id]
    [letter] = await eventually(lambda: smtp.to(to), within=30, what="the retried letter")
    assert letter.message["Subject"] == "У: отметка 5 — Математика"
    [sent] = await sent_mails(db, journal.school.schema, 1)
    assert sent.attempts == 2
    assert sent.last_error is None
    assert await sweep(db, actors, journal, now=datetime.now(UTC) + timedelta(hours=2)) == []
    await asyncio.sleep(1)
    assert len(smtp.to(to)) == 1
