"""Alembic entry for the `school` tree. Upgrades run through `tenants migrate`; this file serves `alembic revision`."""

from alembic import context

context.configure(url="postgresql://", version_table_schema=None)
with context.begin_transaction():
    context.run_migrations()
