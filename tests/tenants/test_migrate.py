"""Migrating all schools: to head, resumable, a failing school reported while the others go on."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select, text

from services.config import Settings
from services.db import Database
from services.region.models import School
from tenants.migrate import migrate_everything
from tenants.provisioning import ProvisionedSchool, create_school
from tenants.schema_migrations import head
from tests.conftest import Backends

OLD = "s0001"


async def old_school(db: Database, municipality_id: int, slug: str) -> ProvisionedSchool:
    return await create_school(db, municipality_id=municipality_id, slug=slug, name="Старая школа",
                               time_zone="Asia/Irkutsk", actor="tests", revision=OLD)


async def state(db: Database, school: ProvisionedSchool) -> tuple[str | None, str | None, bool]:
    """(registry revision, recorded error, whether the newest table exists in the school's schema)."""
    async with db.platform_session() as session:
        row = (await session.execute(select(School).where(School.id == school.id))).scalar_one()
        exists = await session.scalar(text("SELECT to_regclass(:name) IS NOT NULL"),
                                      {"name": f"{school.schema}.school_setting"})
        return row.schema_revision, row.last_migration_error, bool(exists)


async def test_old_schools_reach_head_in_parallel_and_a_rerun_does_nothing(
    db: Database, settings: Settings, municipality_id: int
) -> None:
    schools = [await old_school(db, municipality_id, f"old-par-{n}") for n in range(4)]
    assert [await state(db, s) for s in schools] == [(OLD, None, False)] * 4

    report = await migrate_everything(db, jobs=2, settings=settings)
    assert not report.failed
    assert report.migrated >= 4
    assert [await state(db, s) for s in schools] == [(head("school"), None, True)] * 4

    again = await migrate_everything(db, jobs=2, settings=settings)
    assert (again.migrated, again.failed) == (0, [])
    async with db.engine.connect() as conn:
        versions = {
            (await conn.execute(text(f'SELECT version_num FROM "{s.schema}".alembic_version'))).scalar_one()
            for s in schools
        }
    assert versions == {head("school")}


async def test_a_failing_school_is_reported_and_the_others_go_on(
    db: Database, backends: Backends, municipality_id: int
) -> None:
    good = [await old_school(db, municipality_id, f"old-ok-{n}") for n in range(2)]
    bad = await old_school(db, municipality_id, "old-broken")
    # Someone created by hand the table the next revision adds: that school's upgrade must fail.
    async with db.engine.begin() as conn:
        await conn.execute(text(f'CREATE TABLE "{bad.schema}".school_setting (key text)'))

    env = {**os.environ, "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    cli = [sys.executable, "-m", "tenants.cli", "migrate", "--jobs", "1", "--no-progress"]
    run = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED old-broken" in run.stderr
    assert "1 failed" in run.stdout

    for school in good:
        assert await state(db, school) == (head("school"), None, True)
    revision, error, _ = await state(db, bad)
    assert revision == OLD
    assert error is not None
    assert "school_setting" in error

    # Repaired, the next run finishes only that school.
    async with db.engine.begin() as conn:
        await conn.execute(text(f'DROP TABLE "{bad.schema}".school_setting'))
    rerun = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "1 migrated" in rerun.stdout
    assert await state(db, bad) == (head("school"), None, True)
