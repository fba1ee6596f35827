"""Redis down: a teacher still saves a mark (the session is accepted from the API process's recent check, the mark
and its event are committed in PostgreSQL), and the parent's letter goes out once Redis is back.

A Redis of its own (stopped and started again on the same socket and data folder), with an API process and a
worker of their own, so the suite's Redis keeps serving the other tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn
from sqlalchemy import insert, select

from infra.local.embedded import EmbeddedRedis, start_redis
from services.db import Database
from services.identity.models import Account, Membership
from services.identity.passwords import hash_password
from services.outbox.models import OutboxEvent
from tests.conftest import TEST_PASSWORD, Backends, MakeSchool, _csrf_header, _free_port, settings_for
from tests.journal.conftest import JournalSchool, build_journal_school
from tests.notifications.conftest import MailServer, sent_mails, start_worker, worker_env
from tests.workers import test_outbox_pipeline as pipeline
from tests.workers.test_outbox_pipeline import Process, eventually
from workers.broker import build_broker
from workers.outbox_relay import relay_once

actors = pipeline.actors


@dataclass
class OwnRedis:
    folder: Path
    server: EmbeddedRedis

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server = start_redis(self.folder, appendonly=True)


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    folder = tmp_path_factory.mktemp("own-redis")
    folder.chmod(0o755)
    redis = OwnRedis(folder, start_redis(folder, appendonly=True))
    yield redis
    redis.stop()


@pytest.fixture
async def own_api(backends: Backends, own_redis: OwnRedis, db: Database) -> AsyncIterator[str]:
    from services.app import create_app

    port = _free_port()
    app = create_app(settings_for(backends, REDIS_URL=own_redis.url, JOURNAL_PORT=str(port),
                                  JOURNAL_PUBLIC_URL=f"http://127.0.0.1:{port}"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def signed_in(db: Database, base_url: str, journal: JournalSchool, roles: list[str],
                    person_id: int) -> httpx.AsyncClient:
    login = f"user-{uuid.uuid4().hex[:10]}"
    async with db.transaction() as session:
        account_id = await session.scalar(insert(Account).values(
            login=login, password_hash=await hash_password(TEST_PASSWORD), platform_roles=[]).returning(Account.id))
        await session.execute(insert(Membership).values(account_id=account_id, school_id=journal.school.id,
                                                        roles=roles, person_id=person_id))
    http = httpx.AsyncClient(base_url=base_url, timeout=30, event_hooks={"request": [_csrf_header]})
    await http.get("/login")
    response = await http.post("/login", data={"login": login, "password": TEST_PASSWORD})
    assert response.status_code == 303, response.text
    return http


async def test_a_mark_saved_while_redis_is_down_is_mailed_once_it_is_back(
        db: Database, make_school: MakeSchool, backends: Backends, *, actors: ModuleType, own_redis: OwnRedis,
        own_api: str, smtp: MailServer, tmp_path: Path) -> None:
    journal = await build_journal_school(db, make_school)
    teacher = await signed_in(db, own_api, journal, ["teacher"], journal.teacher)
    parent = await signed_in(db, own_api, journal, ["parent"], journal.parent)
    to = f"roditel-{uuid.uuid4().hex[:8]}@example.ru"
    saved = await parent.put(f"/api/v1/schools/{journal.slug}/notifications/settings", json={
        "email": to, "consent": True, "email_frequency": "each", "inapp_frequency": "each"})
    assert saved.status_code == 200, saved.text
    broker = build_broker(settings_for(backends, REDIS_URL=own_redis.url))
    for actor in actors.broker.actors.values():
        broker.declare_actor(actor)
    worker: Process = start_worker({**worker_env(backends, smtp), "REDIS_URL": own_redis.url},
                                   tmp_path / "worker.log")
    try:
        assert (await teacher.get("/api/v1/me")).status_code == 200
        own_redis.stop()

        started = time.monotonic()
        cell = await teacher.put(journal.api(f"/lessons/{journal.lessons['today']}/cells/{journal.students[0]}"),
                                 json={"text": "5"})
        assert cell.status_code == 200, cell.text
        took = time.monotonic() - started
        assert took < 5, f"a write while Redis is down took {took:.1f} s"
        print(f"a mark saved while Redis is down: {took * 1000:.0f} ms")
        # Logging out cannot be done while Redis is down: it fails, it does not pretend.
        assert (await teacher.post("/api/v1/auth/logout")).status_code >= 500
        # The event waits in the outbox, its attempts counted.
        assert await relay_once(db, broker) == 0
        async with db.transaction() as s:
            event = await s.scalar(select(OutboxEvent).where(OutboxEvent.school_id == journal.school.id,
                                                             OutboxEvent.dispatched_at.is_(None)))
        assert event is not None
        assert event.attempts >= 1
        await asyncio.sleep(1)
        assert smtp.to(to) == []

        own_redis.start()
        restarted = time.monotonic()

        async def relayed() -> bool:
            await relay_once(db, broker)
            async with db.transaction() as s:
                return await s.scalar(select(OutboxEvent.dispatched_at).where(OutboxEvent.id == event.id)) is not None

        await eventually(relayed, within=30, what="the relay sending the event once Redis is back")
        print(f"the event was relayed {time.monotonic() - restarted:.1f} s after Redis started again")
        back = time.monotonic()
        [letter] = await eventually(lambda: smtp.to(to), within=60, what="the letter after Redis came back")
        print(f"the letter arrived {time.monotonic() - back:.1f} s after the event was relayed")
        assert letter.message["Subject"] == "У: отметка 5 — Математика"
        [mail] = await sent_mails(db, journal.school.schema, 1)
        assert mail.attempts == 1
    finally:
        await asyncio.to_thread(worker.stop)
        await teacher.aclose()
        await parent.aclose()
