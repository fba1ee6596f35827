"""Every audit query. The chain head and the entries live in the school's schema; entity rows in the school's tables.

Functions taking a sync `Session` run inside flushes (SQLAlchemy events are synchronous) or under `run_sync`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, and_, delete, insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from services.audit.models import AuditLog
from services.db import quote_ident

AUDITED = {"audited": True}  # execution option: this statement's change is recorded by the caller
_log = cast(Table, AuditLog.__table__)


def school_schema(session: Session) -> str | None:
    """The schema the session's school tables render into; None when they resolve through search_path."""
    translate = session.connection().get_execution_options().get("schema_translate_map") or {}
    schema = translate.get(None)
    return schema if isinstance(schema, str) else None


def chain_head(session: Session) -> Row[Any]:
    """Take the school's chain lock and read (prev_hash, at, isolation) in one round trip."""
    schema = school_schema(session)
    if schema is None:
        return session.execute(text("SELECT * FROM audit_log_head(current_schema())")).one()
    sql = text(f"SELECT * FROM {quote_ident(schema)}.audit_log_head(:schema)")  # noqa: S608 - a quoted identifier
    return session.execute(sql, {"schema": schema}).one()


def insert_entries(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert chained rows in the given order; ids come back in the same order."""
    stmt = insert(_log).returning(_log.c.id, sort_by_parameter_order=True).execution_options(**AUDITED)
    return list(session.execute(stmt, list(rows)).scalars())


def key_clause(table: Table, key: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[name] == value for name, value in key.items()))


def fetch_columns(session: Session, table: Table, key: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """Columns of one row by key, straight from the database (values the session never loaded)."""
    row = session.execute(select(*(table.c[n] for n in names)).where(key_clause(table, key))).one_or_none()
    return dict(row._mapping) if row is not None else {}


async def entry(session: AsyncSession, audit_id: int) -> AuditLog | None:
    return await session.get(AuditLog, audit_id)


async def reverted_by(session: AsyncSession, audit_id: int) -> int | None:
    found: int | None = await session.scalar(select(AuditLog.id).where(AuditLog.reverts_id == audit_id))
    return found


async def later_entries(session: AsyncSession, entry: AuditLog) -> list[tuple[int, str]]:
    """Entries on the same row after `entry`: (id, actor label), oldest first."""
    rows = await session.execute(
        select(AuditLog.id, AuditLog.actor_label)
        .where(AuditLog.entity == entry.entity, AuditLog.entity_key == entry.entity_key, AuditLog.id > entry.id)
        .order_by(AuditLog.id)
    )
    return [(i, label) for i, label in rows.tuples()]


async def entries_by_account_since(
    session: AsyncSession, account_id: int, since: datetime
) -> list[tuple[AuditLog, int | None]]:
    """An account's entries from `since` on, oldest first, each with the id of the entry that reverted it."""
    revert = aliased(AuditLog)
    rows = await session.execute(
        select(AuditLog, revert.id)
        .outerjoin(revert, revert.reverts_id == AuditLog.id)
        .where(AuditLog.account_id == account_id, AuditLog.at >= since)
        .order_by(AuditLog.id)
    )
    return [(log, reverted) for log, reverted in rows.tuples()]


async def stream_chain(session: AsyncSession, batch: int = 2000) -> AsyncIterator[Row[Any]]:
    """Every entry in chain order, read with one snapshot through a server-side cursor."""
    result = await session.stream(select(_log).order_by(_log.c.id).execution_options(yield_per=batch))
    async for row in result:
        yield row


async def lock_row(session: AsyncSession, table: Table, key: Mapping[str, Any]) -> dict[str, Any] | None:
    row = (await session.execute(select(table).where(key_clause(table, key)).with_for_update())).one_or_none()
    return dict(row._mapping) if row is not None else None


async def lock_rows(session: AsyncSession, table: Table, where: Sequence[ColumnElement[bool]]) -> list[dict[str, Any]]:
    rows = await session.execute(select(table).where(*where).with_for_update())
    return [dict(r._mapping) for r in rows]


async def insert_returning(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    stmt = insert(table).returning(*table.c, sort_by_parameter_order=True).execution_options(**AUDITED)
    return [dict(r._mapping) for r in await session.execute(stmt, list(rows))]


async def update_returning(
    session: AsyncSession, table: Table, where: Sequence[ColumnElement[bool]], values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    stmt = update(table).where(*where).values(dict(values)).returning(*table.c).execution_options(**AUDITED)
    return [dict(r._mapping) for r in await session.execute(stmt)]


async def delete_where(session: AsyncSession, table: Table, where: Sequence[ColumnElement[bool]]) -> int:
    result = await session.execute(delete(table).where(*where).execution_options(**AUDITED))
    return int(getattr(result, "rowcount", 0))


_CHUNK = 5000  # keys per statement: well under asyncpg's 32767 bind parameters


def _keys_in(table: Table, keys: Sequence[Mapping[str, Any]]) -> ColumnElement[bool]:
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return columns[0].in_([k[columns[0].name] for k in keys])
    return tuple_(*columns).in_([tuple(k[c.name] for c in columns) for k in keys])


async def update_keys(
    session: AsyncSession, table: Table, keys: Sequence[Mapping[str, Any]], values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Update the rows with these primary keys; the rows as they are now."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(keys), _CHUNK):
        rows += await update_returning(session, table, [_keys_in(table, keys[start : start + _CHUNK])], values)
    return rows


async def delete_keys(session: AsyncSession, table: Table, keys: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(keys), _CHUNK):
        await delete_where(session, table, [_keys_in(table, keys[start : start + _CHUNK])])
