"""The Dramatiq broker: Redis under the deployment's namespace, traced, able to run `async def` actors."""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, default_middleware
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from services.config import Settings
from workers.telemetry import TracingMiddleware

# A dead Redis must fail fast: the outbox relay holds row locks while it enqueues, and redis-py's defaults
# (no connect timeout, ten retries) would stall it for minutes. Workers recover on their own: Dramatiq restarts a
# consumer whose connection failed.
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 10.0
RETRIES = 2


def redis_connection(url: str) -> redis.Redis:
    """A blocking Redis client for `redis://…` or `unix:///path/redis.sock` with bounded waits."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        health_check_interval=30,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), RETRIES),
    )


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker for `settings`, without making it the process's global broker."""
    settings.require_backends()
    assert settings.redis.url is not None
    middleware = [
        # First, so its span covers the other middleware and it sees every skipped message too.
        TracingMiddleware(),
        *(cls() for cls in default_middleware),
        # One event loop thread per worker process runs every `async def` actor: the asyncpg pool and the async
        # Redis client of the process live on that loop (see workers/actors.py).
        AsyncIO(),
    ]
    return RedisBroker(  # type: ignore[no-untyped-call]  # dramatiq leaves this constructor unannotated
        client=redis_connection(settings.redis.url), namespace=settings.redis.namespace, middleware=middleware
    )


def setup_broker(settings: Settings) -> RedisBroker:
    """Build the broker and make it the global one, which `@dramatiq.actor` declarations bind to."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker
