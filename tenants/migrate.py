"""Migrating everything: `platform` once, then every school, resumably and in parallel.

The registry records each school's revision, so a run skips schools already at head and a run that was
interrupted picks up where it stopped. Each school is upgraded in its own transaction (with a lock timeout)
that also records the new revision, so a school is either fully at the new revision or untouched. A failing
school is recorded with its error and the others go on. Parallelism comes from worker processes, each with
one connection, because Alembic's operation proxy is process-global.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, update
from tqdm import tqdm

from services.config import Settings
from services.db import Database, create_engine
from services.region.models import School
from tenants.schema_migrations import head, upgrade_platform, upgrade_school

ERROR_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class SchoolFailure:
    slug: str
    schema: str
    error: str


@dataclass(slots=True)
class MigrationReport:
    platform_revision: str | None = None
    target: str = ""
    migrated: int = 0
    up_to_date: int = 0
    failed: list[SchoolFailure] = field(default_factory=list)
    seconds: float = 0.0


async def migrate_platform(db: Database) -> str | None:
    async with db.engine.begin() as conn:
        return await upgrade_platform(conn)


async def pending_schools(db: Database, target: str) -> list[tuple[int, str, str]]:
    """(id, slug, schema) of every provisioned school whose recorded revision is not `target`."""
    async with db.platform_session() as session:
        rows = await session.execute(
            select(School.id, School.slug, School.schema_name)
            .where(School.schema_name.is_not(None), School.status != "provisioning")
            .where(or_(School.schema_revision.is_(None), School.schema_revision != target))
            .order_by(School.id)
        )
        return [(school_id, slug, schema) for school_id, slug, schema in rows.tuples() if schema]


async def migrate_school(db: Database, school_id: int, schema: str) -> str | None:
    """Upgrade one school and record its revision in the registry, in one transaction."""
    try:
        async with db.engine.begin() as conn:
            revision = await upgrade_school(conn, schema)
            await conn.execute(
                update(School)
                .where(School.id == school_id)
                .values(schema_revision=revision, migrated_at=func.now(), last_migration_error=None)
            )
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        async with db.engine.begin() as conn:
            await conn.execute(update(School).where(School.id == school_id).values(last_migration_error=message))
        raise
    return revision


# --- worker processes -------------------------------------------------------------------------------------

_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_db: Database | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_loop, _worker_db  # noqa: PLW0603 - one loop and one connection per worker process
    _worker_loop = asyncio.new_event_loop()
    _worker_db = Database(create_engine(settings, application_name="migrate", pool_size=1))


def _migrate_in_worker(school_id: int, schema: str) -> str | None:
    assert _worker_loop is not None
    assert _worker_db is not None
    return _worker_loop.run_until_complete(migrate_school(_worker_db, school_id, schema))


# --- the runner ---------------------------------------------------------------------------------------------


async def migrate_everything(
    db: Database, *, jobs: int = 4, progress: bool = False, settings: Settings | None = None
) -> MigrationReport:
    """Upgrade platform, then every school not at head; `jobs` > 1 needs `settings` for the worker processes."""
    started = time.perf_counter()
    report = MigrationReport(target=head("school"))
    report.platform_revision = await migrate_platform(db)
    pending = await pending_schools(db, report.target)
    async with db.platform_session() as session:
        total = await session.scalar(select(func.count()).select_from(School).where(School.schema_name.is_not(None)))
    report.up_to_date = int(total or 0) - len(pending)
    bar = tqdm(total=len(pending), desc="schools", unit="school", disable=not progress, file=sys.stderr)

    def record(slug: str, schema: str, error: BaseException | None) -> None:
        if error is None:
            report.migrated += 1
        else:
            failure = SchoolFailure(slug, schema, f"{type(error).__name__}: {error}"[:ERROR_LIMIT])
            report.failed.append(failure)
            bar.write(f"FAILED {slug} ({schema}): {failure.error.splitlines()[0]}", file=sys.stderr)
        bar.update(1)

    if jobs <= 1 or settings is None or len(pending) < 2 * jobs:
        for school_id, slug, schema in pending:
            try:
                await migrate_school(db, school_id, schema)
            except Exception as exc:
                record(slug, schema, exc)
            else:
                record(slug, schema, None)
    else:
        await asyncio.to_thread(_run_in_processes, pending, jobs, settings, record)
    bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _run_in_processes(pending: list[tuple[int, str, str]], jobs: int, settings: Settings, record: object) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                             initargs=(settings,)) as pool:
        futures: dict[Future[str | None], tuple[str, str]] = {
            pool.submit(_migrate_in_worker, school_id, schema): (slug, schema) for school_id, slug, schema in pending
        }
        for future in as_completed(futures):
            slug, schema = futures[future]
            record(slug, schema, future.exception())  # type: ignore[operator]
