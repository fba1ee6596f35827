"""Engine, sessions and the two model bases.

Platform tables name the `platform` schema explicitly. School tables carry no schema: a session for a school
is bound to a per-school engine view whose `schema_translate_map` renders them into `school_<id>`. The
translation happens when SQL is compiled, so nothing about the school stays on a pooled connection; the
`search_path` of every connection is never touched by request code.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from services.config import Settings

PLATFORM_SCHEMA = "platform"

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PlatformBase(DeclarativeBase):
    """Tables shared by all schools: the registry, accounts, the outbox."""

    metadata = MetaData(schema=PLATFORM_SCHEMA, naming_convention=_NAMING)


class SchoolBase(DeclarativeBase):
    """Tables of one school; rendered into that school's schema by the session's translate map."""

    metadata = MetaData(naming_convention=_NAMING)


def async_url(url: str) -> URL:
    """The asyncpg flavour of a PostgreSQL URL as operators write it (postgres://, postgresql://…)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg")


def libpq_url(url: str, database: str | None = None) -> str:
    """The URL as libpq and plain asyncpg take it, optionally naming another database on the same server."""
    parsed = async_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def create_engine(settings: Settings, *, application_name: str, pool_size: int | None = None) -> AsyncEngine:
    """An engine with bounded connection lifetime and statement cache (see ARCHITECTURE.md "Known limits")."""
    settings.require_backends()
    db = settings.database
    assert db.url is not None
    url = async_url(db.url).update_query_dict({"prepared_statement_cache_size": str(db.statement_cache_size)})
    return create_async_engine(
        url,
        pool_size=pool_size or db.pool_size,
        max_overflow=db.max_overflow,
        pool_recycle=db.pool_recycle_s,
        pool_pre_ping=False,
        connect_args={
            "command_timeout": db.command_timeout_s,
            "server_settings": {"application_name": f"journal-{application_name}-{os.getpid()}"},
        },
    )


class Database:
    """The process's engine plus session factories for the platform and for each school."""

    _SCHOOL_ENGINE_CACHE = 4096

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._platform_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._school_engines: OrderedDict[str, AsyncEngine] = OrderedDict()

    def school_engine(self, schema: str) -> AsyncEngine:
        """A view of the engine that renders school tables into `schema`; shares the pool."""
        cached = self._school_engines.get(schema)
        if cached is None:
            cached = self.engine.execution_options(schema_translate_map={None: schema})
            self._school_engines[schema] = cached
            if len(self._school_engines) > self._SCHOOL_ENGINE_CACHE:
                self._school_engines.popitem(last=False)
        else:
            self._school_engines.move_to_end(schema)
        return cached

    def platform_session(self) -> AsyncSession:
        return self._platform_sessions()

    def school_session(self, schema: str) -> AsyncSession:
        """A session whose school tables live in `schema`; platform tables stay in `platform`."""
        return AsyncSession(self.school_engine(schema), expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self, schema: str | None = None) -> AsyncIterator[AsyncSession]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        session = self.school_session(schema) if schema else self.platform_session()
        async with session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


_AFTER_COMMIT = "after_commit"


def after_commit(session: AsyncSession, hook: Callable[[Any], None]) -> None:
    """Run `hook(runtime)` once the request's transaction is committed (`tenants.routing`); never on a rollback.
    For what must not happen unless the write stands, and must not hold it up (announcing it, say)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)


def run_after_commit(session: AsyncSession, runtime: Any) -> None:
    """The hooks of a committed session. A failing hook is logged and skipped: the write stands, and its answer
    must say so."""
    for hook in session.info.pop(_AFTER_COMMIT, []):
        try:
            hook(runtime)
        except Exception as exc:
            logging.getLogger(__name__).warning("after-commit hook failed: %s", type(exc).__name__)


def quote_ident(name: str) -> str:
    """Quote an identifier that was already validated; used for schema names in DDL."""
    return '"' + name.replace('"', '""') + '"'

