"""The whole path of a background job: outbox → relay → Redis → a real Dramatiq worker, and the scheduler.

The worker and the scheduler run as the operators run them (`python -m dramatiq workers.actors`,
`python -m workers.scheduler`) against the suite's PostgreSQL and Redis, under the suite's Redis namespace.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from services.db import Database
from services.outbox.models import OutboxEvent
from services.outbox.service import add_event
from tests.conftest import Backends, settings_for
from workers.broker import build_broker
from workers.outbox_relay import UNKNOWN_TOPIC, relay_once

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT = "system.heartbeat"


def process_env(backends: Backends) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "REDIS_NAMESPACE": backends.namespace,
        "JOURNAL_DATA_DIR": str(backends.data_dir),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def stop(self, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise


def start(args: list[str], backends: Backends, log: Path) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=process_env(backends), stdout=out, stderr=subprocess.STDOUT
        )
    return Process(popen, log)


async def eventually(probe: Callable[[], Any], *, within: float, what: str) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def actors(backends: Backends, db: Database) -> ModuleType:
    """The actors module as the worker loads it: it reads the environment once, at import."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE"):
            env.setenv(name, process_env(backends)[name])
        return importlib.import_module("workers.actors")


@pytest.fixture(scope="module")
async def redis(backends: Backends) -> AsyncIterator[Redis]:
    client = Redis.from_url(backends.redis_url)
    yield client
    # Leave a shared Redis as found: the keys of this module's jobs and of Dramatiq's queues.
    for pattern in ("heartbeat:*", "once:*", "default*", "__*"):
        async for name in client.scan_iter(match=f"{backends.namespace}:{pattern}"):
            await client.delete(name)
    await client.aclose()


@pytest.fixture(scope="module")
def worker(
    backends: Backends, actors: ModuleType, redis: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    # Depends on `redis` so the worker stops before that fixture cleans the namespace.
    process = start(
        ["-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", "2"],
        backends,
        tmp_path_factory.mktemp("worker") / "worker.log",
    )
    try:
        deadline = time.monotonic() + 30
        while not any("Worker process is ready for action" in line for line in process.lines()):
            assert process.popen.poll() is None, "\n".join(process.lines()[-30:])
            assert time.monotonic() < deadline, "the worker did not boot within 30 s"
            time.sleep(0.1)
        yield process
    finally:
        assert process.stop() == 0


async def drain(actors: ModuleType) -> None:
    """Wait until the worker has finished every message sent so far: earlier tests' jobs also write heartbeats."""
    await asyncio.to_thread(actors.broker.join, "default", timeout=20_000)


def key(backends: Backends, *parts: str | int) -> str:
    return ":".join((backends.namespace, *map(str, parts)))


async def newest_event(db: Database) -> OutboxEvent:
    async with db.transaction() as session:
        event = await session.scalar(select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(1))
    assert event is not None
    return event


async def reload(db: Database, event_id: int) -> OutboxEvent:
    async with db.transaction() as session:
        event = await session.get(OutboxEvent, event_id)
    assert event is not None
    return event


async def test_committed_event_is_relayed_and_run_by_the_worker(
    db: Database, actors: ModuleType, worker: Process, redis: Redis, backends: Backends
) -> None:
    await drain(actors)
    await redis.delete(key(backends, "heartbeat", "worker"))
    async with db.transaction() as session:
        await add_event(session, topic=HEARTBEAT, payload={}, school_id=None)
    event = await newest_event(db)
    assert event.dispatched_at is None

    assert await relay_once(db, actors.broker) == 1

    beat = await eventually(lambda: redis.get(key(backends, "heartbeat", "worker")), within=20, what="worker heartbeat")
    assert datetime.fromisoformat(beat.decode()).tzinfo is not None
    assert (await reload(db, event.id)).dispatched_at is not None
    assert await redis.get(key(backends, "once", HEARTBEAT, event.id)) == b"done"
    # Dispatched events are not sent again.
    assert await relay_once(db, actors.broker) == 0


async def test_event_of_a_rolled_back_transaction_is_never_relayed(db: Database, actors: ModuleType) -> None:
    marker = uuid.uuid4().hex
    probe = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.payload["probe"].astext == marker)

    async def write_then_fail() -> None:
        async with db.engine.connect() as conn, conn.begin():
            await add_event(conn, topic=HEARTBEAT, payload={"probe": marker}, school_id=None)
            assert await conn.scalar(probe) == 1
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        await write_then_fail()

    assert await relay_once(db, actors.broker) == 0
    async with db.transaction() as session:
        assert await session.scalar(probe) == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("unreachable", ["tcp", "unix"])
