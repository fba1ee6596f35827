"""The migrations build exactly the tables the models describe, in `platform` and in a school's schema."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from services.all_models import PlatformBase, SchoolBase
from services.db import Database
from tests.conftest import MakeSchool


def _diff(connection: Connection, metadata: Any, schema: str | None) -> list[Any]:
    def include_name(name: str | None, type_: str, _parent: Any) -> bool:
        return type_ != "schema" or name == schema

    context = MigrationContext.configure(
        connection,
        opts={"include_schemas": schema is not None, "include_name": include_name, "compare_type": True},
    )
    return [d for d in compare_metadata(context, metadata) if not (d[0] == "remove_table" and d[1].name ==
                                                                    "alembic_version")]


async def test_platform_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff, PlatformBase.metadata, "platform") == []


async def test_a_new_school_schema_matches_the_models(db: Database, make_school: MakeSchool) -> None:
    school = await make_school()
    async with db.engine.connect() as conn:
        await conn.exec_driver_sql(f'SET search_path TO "{school.schema}"')
        try:
            assert await conn.run_sync(_diff, SchoolBase.metadata, None) == []
        finally:
            await conn.exec_driver_sql("SET search_path TO DEFAULT")
