"""A real SMTP server (aiosmtpd on loopback) and a real Dramatiq worker that sends to it, as operators run one."""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from redis.asyncio import Redis
from sqlalchemy import select

from services.db import Database
from services.notifications.models import Notification, NotificationMail
from services.outbox.models import OutboxEvent
from tests.conftest import Backends
from tests.workers.test_outbox_pipeline import ROOT, Process, eventually, process_env
from workers.outbox_relay import relay_once


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    rcpt: list[str]
    message: EmailMessage


@dataclass
class MailServer:
    """aiosmtpd in its own thread; `refuse` answers the next N letters with 451; stop/start keep the port."""

    port: int
    received: list[Received] = field(default_factory=list)
    refuse: int = 0
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Попробуйте позже / try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), message))
        return "250 OK"

    def start(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
                self.controller.start()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt]


@pytest.fixture(scope="module")
def smtp() -> Iterator[MailServer]:
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


def start_worker(env: dict[str, str], log: Path) -> Process:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    process = Process(popen, log)
    deadline = time.monotonic() + 30
    while not any("Worker process is ready for action" in line for line in process.lines()):
        assert popen.poll() is None, "\n".join(process.lines()[-30:])
        assert time.monotonic() < deadline, "the worker did not boot within 30 s"
        time.sleep(0.1)
    return process


def worker_env(backends: Backends, smtp: MailServer, **overrides: str) -> dict[str, str]:
    return {**process_env(backends), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": "dnevnik@school.example.ru", **overrides}


@pytest.fixture(scope="module")
def mail_worker(backends: Backends, actors: ModuleType, redis: Redis, smtp: MailServer,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    process = start_worker(worker_env(backends, smtp), tmp_path_factory.mktemp("mail-worker") / "worker.log")
    try:
        yield process
    finally:
        assert process.stop() == 0


async def relay_school(db: Database, broker: Any, school_id: int, *, within: float = 20) -> None:
    """Relay until every event of the school left the outbox."""

    async def done() -> bool:
        await relay_once(db, broker)
        async with db.transaction() as s:
            pending = await s.scalar(select(OutboxEvent.id).where(OutboxEvent.school_id == school_id,
                                                                  OutboxEvent.dispatched_at.is_(None)).limit(1))
        return pending is None

    await eventually(done, within=within, what="the relay sending the school's events")


async def mails(db: Database, schema: str) -> list[NotificationMail]:
    async with db.transaction(schema) as s:
        return list((await s.scalars(select(NotificationMail).order_by(NotificationMail.id))).all())


async def sent_mails(db: Database, schema: str, count: int) -> list[NotificationMail]:
    """The school's `count` letters once the worker has committed every one as sent. The SMTP server holds a
    letter a moment before the worker's transaction marks its row, so a test waits for the row too."""

    async def all_sent() -> list[NotificationMail] | None:
        found = await mails(db, schema)
        return found if len(found) == count and all(m.sent_at is not None for m in found) else None

    return list(await eventually(all_sent, within=30, what=f"{count} letter(s) marked sent"))


async def notifications(db: Database, schema: str) -> list[Notification]:
    async with db.transaction(schema) as s:
        return list((await s.scalars(select(Notification).order_by(Notification.id))).all())
