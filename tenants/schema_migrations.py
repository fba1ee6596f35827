"""Running the two Alembic trees: `platform` once, `school` inside each school's schema.

Alembic's `op` proxy is process-global, so one process runs one migration at a time (`_alembic_lock`);
the all-schools runner gets its parallelism from worker processes instead (tenants/migrate.py).
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any, Literal

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db import PLATFORM_SCHEMA
from tenants.names import check_schema, quoted

Tree = Literal["platform", "school"]
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOCK_TIMEOUT = "5s"

_alembic_lock = asyncio.Lock()


@cache
def script_directory(tree: Tree) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR / tree))
    return ScriptDirectory.from_config(config)


def head(tree: Tree) -> str:
    revision = script_directory(tree).get_current_head()
    assert revision is not None, f"the {tree} migration tree has no head"
    return revision


def upgrade_on(connection: Connection, tree: Tree, version_schema: str, target: str = "head") -> str | None:
    """Upgrade the tree on a sync connection already inside a transaction; return the new revision."""
    script = script_directory(tree)

    def plan(revision: Any, _context: Any) -> Any:
        return script._upgrade_revs(target, revision)

    context = MigrationContext.configure(
        connection=connection,
        opts={"version_table_schema": version_schema, "fn": plan, "script": script},
    )
    with Operations.context(context):
        context.run_migrations()
    return context.get_current_revision()


async def upgrade_platform(connection: AsyncConnection) -> str | None:
    await connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted(PLATFORM_SCHEMA)}"))
    await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    async with _alembic_lock:
        return await connection.run_sync(upgrade_on, "platform", PLATFORM_SCHEMA)


async def upgrade_school(connection: AsyncConnection, schema: str, target: str = "head") -> str | None:
    """Upgrade one school schema; unqualified DDL of the school tree lands in it through search_path."""
    check_schema(schema)
    await connection.execute(text(f"SET LOCAL search_path TO {quoted(schema)}"))
    await connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    async with _alembic_lock:
        revision = await connection.run_sync(upgrade_on, "school", schema, target)
    await connection.execute(text("SET LOCAL search_path TO DEFAULT"))
    return revision
