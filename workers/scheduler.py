"""`python -m workers.scheduler`: the periodic jobs of the system, until SIGINT or SIGTERM.

Every second it relays the outbox to Dramatiq and records its own heartbeat; every 30 s it writes a
`system.heartbeat` event to the outbox, so the worker's heartbeat proves the whole path a real event takes.
Every 10 minutes (the first time shortly after start) it scans every active school's previous days for journal
entries missing past their deadline (`scan_lateness`, R-REP-2).
Every 30 s it composes the notification digests that are due and hands the due, unsent notification letters
(new, past quiet hours, or failed earlier and past their backoff) to `notifications.send_mail` (R-COM-2).
Every 6 hours (the first time a minute after start) it removes notifications older than 180 days
(`notifications.purge_told`).
Running two schedulers is safe (the relay locks rows with SKIP LOCKED); it only doubles the heartbeat events.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dramatiq
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis
from sqlalchemy import select

from services import audit
from services.config import ConfigError, Settings, load_settings
from services.db import Database, create_engine
from services.journal import timeliness
from services.notifications import service as notifications
from services.outbox.service import add_event
from services.region.models import School
from services.telemetry import configure_logging, setup_telemetry
from workers.broker import COMMAND_TIMEOUT_S, CONNECT_TIMEOUT_S
from workers.outbox_relay import relay_once

logger = logging.getLogger("workers.scheduler")

RELAY_EVERY_S = 1
HEARTBEAT_EVERY_S = 30
RELAY_BATCH = 100
# A backlog (after a Redis outage) drains batch after batch within one tick, up to this long.
RELAY_BUDGET_S = 0.8
STOP_GRACE_S = 10.0
LATENESS_EVERY_S = 10 * 60
LATENESS_FIRST_AFTER_S = 15
# Days before the school's today that the lateness scan looks at: the day just ended, and two more so that a
# scheduler down for a day, or a homework deadline of up to 48 hours, still gets judged.
LATENESS_DAYS = 3
NOTIFY_EVERY_S = 30
NOTIFY_FIRST_AFTER_S = 5
PURGE_EVERY_S = 6 * 3600
PURGE_FIRST_AFTER_S = 60


MailSender = Callable[[int, int], object]
"""(school id, mail id) → queue the letter for `notifications.send_mail` (blocking: called in a thread)."""


async def for_each_school(db: Database, what: str, work: Callable[[int, str, str], Awaitable[int]]) -> int:
    """Run `work(school id, schema, time zone)` for every active school, each on its own; a failing school is
    logged — only its id and the error's type: the message could quote the school's data — and skipped. The sum
    of what the runs returned."""
    async with db.transaction() as session:
        schools = (await session.execute(
            select(School.id, School.schema_name, School.time_zone)
            .where(School.status == "active", School.schema_name.is_not(None)).order_by(School.id))).all()
    total = failed = 0
    for school_id, schema, time_zone in schools:
        try:
            total += await work(school_id, schema, time_zone)
        except Exception as exc:
            failed += 1
            logger.warning("%s failed for school %s: %s", what, school_id, type(exc).__name__)
    if failed:
        logger.warning("%s: %d of %d schools failed", what, failed, len(schools))
    return total


async def notifications_for_school(db: Database, school_id: int, schema: str, time_zone: str, send: MailSender,
                                   *, now: datetime | None = None) -> list[int]:
    """Compose the school's due digests and lease its due letters in one transaction, then queue them; the ids
    queued. A letter that could not be queued (Redis down) stays leased and comes back when its lease ends."""
    moment = now or datetime.now(UTC)
    ZoneInfo(time_zone)  # a school with a broken zone fails here, before anything is leased on a wrong clock
    async with db.transaction(schema) as session:
        audit.set_actor(session, audit.Actor.system("notifications"))
        await notifications.compose_digests(session, time_zone=time_zone, now=moment)
        due = await notifications.lease_due_mails(session, now=moment)
    queued = []
    for mail_id in due:
        await asyncio.to_thread(send, school_id, mail_id)
        queued.append(mail_id)
    return queued


async def scan_notifications(db: Database, send: MailSender, *, now: datetime | None = None) -> int:
    """`notifications_for_school` for every active school; how many letters were queued."""

    async def one(school_id: int, schema: str, time_zone: str) -> int:
        return len(await notifications_for_school(db, school_id, schema, time_zone, send, now=now))

    return await for_each_school(db, "notifications pass", one)


async def purge_notifications(db: Database, *, now: datetime | None = None) -> int:
    """`notifications.purge_told` in every active school; how many notifications were removed."""
    moment = now or datetime.now(UTC)

    async def one(_school_id: int, schema: str, _time_zone: str) -> int:
        async with db.transaction(schema) as session:
            audit.set_actor(session, audit.Actor.system("notifications"))
            return await notifications.purge_told(session, now=moment)

    return await for_each_school(db, "notifications purge", one)


async def scan_lateness(db: Database, *, now: datetime | None = None) -> int:
    """Run `timeliness.detect_missing` for the previous `LATENESS_DAYS` local days of every active school, each
    school in its own transaction. Idempotent; how many indicators were added."""
    moment = now or datetime.now(UTC)

    async def one(_school_id: int, schema: str, time_zone: str) -> int:
        today = moment.astimezone(ZoneInfo(time_zone)).date()
        added = 0
        async with db.transaction(schema) as session:
            audit.set_actor(session, audit.Actor.system("timeliness"))
            for back in range(LATENESS_DAYS, 0, -1):
                added += await timeliness.detect_missing(session, time_zone, today - timedelta(days=back),
                                                         now=moment)
        return added

    return await for_each_school(db, "lateness scan", one)


class Jobs:
    """The scheduler's jobs and what they share: the database, Redis, the broker."""

    def __init__(self, settings: Settings, db: Database, redis: Redis, broker: dramatiq.Broker) -> None:
        self.settings, self.db, self.redis, self.broker = settings, db, redis, broker
        self.running: set[asyncio.Task[None]] = set()

    def tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Wrap a job so a stop can wait for it: APScheduler's shutdown cancels running coroutines outright."""

        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            try:
                await job()
            finally:
                self.running.discard(task)

        return run

    async def relay(self) -> None:
        await self._mark_alive()
        deadline = time.monotonic() + RELAY_BUDGET_S
        try:
            while await relay_once(self.db, self.broker, batch=RELAY_BATCH) == RELAY_BATCH:
                if time.monotonic() > deadline:
                    break
        except Exception:
            # The next tick tries again; a database outage must not stop the scheduler.
            logger.exception("outbox relay failed")

    async def heartbeat(self) -> None:
        try:
            async with self.db.transaction() as session:
                await add_event(session, topic="system.heartbeat", payload={}, school_id=None)
        except Exception:
            logger.exception("could not write the heartbeat event")

    async def lateness(self) -> None:
        await self._pass("lateness scan", scan_lateness(self.db), "%d indicators added")

    async def purge(self) -> None:
        await self._pass("notifications purge", purge_notifications(self.db),
                         f"%d notifications older than {notifications.RETENTION.days} days removed")

    async def notifications(self, send: MailSender) -> None:
        await self._pass("notifications pass", scan_notifications(self.db, send), "%d letters queued")

    @staticmethod
    async def _pass(what: str, scan: Awaitable[int], done: str) -> None:
        """Run a pass over the schools; when even the school list can't be read (database down) it is logged and
        the next tick tries again. A pass that did something says how much."""
        try:
            count = await scan
        except Exception:
            logger.exception("%s failed", what)
        else:
            if count:
                logger.info(f"{what}: {done}", count)

    async def _mark_alive(self) -> None:
        key = f"{self.settings.redis.namespace}:heartbeat:scheduler"
        try:
            await self.redis.set(key, datetime.now(UTC).isoformat())
        except Exception as exc:
            # Redis down is the relay's business too; one short line per tick is enough here.
            logger.warning("could not write the scheduler heartbeat: %s", type(exc).__name__)


