"""At once (R-DRY-2): an open diary page learns of a change the moment the teacher's save is committed.

A journal write notes the students it touched (`services.diary.signals`), published on the school's Redis channel
once the request's transaction is committed. Every API process keeps one subscription (`DiaryBus`) and wakes the
diary streams of those students: `GET …/diary/students/{id}/changes?week=` is a server-sent event stream that
re-reads the week's fingerprint (`service.week_version`, one statement, in a session of its own) when woken, and
sends `changed` when it moved. An idle stream costs nothing; it re-reads the fingerprint every `RECHECK_S` anyway
(writes made outside the API — a worker's revert — are not announced) and every second while the subscription is
down (Redis unreachable), and ends after `STREAM_S` so the browser reconnects and the session is checked again.

The page falls back to polling the fingerprint every second (`…/version?week=`) where the stream can't be opened;
it closes the stream while hidden and after a long time without the person's activity, so an abandoned tab neither
loads the server nor keeps the session alive for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date

from litestar.response import ServerSentEventMessage
from redis.asyncio import Redis

from services.db import Database
from services.diary.signals import channel

logger = logging.getLogger(__name__)

POLL_MS = 1000
IDLE_STOP_MS = 20 * 60 * 1000
RECHECK_S = 30.0
DOWN_RECHECK_S = 1.0
STREAM_S = 10 * 60.0


def week_api_url(slug: str, student_id: int, monday: date, what: str) -> str:
    """`what` of an open week: `changes` (the event stream) or `version` (the fingerprint, for polling)."""
    return f"/api/v1/schools/{slug}/diary/students/{student_id}/{what}?week={monday.isoformat()}"


@dataclass(eq=False)
class _Waiter:
    student_id: int
    woken: asyncio.Event = field(default_factory=asyncio.Event)


class DiaryBus:
    """One subscription per API process to every school's diary channel; wakes the streams it concerns."""

    def __init__(self, redis_url: str, namespace: str) -> None:
        self._url, self._namespace = redis_url, namespace
        self._waiters: dict[int, set[_Waiter]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.woken.set()

    @contextlib.contextmanager
    def waiting(self, school_id: int, student_id: int) -> Iterator[_Waiter]:
        waiter = _Waiter(student_id)
        self._waiters[school_id].add(waiter)
        try:
            yield waiter
        finally:
            self._waiters[school_id].discard(waiter)
            if not self._waiters[school_id]:
                del self._waiters[school_id]

    def _wake(self, school_id: int, students: list[int] | None) -> None:
        for waiter in self._waiters.get(school_id, ()):
            if students is None or waiter.student_id in students:
                waiter.woken.set()

    async def _listen(self) -> None:
        prefix = channel(self._namespace, 0)[:-1]
        while True:
            redis = Redis.from_url(self._url, socket_connect_timeout=2)
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{prefix}*")
                    self.connected = True
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                        if message is None or message["type"] != "pmessage":
                            continue
                        try:
                            school_id = int(message["channel"].decode()[len(prefix):])
                            students = json.loads(message["data"])["students"]
                        except (ValueError, KeyError, TypeError):
                            continue
                        self._wake(school_id, students)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    logger.warning("diary subscription lost: %s; open diaries re-read every second",
                                   type(exc).__name__)
                await asyncio.sleep(1.0)
            finally:
                self.connected = False
                await redis.aclose()


async def changes(bus: DiaryBus, db: Database, *, schema: str, school_id: int, student_id: int, monday: date,
                  version: str) -> AsyncIterator[ServerSentEventMessage]:
    """The stream of one open diary week: `changed` with the new fingerprint whenever it moves."""
    from services.diary import service  # the week's assembly needs the runtime, which holds this module's bus
    yield ServerSentEventMessage(event="ready", data=version, retry=2000)
    ends = time.monotonic() + STREAM_S
    with bus.waiting(school_id, student_id) as waiter:
        while time.monotonic() < ends:
            timeout = RECHECK_S if bus.connected else DOWN_RECHECK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.woken.wait(), timeout)
            waiter.woken.clear()
            async with db.transaction(schema) as session:
                now = await service.week_version(session, student_id, monday)
            if now != version:
                version = now
                yield ServerSentEventMessage(event="changed", data=version)
            else:
                yield ServerSentEventMessage(comment="")  # keeps proxies from closing an idle stream
