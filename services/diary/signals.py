"""Announcing journal changes to open diaries (R-DRY-2): a journal write notes the students it touched on its
session (`touched`); once the request's transaction is committed, the API process publishes them on the school's
Redis channel (`announce`), fire and forget — a journal write never waits for Redis. `services.diary.live` listens.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import after_commit

logger = logging.getLogger(__name__)

_TOUCHED = "diary.touched"
_ALL = 0
"""Stands for every student of the school (a lesson's topic or homework changed)."""


def channel(namespace: str, school_id: int) -> str:
    return f"{namespace}:diary:{school_id}"


def touched(session: AsyncSession, school_id: int, student_ids: Iterable[int | None]) -> None:
    """Note on a journal write's session which students' diaries it changed (None: the whole lesson's class); they
    are announced once the request's transaction is committed."""
    noted: set[int] | None = session.info.get(_TOUCHED)
    if noted is None:
        noted = session.info[_TOUCHED] = set()
        after_commit(session, lambda runtime: announce(runtime.redis, runtime.settings.redis.namespace, school_id,
                                                       session.info.pop(_TOUCHED, set())))
    noted.update(_ALL if s is None else s for s in student_ids)


_pending: set[asyncio.Task[None]] = set()


def announce(redis: Redis, namespace: str, school_id: int, noted: set[int]) -> None:
    """Publish what was touched, without waiting: Redis may be down, and the open diaries then find the change
    on their own re-read."""
    if not noted:
        return
    message = json.dumps({"students": None if _ALL in noted else sorted(noted)})

    async def publish() -> None:
        try:
            await redis.publish(channel(namespace, school_id), message)
        except Exception as exc:
            logger.warning("diary change not announced: %s", type(exc).__name__)

    task = asyncio.get_running_loop().create_task(publish())
    _pending.add(task)
    task.add_done_callback(_pending.discard)
