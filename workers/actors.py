"""Dramatiq actors. `dramatiq workers.actors` loads this module in every worker process.

Importing the module builds the broker from the environment and declares the actors, nothing more: the scheduler
imports it too, to know which topics exist. Logging, telemetry and connections belong to a worker process and are
set up when Dramatiq boots one (`WorkerProcess` below).

Actors are `async def`. Dramatiq's AsyncIO middleware runs them on one event loop thread per worker process and
the worker threads wait for them, so the process keeps a single asyncpg pool and a single async Redis client,
both created lazily on that loop. Per-thread loops would need a pool per thread, and `asyncio.run` per job would
open and close connections for every job, since asyncpg connections cannot move between loops.

Delivery is at least once (the relay may send an event twice, a crashed worker's messages come back): every actor
runs its work through `run_once`, keyed by the outbox event id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.broker import Broker
from dramatiq.worker import Worker
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from sqlalchemy import select, text

from services import (
    all_models,  # noqa: F401 - every table known before the first flush
    audit,
)
from services.config import load_settings
from services.db import Database, create_engine
from services.journal import timeliness
from services.notifications import mailer
from services.notifications import service as notifications
from services.region.models import School
from services.telemetry import configure_logging, setup_telemetry
from tenants.registry import SchoolRecord
from workers.broker import COMMAND_TIMEOUT_S, CONNECT_TIMEOUT_S, setup_broker
from workers.telemetry import hide_message_arguments

logger = logging.getLogger(__name__)

settings = load_settings()
broker = setup_broker(settings)

# A claim outlives any actor's time limit, so a job whose worker died frees its event once the claim expires.
CLAIM_TTL_S = 15 * 60
# Duplicates arrive within minutes (a relay pass whose commit failed, a dead worker's messages after ~60 s);
# a day is ample and bounds Redis memory to roughly (events per day) x 100 bytes.
DONE_TTL_S = 24 * 60 * 60


@dataclass
class _ProcessState:
    database: Database | None = None
    redis: Redis | None = None
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None


_process = _ProcessState()


class WorkerProcess(dramatiq.Middleware):
    """Sets up a worker process after Dramatiq forks it, and closes its connections when it stops."""

    def after_process_boot(self, broker: Broker) -> None:
        # Dramatiq points stderr at the pipe its main process reads, then imports this module, then calls this:
        # JSON lines go through that pipe to the main process's stderr.
        configure_logging(settings.telemetry.log_level)
        audit.install()
        hide_message_arguments()
        _process.tracer_provider, _process.meter_provider = setup_telemetry(
            settings.telemetry.service_name, role="worker", otlp_endpoint=settings.outbound.otlp_endpoint
        )

    def after_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        # Declared after AsyncIO, so this runs while the loop is still alive (after-hooks run in reverse order).
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(_close_connections())
        # Forked processes end without running atexit handlers: flush what telemetry still holds now.
        for provider in (_process.tracer_provider, _process.meter_provider):
            if provider is not None:
                provider.shutdown()


broker.add_middleware(WorkerProcess())


async def _close_connections() -> None:
    if _process.database is not None:
        await _process.database.dispose()
    if _process.redis is not None:
        await _process.redis.aclose()


def database() -> Database:
    """The worker process's database; call it from an actor only (it lives on the actors' event loop).

    A job opens its own session from it (`database().transaction(...)`), which commits or rolls back as the job
    ends; a fan-out job opens one session per school.
    """
    # Every actor coroutine runs on the one loop thread and nothing awaits between the check and the assignment,
    # so no lock is needed.
    if _process.database is None:
        _process.database = Database(create_engine(settings, application_name="worker"))
    return _process.database


def redis_client() -> Redis:
    """The worker process's async Redis client; call it from an actor only."""
    if _process.redis is None:
        assert settings.redis.url is not None
        _process.redis = Redis.from_url(
            settings.redis.url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
        )
    return _process.redis


def redis_key(*parts: str | int) -> str:
    """A Redis key under the deployment's namespace."""
    return ":".join((settings.redis.namespace, *map(str, parts)))


class AlreadyRunning(Exception):
    """Another delivery of the same event is being handled right now."""


async def run_once(actor_name: str, event_id: int, work: Callable[[], Awaitable[Any]]) -> bool:
    """Run `work` unless this event was already handled; False when it was.

    The key is claimed before the work and marked done after it. A failed job releases its claim so its retry
    runs; a duplicate that meets a claim still running raises, so Dramatiq retries it later instead of dropping
    it (the first delivery may yet fail). Work that writes to PostgreSQL should also be idempotent there (a
    unique event id), since Redis is not the system of record.
    """
    redis = redis_client()
    key = redis_key("once", actor_name, event_id)
    if not await redis.set(key, "running", nx=True, ex=CLAIM_TTL_S):
        if await redis.get(key) == b"done":
            return False
        raise AlreadyRunning(f"{actor_name} event {event_id} is being handled by another delivery")
    try:
        await work()
    except BaseException:
        await redis.delete(key)
        raise
    await redis.set(key, "done", ex=DONE_TTL_S)
    return True