async def run(settings: Settings) -> None:
    # The actors module builds the broker from the same environment and declares every topic the relay may send;
    # it reads the environment at import, so it is imported only once the settings were validated.
    from workers import actors

    assert settings.redis.url is not None
    db = Database(create_engine(settings, application_name="scheduler", pool_size=2))
    redis = Redis.from_url(
        settings.redis.url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
    )
    jobs = Jobs(settings, db, redis, actors.broker)
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    # max_instances=1: a slow relay pass is never overlapped by the next; coalesce: missed ticks run once.
    periodic = (("outbox-relay", jobs.relay, RELAY_EVERY_S), ("heartbeat", jobs.heartbeat, HEARTBEAT_EVERY_S))
    for name, job, every in periodic:
        scheduler.add_job(jobs.tracked(job), "interval", seconds=every, id=name, name=name, max_instances=1,
                          coalesce=True, next_run_time=now)
    scheduler.add_job(jobs.tracked(jobs.lateness), "interval", seconds=LATENESS_EVERY_S, id="lateness-scan",
                      name="lateness-scan", max_instances=1, coalesce=True,
                      next_run_time=now + timedelta(seconds=LATENESS_FIRST_AFTER_S))
    scheduler.add_job(jobs.tracked(jobs.purge), "interval", seconds=PURGE_EVERY_S, id="notifications-purge",
                      name="notifications-purge", max_instances=1, coalesce=True,
                      next_run_time=now + timedelta(seconds=PURGE_FIRST_AFTER_S))

    def send_mail(school_id: int, mail_id: int) -> None:
        actors.send_mail.send(school_id=school_id, mail_id=mail_id)

    async def notifications_pass() -> None:
        await jobs.notifications(send_mail)

    scheduler.add_job(jobs.tracked(notifications_pass), "interval", seconds=NOTIFY_EVERY_S, id="notifications",
                      name="notifications", max_instances=1, coalesce=True,
                      next_run_time=now + timedelta(seconds=NOTIFY_FIRST_AFTER_S))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    scheduler.start()
    logger.info("scheduler started")
    try:
        await stop.wait()
        logger.info("scheduler stopping")
        scheduler.pause()
        # Let a relay pass finish its transaction rather than cancel it between Redis and the commit.
        if jobs.running:
            await asyncio.wait(set(jobs.running), timeout=STOP_GRACE_S)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown is scheduled on the loop; let it run
    finally:
        await redis.aclose()
        await db.dispose()
    logger.info("scheduler stopped")


def main() -> int:
    try:
        settings = load_settings()
        settings.require_backends()
    except ConfigError as exc:
        print(exc, file=sys.stderr)  # logging is not configured yet
        return 2
    configure_logging(settings.telemetry.log_level)
    # The scheduler writes school rows (the lateness scan): every one is audited, as in the app and the workers.
    audit.install()
    if settings.telemetry.log_level.upper() != "DEBUG":
        # APScheduler logs two lines per job run at INFO, twice a second here; failures still show as warnings.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    tracer_provider, meter_provider = setup_telemetry(
        settings.telemetry.service_name, role="scheduler", otlp_endpoint=settings.outbound.otlp_endpoint
    )
    try:
        asyncio.run(run(settings))
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
