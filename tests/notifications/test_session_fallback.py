"""Sessions through a Redis outage (services/identity/sessions.py): a session this process checked within the last
10 minutes is still accepted, nothing else is, and ending sessions fails closed. Against a Redis of the test's own
that is stopped and started again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from infra.local.embedded import EmbeddedRedis, start_redis
from services.identity import sessions
from services.identity.sessions import FALLBACK_S, SessionStore, _digest

IDLE_S = 30 * 60


class Outage:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: EmbeddedRedis = start_redis(folder, appendonly=True)

    def down(self) -> None:
        self.server.stop()

    def up(self) -> None:
        self.server = start_redis(self.folder, appendonly=True)


@pytest.fixture
async def redis_outage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Outage, Redis]]:
    folder = tmp_path_factory.mktemp("session-redis")
    folder.chmod(0o755)
    outage = Outage(folder)
    client = Redis.from_url(outage.server.url, socket_timeout=2, socket_connect_timeout=2)
    yield outage, client
    await client.aclose()
    outage.server.stop()


async def test_a_recently_checked_session_survives_an_outage_and_nothing_else_does(
        redis_outage: tuple[Outage, Redis]) -> None:
    outage, client = redis_outage
    store = SessionStore(client, "t", 12 * 3600)
    other_process = SessionStore(client, "t", 12 * 3600)
    mine = await store.create(1)
    checked = await store.create(2)
    assert (await store.load(checked, IDLE_S)) is not None
    foreign = await other_process.create(3)  # another API process made it; this one never saw it
    stale = await store.create(4)
    store._recent[_digest(stale)] = (store._recent[_digest(stale)][0], time.monotonic() - FALLBACK_S - 1)
    idle = await store.create(5)
    store._recent[_digest(idle)][0].last_seen -= IDLE_S + 1

    outage.down()
    started = time.monotonic()
    loaded = await store.load(mine, IDLE_S)
    assert time.monotonic() - started < 1
    assert loaded is not None
    assert loaded.account_id == 1
    assert (await store.load(checked, IDLE_S)) is not None
    with pytest.raises(RedisConnectionError):
        await store.load(foreign, IDLE_S)
    with pytest.raises(RedisConnectionError):
        await store.load(stale, IDLE_S)
    with pytest.raises(RedisConnectionError):
        await store.load(idle, IDLE_S)
    with pytest.raises(RedisConnectionError):
        await store.load("a-cookie-nobody-made", IDLE_S)

    # Logging out while Redis is down fails, and the session is no longer accepted from memory either.
    with pytest.raises(RedisConnectionError):
        await store.destroy(mine)
    with pytest.raises(RedisConnectionError):
        await store.load(mine, IDLE_S)
    with pytest.raises(RedisConnectionError):
        await store.destroy_all(2)
    with pytest.raises(RedisConnectionError):
        await store.load(checked, IDLE_S)
    with pytest.raises(RedisConnectionError):
        await store.create(6)

    outage.up()
    # Back to Redis, which never heard of the failed logouts: the sessions are live there and load again.
    assert (await store.load(mine, IDLE_S)) is not None
    await store.destroy(mine)
    assert await store.load(mine, IDLE_S) is None
    assert _digest(mine) not in store._recent


async def test_the_memory_of_checked_sessions_is_bounded(
        redis_outage: tuple[Outage, Redis], monkeypatch: pytest.MonkeyPatch) -> None:
    outage, client = redis_outage
    monkeypatch.setattr(sessions, "FALLBACK_ENTRIES", 3)
    store = SessionStore(client, "t", 12 * 3600)
    made = [await store.create(n) for n in range(4)]
    await store.load(made[1], IDLE_S)  # used: the least recently used is now made[0], then made[2]
    assert len(store._recent) == 3
    outage.down()
    with pytest.raises(RedisConnectionError):
        await store.load(made[0], IDLE_S)
    for sid in made[1:]:
        assert (await store.load(sid, IDLE_S)) is not None
