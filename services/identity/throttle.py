"""Brute-force protection for password logins, with counters in Redis.

Failures are counted three ways, each for FAILURE_WINDOW_S:
- per login and address: locked after LOCK_PAIR_AFTER failures — an attacker locks only their own address;
- per login from anywhere: slowed down (not locked) after SLOW_LOGIN_AFTER, so a distributed attack cannot
  lock a teacher out, it only makes each try slower;
- per address across logins: locked after LOCK_ADDRESS_AFTER, which stops one address spraying many logins.
A lock always expires; a successful login clears that login's counters for that address.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

FAILURE_WINDOW_S = 15 * 60
LOCK_PAIR_AFTER = 5
SLOW_LOGIN_AFTER = 10
LOCK_ADDRESS_AFTER = 30
MAX_DELAY_S = 3.0


def _h(value: str) -> str:
    # Logins and addresses are identifiers of people: keep only digests in Redis keys.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    def _keys(self, login: str, address: str) -> tuple[str, str, str]:
        return (
            f"{self._ns}:login-fail:pair:{_h(login)}:{_h(address)}",
            f"{self._ns}:login-fail:login:{_h(login)}",
            f"{self._ns}:login-fail:addr:{_h(address)}",
        )

    async def locked_for(self, login: str, address: str) -> int:
        """Seconds until this login may be tried again from this address; 0 when it may be tried now."""
        pair, _, addr = self._keys(login, address)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(pair)
            pipe.ttl(pair)
            pipe.get(addr)
            pipe.ttl(addr)
            pair_n, pair_ttl, addr_n, addr_ttl = await pipe.execute()
        waits = [0]
        if pair_n is not None and int(pair_n) >= LOCK_PAIR_AFTER:
            waits.append(int(pair_ttl))
        if addr_n is not None and int(addr_n) >= LOCK_ADDRESS_AFTER:
            waits.append(int(addr_ttl))
        return max(waits)

    async def delay_for(self, login: str) -> float:
        """How long to hold a password check for this login before answering."""
        count = await self._redis.get(self._keys(login, "")[1])
        over = int(count or 0) - SLOW_LOGIN_AFTER
        return 0.0 if over < 0 else min(MAX_DELAY_S, 0.25 * (over + 1))

    async def failed(self, login: str, address: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in self._keys(login, address):
                # SET NX EX starts the window once; INCR keeps the TTL (works on Redis 6, unlike EXPIRE NX).
                pipe.set(key, 0, ex=FAILURE_WINDOW_S, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def succeeded(self, login: str, address: str) -> None:
        pair, per_login, _ = self._keys(login, address)
        await self._redis.delete(pair, per_login)
