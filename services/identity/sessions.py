"""Server-side sessions in Redis (R-SEC-4): idle timeout, absolute lifetime, "log out on all devices".

The cookie holds a random id; Redis stores the session under the id's SHA-256, so a copy of Redis does not
hand out live cookies. Every account keeps the set of its sessions, which is how all of them end at once.

While Redis is unreachable, a session this process itself validated in Redis within the last `FALLBACK_S` is
still accepted (an LRU of at most `FALLBACK_ENTRIES`, by digest, in memory only), so teachers keep writing the
journal through a Redis outage: the writes and their outbox events are in PostgreSQL. The idle and absolute limits
still apply. Nothing else falls back: creating a session, logging out and ending all sessions raise while Redis is
down (fail closed), after first dropping the session from this process's memory. Known limit: a session ended
through another API process shortly before the outage may be accepted here until its entry is `FALLBACK_S` old.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

COOKIE = "journal_session"
# last_seen is written at most this often, so a busy page does not write Redis on every request.
TOUCH_EVERY_S = 30
FALLBACK_S = 10 * 60
"""How long after its last check in Redis a session is accepted from memory while Redis is unreachable."""
FALLBACK_ENTRIES = 10_000
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


@dataclass(slots=True)
class SessionData:
    account_id: int
    created_at: float
    last_seen: float
    extra: dict[str, Any] = field(default_factory=dict)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionStore:
    def __init__(self, redis: Redis, namespace: str, max_age_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self.max_age_s = max_age_s
        # digest -> (the session as Redis last confirmed it, time.monotonic() of that check)
        self._recent: OrderedDict[str, tuple[SessionData, float]] = OrderedDict()

    def _key(self, digest: str) -> str:
        return f"{self._ns}:session:{digest}"

    def _index(self, account_id: int) -> str:
        return f"{self._ns}:account-sessions:{account_id}"

    async def create(self, account_id: int, extra: dict[str, Any] | None = None) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        data = SessionData(account_id, now, now, extra or {})
        digest = _digest(sid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(digest), self._dump(data), ex=self.max_age_s)
            pipe.sadd(self._index(account_id), digest)
            pipe.expire(self._index(account_id), self.max_age_s)
            await pipe.execute()
        self._remember(digest, data)
        return sid

    async def load(self, sid: str, idle_s: int) -> SessionData | None:
        """The live session, or None when unknown, idle too long or past its lifetime (then it is removed).

        With Redis unreachable: the session as this process last confirmed it, if that was within `FALLBACK_S`
        and it is still within its limits; otherwise Redis's error is raised.
        """
        digest = _digest(sid)
        try:
            data = await self._load(digest, idle_s)
        except REDIS_DOWN:
            fallback = self._fallback(digest, idle_s)
            if fallback is None:
                raise
            logger.warning("Redis unreachable: session accepted from this process's recent checks")
            return fallback
        if data is None:
            self._recent.pop(digest, None)
        else:
            self._remember(digest, data)
        return data

    def _remember(self, digest: str, data: SessionData) -> None:
        self._recent[digest] = (replace(data, extra=dict(data.extra)), time.monotonic())
        self._recent.move_to_end(digest)
        while len(self._recent) > FALLBACK_ENTRIES:
            self._recent.popitem(last=False)

    def _fallback(self, digest: str, idle_s: int) -> SessionData | None:
        entry = self._recent.get(digest)
        if entry is None:
            return None
        data, checked = entry
        now = time.time()
        if (time.monotonic() - checked > FALLBACK_S or now - data.last_seen > idle_s
                or now - data.created_at > self.max_age_s):
            self._recent.pop(digest, None)
            return None
        # Use keeps the session alive as in Redis (the idle limit), but not past FALLBACK_S since the last check.
        data.last_seen = now
        self._recent.move_to_end(digest)
        return replace(data, extra=dict(data.extra))

    def _forget_account(self, account_id: int) -> None:
        for digest in [d for d, (data, _) in self._recent.items() if data.account_id == account_id]:
            del self._recent[digest]

    async def _load(self, digest: str, idle_s: int) -> SessionData | None:
        raw = await self._redis.get(self._key(digest))
        if raw is None:
            return None
        data = SessionData(**json.loads(raw))
        now = time.time()
        if now - data.last_seen > idle_s or now - data.created_at > self.max_age_s:
            await self._remove(digest, data.account_id)
            return None
        if now - data.last_seen > TOUCH_EVERY_S:
            data.last_seen = now
            await self._save(digest, data)
        return data

    async def update(self, sid: str, data: SessionData) -> None:
        await self._save(_digest(sid), data)

    async def _save(self, digest: str, data: SessionData) -> None:
        remaining = max(1, int(self.max_age_s - (time.time() - data.created_at)))
        await self._redis.set(self._key(digest), self._dump(data), ex=remaining, xx=True)

    async def destroy(self, sid: str) -> None:
        """End the session; raises while Redis is unreachable (a logout must not seem to succeed)."""
        digest = _digest(sid)
        self._recent.pop(digest, None)
        raw = await self._redis.get(self._key(digest))
        if raw is not None:
            await self._remove(digest, json.loads(raw)["account_id"])

    async def destroy_all(self, account_id: int) -> int:
        """End every session of the account; returns how many there were. Raises while Redis is unreachable."""
        self._forget_account(account_id)
        digests = await self._redis.smembers(self._index(account_id))
        keys = [self._key(d.decode() if isinstance(d, bytes) else d) for d in digests]
        ended = 0
        if keys:
            ended = int(await self._redis.delete(*keys))
        await self._redis.delete(self._index(account_id))
        return ended

    async def _remove(self, digest: str, account_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(digest))
            pipe.srem(self._index(account_id), digest)
            await pipe.execute()

    @staticmethod
    def _dump(data: SessionData) -> str:
        return json.dumps({"account_id": data.account_id, "created_at": data.created_at,
                           "last_seen": data.last_seen, "extra": data.extra})
