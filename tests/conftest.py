"""Real PostgreSQL, Redis and S3 for the whole suite.

With DATABASE_URL / REDIS_URL set, the suite uses those servers: a fresh database is created for the run and
dropped after it, and every Redis key and queue is under a namespace of its own. Without them it starts the
embedded servers (the same ones the run command uses) in a temporary folder. Likewise S3: with S3_ENDPOINT_URL
set (and S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY / S3_REGION) the suite uses that store, otherwise it starts
moto's in-memory server over loopback HTTP; either way the files go to a bucket of the run's own. Tests never share
rows: each one that writes makes its own school (its own schema) with a unique slug, or works in a rolled-back
transaction.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from infra.local.embedded import quiet_platformdirs, run_admin_sql, start_postgres, start_redis, start_s3
from services import audit
from services.config import Settings, load_settings
from services.db import Database, create_engine, libpq_url
from services.files.storage import FileStorage, storage_from_settings
from services.region.service import add_region_with_municipality
from tenants.provisioning import ProvisionedSchool, create_school
from tenants.schema_migrations import upgrade_platform

RUN_ID = uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Backends:
    database_url: str
    redis_url: str
    namespace: str
    data_dir: Path
    s3: dict[str, str] = field(default_factory=dict)  # the S3_* settings of the run's bucket


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    # Not under pytest's basetemp: as root, pgserver runs PostgreSQL as its own user, which must be able to
    # enter every parent folder, and concurrent pytest sessions reset /tmp/pytest-of-root to mode 0700.
    data_dir = Path(tempfile.mkdtemp(prefix="journal-test-"))
    data_dir.chmod(0o755)
    stops: list[Callable[[], None]] = [lambda: shutil.rmtree(data_dir, ignore_errors=True)]
    database = f"journal_test_{RUN_ID}"
    server_url = os.environ.get("DATABASE_URL")
    with quiet_platformdirs():
        if server_url:
            asyncio.run(run_admin_sql(server_url, f'CREATE DATABASE "{database}"'))
            drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            stops.append(lambda: asyncio.run(run_admin_sql(server_url, drop)))
            database_url = libpq_url(server_url, database)
        else:
            pg = start_postgres(data_dir / "postgres", delete_on_stop=True)
            stops.append(pg.stop)
            database_url = pg.create_database(database)
        redis_url = os.environ.get("REDIS_URL") or ""
        if not redis_url:
            embedded_redis = start_redis(data_dir / "redis", appendonly=False)
            stops.append(embedded_redis.stop)
            redis_url = embedded_redis.url
    s3 = {"S3_BUCKET": f"journal-test-{RUN_ID}"}
    if os.environ.get("S3_ENDPOINT_URL"):
        names = ("S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION", "RESIDENCY_ALLOWED_HOSTS")
        s3.update({name: os.environ[name] for name in names if name in os.environ})
    else:
        embedded_s3 = start_s3()
        stops.append(embedded_s3.stop)
        s3.update(S3_ENDPOINT_URL=embedded_s3.url, S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test")
    try:
        yield Backends(database_url, redis_url, f"journal-test-{RUN_ID}", data_dir, s3)
    finally:
        for stop in reversed(stops):
            stop()


def settings_for(backends: Backends, **overrides: str) -> Settings:
    environ = {
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": backends.redis_url,
        "REDIS_NAMESPACE": backends.namespace,
        "JOURNAL_DATA_DIR": str(backends.data_dir),
        "LOG_LEVEL": "WARNING",
        **backends.s3,
        **overrides,
    }
    return load_settings(environ)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def settings(backends: Backends) -> Settings:
    # The served app must know its own address (OpenID redirect URIs, links in mail): fix the port up front.
    port = _free_port()
    return settings_for(backends, JOURNAL_PORT=str(port), JOURNAL_PUBLIC_URL=f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
async def storage(settings: Settings) -> AsyncIterator[FileStorage]:
    """The run's bucket, created; emptied and removed after the run (it may be in a real store)."""
    files = storage_from_settings(settings)
    assert files is not None
    await files.ensure_bucket()
    yield files

    def remove_bucket() -> None:
        pages = files.client.get_paginator("list_objects_v2").paginate(Bucket=files.bucket)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                files.client.delete_objects(Bucket=files.bucket, Delete={"Objects": keys})
        files.client.delete_bucket(Bucket=files.bucket)

    try:
        await asyncio.to_thread(remove_bucket)
    except Exception as exc:  # a leftover test bucket must not fail the run
        warnings.warn(f"could not remove the test bucket {files.bucket}: {exc}", stacklevel=1)
    finally:
        files.close()


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings, application_name="tests"))
    async with database.engine.begin() as conn:
        await upgrade_platform(conn)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def municipality_id(db: Database) -> int:
    async with db.transaction() as session:
        _, municipality = await add_region_with_municipality(
            session, code=f"T{RUN_ID}", name="Тестовая область", municipality="Тестовый район"
        )
        return municipality.id


