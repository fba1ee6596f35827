"""Server-side sessions in Redis (R-SEC-4): idle timeout, absolute lifetime, "log out on all devices".

The cookie holds a random id; Redis stores the session under the id's SHA-256, so a copy of Redis does not
hand out live cookies. Every account keeps the set of its sessions, which is how all of them end at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

COOKIE = "journal_session"
# last_seen is written at most this often, so a busy page does not write Redis on every request.
TOUCH_EVERY_S = 30


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
        return sid

    async def load(self, sid: str, idle_s: int) -> SessionData | None:
        """The live session, or None when unknown, idle too long or past its lifetime (then it is removed)."""
        digest = _digest(sid)
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
        digest = _digest(sid)
        raw = await self._redis.get(self._key(digest))
        if raw is not None:
            await self._remove(digest, json.loads(raw)["account_id"])

    async def destroy_all(self, account_id: int) -> int:
        """End every session of the account; returns how many there were."""
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