async def test_redis_down_keeps_events_pending_until_it_is_back(
    db: Database, actors: ModuleType, backends: Backends, unreachable: str
) -> None:
    url = (
        f"redis://127.0.0.1:{_closed_port()}/0"
        if unreachable == "tcp"
        else f"unix://{backends.data_dir / 'no-such-redis.sock'}"
    )
    down = build_broker(settings_for(backends, REDIS_URL=url))
    for actor in actors.broker.actors.values():
        down.declare_actor(actor)
    async with db.transaction() as session:
        await add_event(session, topic=HEARTBEAT, payload={}, school_id=None)
    event = await newest_event(db)

    started = time.monotonic()
    assert await relay_once(db, down) == 0
    assert time.monotonic() - started < 10, "a dead Redis must fail fast"
    await relay_once(db, down)
    pending = await reload(db, event.id)
    assert pending.dispatched_at is None
    assert pending.attempts == 2
    assert pending.last_error is not None
    assert pending.last_error.startswith("broker unreachable: ConnectionError")

    assert await relay_once(db, actors.broker) == 1
    assert (await reload(db, event.id)).dispatched_at is not None


async def test_unknown_topic_waits_without_blocking_the_others(db: Database, actors: ModuleType) -> None:
    async with db.transaction() as session:
        await add_event(session, topic="tests.no_such_actor", payload={"n": 1}, school_id=4)
        await add_event(session, topic=HEARTBEAT, payload={}, school_id=None)
    heartbeat_event = await newest_event(db)

    assert await relay_once(db, actors.broker, batch=1) == 1

    assert (await reload(db, heartbeat_event.id)).dispatched_at is not None
    unknown = await reload(db, heartbeat_event.id - 1)
    assert unknown.topic == "tests.no_such_actor"
    assert unknown.dispatched_at is None
    assert unknown.last_error == UNKNOWN_TOPIC


async def test_add_event_refuses_payload_keys_the_relay_sets(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(ValueError, match="event_id"):
            await add_event(session, topic=HEARTBEAT, payload={"event_id": 1}, school_id=None)
        with pytest.raises(ValueError, match="topic"):
            await add_event(session, topic="", payload={}, school_id=None)


async def test_heartbeat_delivered_twice_runs_once(
    actors: ModuleType, worker: Process, redis: Redis, backends: Backends
) -> None:
    beat_key = key(backends, "heartbeat", "worker")
    event_id = random.randint(10**12, 10**13)
    await drain(actors)
    await redis.delete(beat_key)

    await asyncio.to_thread(actors.heartbeat.send, event_id=event_id, school_id=None)
    first = await eventually(lambda: redis.get(beat_key), within=20, what="first heartbeat")
    await asyncio.to_thread(actors.heartbeat.send, event_id=event_id, school_id=None)

    skipped = f"event {event_id} already handled"
    line = await eventually(
        lambda: next((line for line in worker.lines() if skipped in line), None), within=20, what="duplicate skip"
    )
    assert json.loads(line)["level"] == "INFO"
    assert await redis.get(beat_key) == first


async def test_failed_work_releases_its_claim(actors: ModuleType, redis: Redis, backends: Backends) -> None:
    event_id = random.randint(10**12, 10**13)
    calls: list[str] = []

    async def flaky() -> None:
        calls.append("run")
        if len(calls) == 1:
            raise OSError("SMTP unreachable")

    try:
        with pytest.raises(OSError, match="SMTP"):
            await actors.run_once("tests.flaky", event_id, flaky)
        assert await redis.get(key(backends, "once", "tests.flaky", event_id)) is None
        assert await actors.run_once("tests.flaky", event_id, flaky) is True
        assert await actors.run_once("tests.flaky", event_id, flaky) is False
        assert calls == ["run", "run"]

        # A delivery that meets a claim still held is retried later, not dropped.
        await redis.set(key(backends, "once", "tests.busy", event_id), "running")
        with pytest.raises(actors.AlreadyRunning):
            await actors.run_once("tests.busy", event_id, flaky)
    finally:
        # The client belongs to this test's event loop; the module must not keep it.
        if actors._process.redis is not None:
            await actors._process.redis.aclose()
            actors._process.redis = None


async def test_scheduler_drives_the_heartbeat_and_stops_on_sigterm(
    backends: Backends, actors: ModuleType, worker: Process, redis: Redis, tmp_path: Path
) -> None:
    await drain(actors)
    await redis.delete(key(backends, "heartbeat", "worker"), key(backends, "heartbeat", "scheduler"))
    scheduler = start(["-m", "workers.scheduler"], backends, tmp_path / "scheduler.log")
    try:
        await eventually(
            lambda: redis.get(key(backends, "heartbeat", "worker")), within=40, what="heartbeat through the scheduler"
        )
        assert await redis.get(key(backends, "heartbeat", "scheduler"))
    finally:
        code = await asyncio.to_thread(scheduler.stop)
    assert code == 0, "\n".join(scheduler.lines()[-30:])
    lines = [line for line in scheduler.lines() if line.strip()]
    assert lines, "the scheduler logged nothing"
    assert all(json.loads(line)["msg"] for line in lines), "every log line is a JSON object"
    assert any(json.loads(line)["msg"] == "scheduler stopped" for line in lines)