MakeSchool = Callable[..., Awaitable[ProvisionedSchool]]


@pytest.fixture(scope="session", autouse=True)
def audited_writes() -> None:
    """Every school write is audited and needs an actor, in tests as in the app and the workers."""
    audit.install()


@asynccontextmanager
async def acting(db: Database, schema: str, actor: audit.Actor | None) -> AsyncIterator[AsyncSession]:
    """A committed transaction in a school's schema whose writes are on behalf of `actor` (None: nobody)."""
    async with db.transaction(schema) as session:
        if actor is not None:
            audit.set_actor(session, actor)
        yield session


def school_writes(db: Database, schema: str) -> AbstractAsyncContextManager[AsyncSession]:
    """Writes of the test setup itself."""
    return acting(db, schema, audit.Actor.system("tests"))


@pytest.fixture
def make_school(db: Database, municipality_id: int) -> MakeSchool:
    """Create a school of its own for one test: its own schema, a unique slug."""

    async def make(name: str = "Тестовая школа", time_zone: str = "Europe/Moscow") -> ProvisionedSchool:
        slug = f"t-{uuid.uuid4().hex[:12]}"
        return await create_school(
            db, municipality_id=municipality_id, slug=slug, name=name, time_zone=time_zone, actor="tests"
        )

    return make


@pytest.fixture(scope="session")
def app(settings: Settings, db: Database) -> Litestar:
    from services.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def server_url(app: Litestar, settings: Settings) -> AsyncIterator[str]:
    """The app served by uvicorn on loopback, in the tests' own event loop, so tests can look inside it."""
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.http.port, lifespan="on", log_config=None,
                            access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def client(server_url: str) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server_url, limits=limits, timeout=30) as http:
        yield http


SignIn = Callable[..., Awaitable[httpx.AsyncClient]]
TEST_PASSWORD = "проверка-2026-пароль"


async def _csrf_header(request: httpx.Request) -> None:
    """Send the CSRF cookie back as the header, as the pages' scripts do (double-submit)."""
    token = request.headers.get("cookie", "")
    for part in token.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "csrftoken":
            request.headers["x-csrftoken"] = value


@pytest.fixture
async def sign_in(db: Database, server_url: str) -> AsyncIterator[SignIn]:
    """sign_in({school: ["teacher"]}, person_ids={school: 5}) → a client with a live session of a new account."""
    from sqlalchemy import insert

    from services.identity.models import Account, Membership
    from services.identity.passwords import hash_password

    clients: list[httpx.AsyncClient] = []
    password_hash = await hash_password(TEST_PASSWORD)

    async def sign(memberships: dict[ProvisionedSchool, list[str]] | None = None,
                   person_ids: dict[ProvisionedSchool, int] | None = None,
                   must_change_password: bool = False) -> httpx.AsyncClient:
        login = f"user-{uuid.uuid4().hex[:10]}"
        async with db.transaction() as session:
            account_id = await session.scalar(insert(Account).values(
                login=login, password_hash=password_hash, platform_roles=[],
                must_change_password=must_change_password).returning(Account.id))
            for school, roles in (memberships or {}).items():
                await session.execute(insert(Membership).values(
                    account_id=account_id, school_id=school.id, roles=roles,
                    person_id=(person_ids or {}).get(school)))
        http = httpx.AsyncClient(base_url=server_url, timeout=30, event_hooks={"request": [_csrf_header]})
        clients.append(http)
        await http.get("/login")
        response = await http.post("/login", data={"login": login, "password": TEST_PASSWORD})
        assert response.status_code == 303, response.text
        http.headers["x-test-login"] = login
        return http

    yield sign
    for http in clients:
        await http.aclose()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (infra/local/browser.sh installs it; no browser download)."""
    from playwright.async_api import async_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run bash infra/local/browser.sh"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        await chromium.close()