@dramatiq.actor(actor_name="system.heartbeat", max_retries=5, min_backoff=1_000, max_backoff=30_000, time_limit=60_000)
async def heartbeat(*, event_id: int, school_id: int | None = None) -> None:
    """Prove the path outbox → relay → Redis → worker → PostgreSQL: record when a worker last ran a job."""

    async def beat() -> None:
        async with database().transaction() as session:
            await session.execute(text("SELECT 1"))
        await redis_client().set(redis_key("heartbeat", "worker"), datetime.now(UTC).isoformat())

    if not await run_once("system.heartbeat", event_id, beat):
        logger.info("system.heartbeat: event %s already handled, skipped", event_id)


async def active_school(school_id: int | None) -> SchoolRecord | None:
    """The school an event is about, if it is active (a suspended or archived school's events are dropped)."""
    if school_id is None:
        return None
    async with database().transaction() as session:
        row = await session.scalar(select(School).where(School.id == school_id))
    if row is None or row.status != "active" or row.schema_name is None:
        return None
    return SchoolRecord(row.id, row.slug, row.name, row.schema_name, row.time_zone, row.status,
                        row.session_idle_minutes)


async def judge_timeliness(school: SchoolRecord, lesson_id: int | None, student_id: int | None) -> None:
    """R-REP-2 indicators of the lesson just written (`services.journal.timeliness`), in the school's schema."""
    if lesson_id is None:
        return
    async with database().transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.system("timeliness"))
        await timeliness.judge_entry(session, school.time_zone, lesson_id, student_id)


@dramatiq.actor(actor_name="journal.entry_saved", max_retries=8, min_backoff=1_000, max_backoff=60_000,
                time_limit=120_000)
async def journal_entry_saved(*, event_id: int, school_id: int | None = None, lesson_id: int | None = None,
                              student_id: int | None = None, **payload: Any) -> None:
    """A journal write was committed (`services.journal.scope.saved`): run what follows from it.

    A dispatcher over service functions, each idempotent: the whole list runs again on a retry. The payload's
    other keys (`what`, `mark_id`, …) are for the steps that need them.
    """

    async def handle() -> None:
        school = await active_school(school_id)
        if school is None:
            return
        await judge_timeliness(school, lesson_id, student_id)
        await notify_guardians(school, event_id, {**payload, "lesson_id": lesson_id, "student_id": student_id})

    if not await run_once("journal.entry_saved", event_id, handle):
        logger.info("journal.entry_saved: event %s already handled, skipped", event_id)


async def notify_guardians(school: SchoolRecord, event_id: int, payload: dict[str, Any]) -> None:
    """R-COM-2: the student's guardians hear of a mark or an absence as each chose (`services.notifications`);
    letters due now go to `notifications.send_mail` at once, the rest when the scheduler finds them due."""
    async with database().transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.system("notifications"))
        due = await notifications.notify_entry(session, school_id=school.id, event_id=event_id, payload=payload,
                                               time_zone=school.time_zone, now=datetime.now(UTC))
    await hand_over_mail(school.id, due)


async def hand_over_mail(school_id: int, mail_ids: list[int]) -> None:
    """Queue letters for `notifications.send_mail`. With Redis unreachable they stay leased in the database and
    the scheduler hands them over again when the lease ends: the row, not the message, is the truth."""
    for mail_id in mail_ids:
        try:
            await asyncio.to_thread(send_mail.send, school_id=school_id, mail_id=mail_id)
        except Exception as exc:
            logger.warning("notification mail %s of school %s not queued: %s; the scheduler retries it", mail_id,
                           school_id, type(exc).__name__)
            return


@dramatiq.actor(actor_name="notifications.send_mail", max_retries=3, min_backoff=5_000, max_backoff=60_000,
                time_limit=120_000)
async def send_mail(*, school_id: int, mail_id: int) -> None:
    """Send one queued letter (`services.notifications.mailer.send_queued`). Safe to run twice: the row is locked
    and marked sent. A failed attempt is recorded on the row with its backoff and not raised: the scheduler
    re-sends due letters, so Dramatiq's own retries are only for errors of the database."""
    school = await active_school(school_id)
    if school is None:
        return
    async with database().transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.system("notifications"))
        await mailer.send_queued(session, settings.outbound, mail_id, now=datetime.now(UTC))
