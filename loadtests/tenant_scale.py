"""How long creating and migrating many schools takes on this machine (R-PLT-1, ARCHITECTURE "Known limits").

    .venv/bin/python -m loadtests.tenant_scale --schools 500 --jobs 2

Creates the schools one after another at the previous school revision (so `migrate` has real DDL to do in
every school), then runs the all-schools migration, then runs it again (nothing to do), and prints the figures.
Uses DATABASE_URL when set (a fresh database is created on that server and dropped), else an embedded
PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from infra.local.embedded import quiet_platformdirs, run_admin_sql, start_postgres
from services.config import load_settings
from services.db import Database, create_engine, libpq_url
from services.region.service import add_region_with_municipality
from tenants.migrate import migrate_everything, migrate_platform
from tenants.provisioning import create_school
from tenants.schema_migrations import script_directory


def previous_school_revision() -> str:
    script = script_directory("school")
    head = script.get_revision("head")
    assert head is not None
    previous = head.down_revision
    assert isinstance(previous, str), "the benchmark needs a linear school tree with at least two revisions"
    return previous


async def run(database_url: str, schools: int, jobs: int) -> None:
    settings = load_settings({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    db = Database(create_engine(settings, application_name="bench"))
    await migrate_platform(db)
    async with db.transaction() as session:
        _, municipality = await add_region_with_municipality(
            session, code=f"B{uuid.uuid4().hex[:6]}", name="Нагрузочная область", municipality="Нагрузочный район"
        )
        municipality_id = municipality.id

    old = previous_school_revision()
    durations = []
    started = time.perf_counter()
    for n in range(schools):
        t = time.perf_counter()
        await create_school(
            db,
            municipality_id=municipality_id,
            slug=f"bench-{n}",
            name=f"Школа № {n}",
            time_zone="Asia/Novosibirsk",
            actor="bench",
            revision=old,
        )
        durations.append(time.perf_counter() - t)
        if (n + 1) % 100 == 0:
            print(f"  created {n + 1} schools, {time.perf_counter() - started:.1f} s", flush=True)
    create_total = time.perf_counter() - started

    report = await migrate_everything(db, jobs=jobs, progress=True, settings=settings)
    rerun = await migrate_everything(db, jobs=jobs, settings=settings)

    async with db.engine.connect() as conn:
        relations = (await conn.execute(text("SELECT count(*) FROM pg_class"))).scalar_one()
        size = (await conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))).scalar_one()
    await db.dispose()

    durations.sort()
    print()
    print(f"schools: {schools}; migrate jobs: {jobs}; cores: {os.cpu_count()}")
    p50, p99 = durations[len(durations) // 2], durations[max(int(len(durations) * 0.99) - 1, 0)]
    print(
        f"create:  {create_total:.1f} s total; per school {statistics.mean(durations) * 1000:.0f} ms mean, "
        f"{p50 * 1000:.0f} ms p50, {p99 * 1000:.0f} ms p99 (at {old})"
    )
    print(
        f"migrate: {report.seconds:.1f} s for {report.migrated} schools to {report.target}, "
        f"{len(report.failed)} failed ({report.seconds / max(report.migrated, 1) * 1000:.0f} ms per school)"
    )
    print(f"re-run:  {rerun.seconds:.1f} s, {rerun.migrated} migrated, {rerun.up_to_date} already at head")
    print(f"catalog: {relations} relations, database size {size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the migration")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL")
    if server_url:
        name = f"journal_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(run_admin_sql(server_url, f'CREATE DATABASE "{name}"'))
        try:
            asyncio.run(run(libpq_url(server_url, name), args.schools, args.jobs))
        finally:
            asyncio.run(run_admin_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    with tempfile.TemporaryDirectory() as folder, quiet_platformdirs():
        pg = start_postgres(Path(folder) / "postgres", delete_on_stop=True)
        try:
            asyncio.run(run(pg.create_database("bench"), args.schools, args.jobs))
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
