"""Audit of every write in a school (R-SEC-2) and undoing what a compromised account did (R-SEC-3).

Why a session hook. Recording by hand in each service function leaves the audit to memory: one forgotten call
and a change is invisible. Database triggers would catch everything, but they cannot know the account without
a per-transaction setting (another round trip on every request) and every new table needs its trigger. So the
audit rides on the ORM session instead, once `install()` has run in the process:

* `before_flush` refuses any flush that writes a `SchoolBase` row unless the session carries an actor
  (`set_actor(session, Actor.account(12))`), takes the school's chain lock, and captures each changed row
  as it was; `after_flush` captures it as it is and appends one chained entry per row, in the same
  transaction as the change — a rolled-back write leaves no entry, a committed one always has its entry.
* `do_orm_execute` refuses bulk or Core INSERT/UPDATE/DELETE on school tables sent through a session (they
  bypass the flush), and `text()` DML naming a school schema. Bulk writers use `insert_rows`, `update_rows`,
  `delete_rows`, which audit each row; code that records by itself marks its statement with
  `execution_options(audited=True)` and calls `record()`.

A new journal table is audited the day its model exists: nothing to register. The exception is bookkeeping derived
from audited rows and written in bulk by workers (the notifications told to parents, the letters sent): such a table
says so with `__table_args__ = (..., NOT_AUDITED)` and is neither recorded nor guarded. What the hook cannot
see: SQL on a bare connection (provisioning, migrations), legacy `bulk_save_objects`/`bulk_*_mappings`, and rows
changed by the database itself (ON DELETE CASCADE, triggers) — school tables should not rely on those.

The chain: each entry's `hash` is sha256(`prev_hash` + canonical JSON of its content); the first entry links to
64 zeros. Writers of one school serialize on a transaction-scoped advisory lock taken at their first audited
flush and held to commit, so the chain never forks (READ COMMITTED is required: the head is re-read after the
lock is granted). The trigger of migration s0004 makes the table append-only for the application; a
superuser or the table owner can still switch the trigger off, which `verify()` then exposes.

Reverts are generic over school tables (looked up in `SchoolBase.metadata` by name) and refuse, with nothing
changed, when the row is no longer as the entry left it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import ARRAY, Column, ColumnElement, Table, Text, case, cast, event, func, inspect, text, update
from sqlalchemy.dialects.postgresql import array as sa_array
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

from services.audit import repository
from services.audit.models import AUDIT_ACTIONS, AuditLog
from services.db import SchoolBase

GENESIS = "0" * 64
NOT_AUDITED: dict[str, Any] = {"info": {"audited": False}}
"""The last item of a model's `__table_args__` that keeps its table out of the audit (see the module's docstring)."""
ACTOR_KEY = "actor"  # session.info key: the Actor behind this session's writes
REASON_KEY = "audit_reason"  # session.info key: optional reason stored with the hook's entries
_PENDING_KEY = "_audit_pending"
_HEAD_KEY = "_audit_head"
_LABEL_RE = re.compile(r"^[a-z][a-z_]{0,19}:[A-Za-z0-9_.:-]{1,99}$")
_TEXT_DML_RE = re.compile(r"^\s*(insert|update|delete|merge|truncate)\b", re.IGNORECASE)
_SCHOOL_SCHEMA_RE = re.compile(r"\bschool_[0-9]+\b")
_REASON_MAX = 500


# --- errors ------------------------------------------------------------------------------------------------


class AuditError(Exception):
    """An audit rule refused something. `str()` is English for logs; `message_ru` is for the person in the UI.

    Messages carry ids and table names only, never personal data.
    """

    def __init__(self, message_en: str, message_ru: str) -> None:
        super().__init__(message_en)
        self.message_ru = message_ru


class ActorMissing(AuditError):
    """A school row was about to be written by a session that does not say on whose behalf."""


class UnauditedWrite(AuditError):
    """A write that would bypass the audit (bulk/Core DML on a school table, or a hand-made audit row)."""


class RevertRefused(AuditError):
    """A revert that cannot be carried out; nothing was changed."""

    def __init__(self, audit_id: int, message_en: str, message_ru: str) -> None:
        super().__init__(f"audit entry {audit_id}: {message_en}", message_ru)
        self.audit_id = audit_id


class RevertConflict(RevertRefused):
    """The row changed after the entry (by someone else or later by the same account)."""

    def __init__(self, audit_id: int, message_en: str, message_ru: str, later_ids: Sequence[int] = ()) -> None:
        super().__init__(audit_id, message_en, message_ru)
        self.later_ids = list(later_ids)


class AlreadyReverted(RevertRefused):
    pass


class RevertOfRevert(RevertRefused):
    pass


# --- actors and values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    """On whose behalf a session writes: an account (`account:12`) or the system (`system:import`). No names."""

    account_id: int | None
    label: str

    def __post_init__(self) -> None:
        _check_actor(self.account_id, self.label)

    @classmethod
    def account(cls, account_id: int) -> Actor:
        return cls(account_id, f"account:{account_id}")

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(None, f"system:{name}")


def _check_actor(account_id: int | None, label: str) -> None:
    if not _LABEL_RE.fullmatch(label):
        raise ValueError(f"actor label {label!r} must look like 'account:12' or 'system:import' (no names)")
    if label.startswith("account:") and label != f"account:{account_id}":
        raise ValueError(f"actor label {label!r} does not match account id {account_id}")


def set_actor(session: AsyncSession | Session, actor: Actor, *, reason: str | None = None) -> None:
    """Say on whose behalf the session's writes are made (and, optionally, why); required before any school write."""
    session.info[ACTOR_KEY] = actor
    if reason is not None:
        session.info[REASON_KEY] = _check_reason(reason)


def _check_reason(reason: str | None) -> str | None:
    if reason is not None and len(reason) > _REASON_MAX:
        raise ValueError(f"an audit reason has at most {_REASON_MAX} characters")
    return reason


def to_json(value: Any) -> Any:
    """A column value as JSON: dates and times ISO (aware ones in UTC), Decimal and UUID as strings, bytes hex."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return str(value)


def from_json(column: Column[Any], value: Any) -> Any:
    """The inverse of `to_json` for one column, by the column's Python type."""
    return _from_json(column.type, value)


def _from_json(type_: TypeEngine[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(type_, ARRAY) and isinstance(value, list):
        return [_from_json(type_.item_type, v) for v in value]
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is time:
        return time.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(str(value))
    if python_type is float:
        return float(value)
    if python_type is timedelta:
        return timedelta(seconds=value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is bytes:
        return bytes.fromhex(value)
    return value


def _canonical(value: Any) -> Any:
    # jsonb prints 1e20 as 100000000000000000000 and 1.0 as 1.0: whole floats hash as integers on both sides.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    return bool(_canonical(a) == _canonical(b))


def entry_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the canonical JSON of an entry's content fields."""
    at = content["at"]
    body = {
        "at": at.astimezone(UTC).isoformat(timespec="microseconds") if isinstance(at, datetime) else at,
        **{k: content[k] for k in ("account_id", "actor_label", "action", "entity", "entity_key", "before",
                                   "after", "reason", "reverts_id")},
    }
    canonical = json.dumps(_canonical(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                           allow_nan=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


# --- tables and rows ---------------------------------------------------------------------------------------


def entity_table(name: str) -> Table:
    """A school table by name; the audit log itself is not an entity."""
    table = SchoolBase.metadata.tables.get(name)
    if table is None or name == AuditLog.__tablename__:
        raise ValueError(f"{name!r} is not a school table")
    return table


def _table_of(model: type[SchoolBase] | Table) -> Table:
    table = model if isinstance(model, Table) else model.__table__
    assert isinstance(table, Table)
    return entity_table(table.name)


def _key_of(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {c.name: row[c.name] for c in table.primary_key.columns}


def _typed_key(table: Table, key: Mapping[str, Any]) -> dict[str, Any]:
    return {name: from_json(table.c[name], value) for name, value in key.items()}


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): to_json(v) for k, v in row.items()}


def snapshot(obj: SchoolBase) -> dict[str, Any]:
    """The loaded column values of an ORM instance as JSON, keyed by column name."""
    state = inspect(obj)
    values: dict[str, Any] = {}
    for prop in state.mapper.column_attrs:
        column = prop.columns[0]
        if isinstance(column, Column) and prop.key in state.dict:
            values[column.name] = to_json(state.dict[prop.key])
    return values


# --- writing the chain -------------------------------------------------------------------------------------


def _entry(  # noqa: PLR0917 - one positional per content field reads best at the many call sites
    actor: Actor, action: str, table_name: str, key: Mapping[str, Any], before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None, reason: str | None = None, reverts_id: int | None = None,
) -> dict[str, Any]:
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"audit action must be one of {AUDIT_ACTIONS}")
    entity_table(table_name)
    return {
        "account_id": actor.account_id, "actor_label": actor.label, "action": action, "entity": table_name,
        "entity_key": to_json(dict(key)), "before": to_json(dict(before)) if before is not None else None,
        "after": to_json(dict(after)) if after is not None else None, "reason": _check_reason(reason),
        "reverts_id": reverts_id,
    }


def _head(session: Session) -> tuple[str, datetime]:
    """The hash to link to and the entry time, locking the chain on first use in this (sub)transaction."""
    cached = session.info.get(_HEAD_KEY)
    current = session.get_nested_transaction() or session.get_transaction()
    if cached is not None and current is not None and cached[0] is current:
        return cached[1], cached[2]
    row = repository.chain_head(session)
    if row.isolation != "read committed":
        raise AuditError(f"audited writes need READ COMMITTED, not {row.isolation}: the chain head would be stale",
                         "Изменение не сохранено: ошибка настройки журнала изменений.")
    prev = (row.prev_hash or GENESIS).strip()
    session.info[_HEAD_KEY] = (session.get_nested_transaction() or session.get_transaction(), prev, row.at)
    return prev, row.at


def _append(session: Session, entries: Sequence[Mapping[str, Any]]) -> list[int]:
    """Chain and insert entries (sync: runs inside flushes and under run_sync); their ids in order."""
    if not entries:
        return []
    prev, at = _head(session)
    rows = []
    for content in entries:
        row = {**content, "at": at, "prev_hash": prev}
        row["hash"] = prev = entry_hash(row["prev_hash"], row)
        rows.append(row)
    ids = repository.insert_entries(session, rows)
    if any(b <= a for a, b in itertools.pairwise(ids)):
        raise AuditError("audit ids came back out of order; the chain would not verify",
                         "Изменение не сохранено: ошибка журнала изменений.")
    session.info[_HEAD_KEY] = (session.get_nested_transaction() or session.get_transaction(), prev, at)
    return ids


async def record(
    session: AsyncSession,
    *,
    account_id: int | None,
    actor_label: str,
    action: str,
    entity: str,
    entity_key: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None = None,
    reverts_id: int | None = None,
) -> int:
    """Append one entry for a change made in this transaction (by code that bypasses the hook); its id."""
    actor = Actor(account_id, actor_label)
    content = _entry(actor, action, entity, entity_key, before, after, reason, reverts_id)
    ids = await session.run_sync(_append, [content])
    return ids[0]


# --- the session hook --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    action: str
    obj: SchoolBase
    table: Table
    before: dict[str, Any] | None


def _actor(session: Session) -> Actor:
    actor = session.info.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        raise ActorMissing(
            "a school row is being written by a session without an actor: call services.audit.set_actor() first",
            "Изменение не сохранено: не удалось определить, кто его вносит. Войдите снова и повторите.",
        )
    return actor


def _own_columns(obj: SchoolBase) -> list[tuple[str, Column[Any]]]:
    mapper = inspect(obj).mapper
    return [(p.key, c) for p in mapper.column_attrs if isinstance(c := p.columns[0], Column)
            and c.table is mapper.local_table]


def _as_loaded(session: Session, obj: SchoolBase) -> dict[str, Any]:
    """The row as the database holds it before this flush (pending changes undone), JSON."""
    state = inspect(obj)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for key, column in _own_columns(obj):
        history = state.attrs[key].history  # never loads
        if history.deleted:
            values[column.name] = history.deleted[0]
        elif history.unchanged:
            values[column.name] = history.unchanged[0]
        else:
            missing.append(column.name)
    if missing:
        table = state.mapper.local_table
        assert isinstance(table, Table)
        assert state.identity is not None
        identity = dict(zip((c.name for c in state.mapper.primary_key), state.identity, strict=True))
        values.update(repository.fetch_columns(session, table, identity, missing))
    return _json_row(values)


def _database_fills(column: Column[Any]) -> bool:
    return column.server_default is not None or column.server_onupdate is not None or column.computed is not None \
        or column.identity is not None


def _as_flushed(session: Session, pending: _Pending) -> dict[str, Any]:
    """The row as this flush left it, JSON. Only values the database chose and the ORM did not fetch are read back:
    an unset column of a new row went in as NULL; an unloaded, unchanged column of an updated row is as before."""
    state = inspect(pending.obj)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for key, column in _own_columns(pending.obj):
        if key in state.dict:
            values[column.name] = state.dict[key]
        elif _database_fills(column):
            missing.append(column.name)
        elif pending.before is not None:
            values[column.name] = from_json(column, pending.before.get(column.name))
        else:
            values[column.name] = None
    if missing:
        values.update(repository.fetch_columns(session, pending.table, _key_of(pending.table, values), missing))
    return _json_row(values)


_rank: tuple[int, dict[str, int]] = (-1, {})


def _table_rank() -> dict[str, int]:
    """Tables in foreign-key order (parents first), recomputed only when a model module adds tables."""
    global _rank  # noqa: PLW0603 - a cache of a pure function of the metadata
    tables = SchoolBase.metadata.tables
    if _rank[0] != len(tables):
        _rank = (len(tables), {t.name: i for i, t in enumerate(SchoolBase.metadata.sorted_tables)})
    return _rank[1]


async def _queue_for_chain(session: AsyncSession) -> None:
    # Chain lock before row locks, as the flush hook does: one lock order for every writer, no deadlocks.
    await session.run_sync(_head)


def is_audited(table: Table) -> bool:
    return bool(table.info.get("audited", True))


def _audited(obj: object) -> bool:
    return isinstance(obj, SchoolBase) and is_audited(_local_table(obj))


def _before_flush(session: Session, _flush_context: UOWTransaction, _instances: Any) -> None:
    new = [o for o in session.new if _audited(o)]
    dirty = [o for o in session.dirty if _audited(o) and session.is_modified(o, include_collections=False)]
    deleted = [o for o in session.deleted if _audited(o)]
    session.info.pop(_PENDING_KEY, None)
    if not (new or dirty or deleted):
        return
    if any(isinstance(o, AuditLog) for o in (*new, *dirty, *deleted)):
        raise UnauditedWrite("audit_log rows are written by services.audit only",
                             "Изменение не сохранено: журнал изменений нельзя править.")
    _actor(session)
    # Queue for the chain before touching any row: every writer takes the same lock first, so fewer deadlocks.
    _head(session)
    rank = _table_rank()
    pending = [_Pending("insert", o, _local_table(o), None) for o in new]
    pending += [_Pending("update", o, _local_table(o), _as_loaded(session, o)) for o in dirty]
    pending += [_Pending("delete", o, _local_table(o), _as_loaded(session, o)) for o in deleted]
    # Entries in the order the unit of work writes: parents inserted first, children deleted first.
    order = {"insert": 0, "update": 1, "delete": 2}
    pending.sort(key=lambda p: (order[p.action], rank.get(p.table.name, 0) * (-1 if p.action == "delete" else 1)))
    session.info[_PENDING_KEY] = pending


def _local_table(obj: SchoolBase) -> Table:
    table = inspect(obj).mapper.local_table
    assert isinstance(table, Table)
    return table


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    pending: list[_Pending] | None = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    actor = _actor(session)
    reason = session.info.get(REASON_KEY)
    entries = []
    for p in pending:
        before = p.before
        after = None if p.action == "delete" else _as_flushed(session, p)
        if p.action == "update" and before == after:
            continue
        key = _key_of(p.table, before if before is not None else after)  # type: ignore[arg-type]
        entries.append(_entry(actor, p.action, p.table.name, key, before, after, reason))
    _append(session, entries)


def _is_school_table(table: Any) -> bool:
    return isinstance(table, Table) and table.schema is None and table.name in SchoolBase.metadata.tables and \
        is_audited(SchoolBase.metadata.tables[table.name])


def _guard_statement(state: ORMExecuteState) -> None:
    if state.execution_options.get("audited"):
        return
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if table is not None and _is_school_table(table):
            raise UnauditedWrite(
                f"bulk {'insert' if state.is_insert else 'update' if state.is_update else 'delete'} on school table "
                f"{table.name} bypasses the audit: "
                "use ORM objects or services.audit insert_rows/update_rows/delete_rows",
                "Изменение не сохранено: запись в обход журнала изменений запрещена.",
            )
    elif isinstance(statement, TextClause) and _TEXT_DML_RE.match(statement.text) and \
            _SCHOOL_SCHEMA_RE.search(statement.text):
        raise UnauditedWrite("text DML on a school schema bypasses the audit",
                             "Изменение не сохранено: запись в обход журнала изменений запрещена.")


_LISTENERS: tuple[tuple[str, Any], ...] = (
    ("before_flush", _before_flush),
    ("after_flush", _after_flush),
    ("do_orm_execute", _guard_statement),
)


def install() -> None:
    """Audit every school write of every ORM session in this process (idempotent). Call once at start-up."""
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def uninstall() -> None:
    for name, listener in _LISTENERS:
        if event.contains(Session, name, listener):
            event.remove(Session, name, listener)


def installed() -> bool:
    return all(event.contains(Session, name, listener) for name, listener in _LISTENERS)


# --- bulk writes that audit each row -----------------------------------------------------------------------


async def insert_rows(session: AsyncSession, model: type[SchoolBase] | Table,
                      rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Insert many rows (keys are column names) and audit each; the inserted rows, in order."""
    if not rows:
        return []
    actor = _actor(session.sync_session)
    table = _table_of(model)
    await _queue_for_chain(session)
    inserted = await repository.insert_returning(session, table, rows)
    reason = session.info.get(REASON_KEY)
    await session.run_sync(_append, [
        _entry(actor, "insert", table.name, _key_of(table, r), None, r, reason) for r in inserted
    ])
    return inserted


async def update_rows(session: AsyncSession, model: type[SchoolBase] | Table, values: Mapping[str, Any],
                      *where: ColumnElement[bool]) -> int:
    """UPDATE … SET values WHERE …, auditing each changed row; the number of rows matched."""
    actor = _actor(session.sync_session)
    table = _table_of(model)
    if set(values) & set(table.primary_key.columns.keys()):
        raise ValueError("update_rows does not change primary keys; update the ORM object instead")
    # Lock first, then change exactly the locked rows: a row inserted meanwhile can't slip through unaudited.
    await _queue_for_chain(session)
    locked = await repository.lock_rows(session, table, where)
    before = {tuple(_key_of(table, r).values()): r for r in locked}
    after = await repository.update_keys(session, table, [_key_of(table, r) for r in locked], values)
    reason = session.info.get(REASON_KEY)
    entries = []
    for row in after:
        old = before.get(tuple(_key_of(table, row).values()))
        if old is not None and _json_row(old) != _json_row(row):
            entries.append(_entry(actor, "update", table.name, _key_of(table, old), old, row, reason))
    await session.run_sync(_append, entries)
    return len(after)


async def delete_rows(session: AsyncSession, model: type[SchoolBase] | Table, *where: ColumnElement[bool]) -> int:
    """DELETE … WHERE …, auditing each deleted row; the number of rows deleted."""
    actor = _actor(session.sync_session)
    table = _table_of(model)
    await _queue_for_chain(session)
    rows = await repository.lock_rows(session, table, where)
    await repository.delete_keys(session, table, [_key_of(table, r) for r in rows])
    reason = session.info.get(REASON_KEY)
    await session.run_sync(_append, [
        _entry(actor, "delete", table.name, _key_of(table, r), r, None, reason) for r in rows
    ])
    return len(rows)


# --- erasure ---------------------------------------------------------------------------------------------


def _without(column: Any, keys: Any) -> Any:
    """The JSON object without `keys`; a JSON null (no row before an insert, after a delete) stays as it is."""
    return case((func.jsonb_typeof(column) == "object", column.op("-")(keys)), else_=column)


async def redact(session: AsyncSession, entity: str, key: Mapping[str, Any], fields: Sequence[str]) -> int:
    """Remove `fields` from `before`/`after` of every entry about one row (R-SEC-5: an erased person's data is
    destroyed in the log too); the entries keep their hashes and links and are marked `redacted_at`. Call after
    the erasing writes were flushed, so their own entries are redacted as well. Returns how many entries."""
    table = entity_table(entity)
    unknown = set(fields) - set(table.c.keys())
    if unknown or not fields or set(fields) & set(table.primary_key.columns.keys()):
        raise ValueError(f"cannot redact {sorted(fields)} of {entity}: only non-key columns of the table")
    await session.flush()
    removed = cast(sa_array(list(fields)), ARRAY(Text))
    # The flag lives until the end of this statement's transaction at most (a failure rolls it back with it).
    await session.execute(text("SET LOCAL journal.audit_redaction = 'on'"))
    result = await session.execute(
        update(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_key == to_json(dict(key)))
        .values(before=_without(AuditLog.before, removed), after=_without(AuditLog.after, removed),
                redacted_at=func.now())
        .execution_options(audited=True, synchronize_session=False))
    await session.execute(text("SET LOCAL journal.audit_redaction = 'off'"))
    return int(getattr(result, "rowcount", 0) or 0)


# --- verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    head_id: int | None
    head_hash: str
    broken: list[int]


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recompute the whole chain: entries whose hash is wrong or that do not link to the entry before them."""
    prev = GENESIS
    broken: list[int] = []
    checked = 0
    head_id: int | None = None
    async for row in repository.stream_chain(session):
        checked += 1
        stored_prev, stored_hash = row.prev_hash.strip(), row.hash.strip()
        rehash = row.redacted_at is None
        if stored_prev != prev or (rehash and entry_hash(stored_prev, dict(row._mapping)) != stored_hash):
            broken.append(row.id)
        prev, head_id = stored_hash, row.id
    return ChainReport(checked, head_id, prev, broken)


async def verify(session: AsyncSession) -> list[int]:
    """Ids of entries whose hash or link is wrong; empty when the school's audit log is intact."""
    return (await verify_chain(session)).broken


# --- compromised accounts: listing and reverting -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    account_id: int | None
    actor_label: str
    action: str
    entity: str
    entity_key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    reverts_id: int | None
    reverted_by: int | None


def _as_entry(log: AuditLog, reverted_by: int | None) -> AuditEntry:
    return AuditEntry(log.id, log.at, log.account_id, log.actor_label, log.action, log.entity, log.entity_key,
                      log.before, log.after, log.reason, log.reverts_id, reverted_by)


async def changes_by_account_since(session: AsyncSession, account_id: int, since: datetime) -> list[AuditEntry]:
    """Every change the account made in this school from `since` on, oldest first, with what reverted it."""
    return [_as_entry(log, r) for log, r in await repository.entries_by_account_since(session, account_id, since)]


async def _conflict(session: AsyncSession, log: AuditLog, message_en: str, message_ru: str) -> RevertConflict:
    later = await repository.later_entries(session, log)
    if later:
        by = ", ".join(f"{i} ({label})" for i, label in later)
        message_en += f"; later entries on this row: {by}"
    return RevertConflict(log.id, message_en, message_ru, [i for i, _ in later])


def _differs(table: Table, expected: Mapping[str, Any], current: Mapping[str, Any], names: Sequence[str]) -> bool:
    for name in names:
        if name not in table.c:
            return True
        if from_json(table.c[name], expected.get(name)) != current.get(name):
            return True
    return False


_CHANGED_RU = "Отмена невозможна: запись изменили позже. Сначала отмените более поздние изменения."


async def _check_still_as_left(session: AsyncSession, log: AuditLog, table: Table,
                               current: dict[str, Any] | None) -> list[str]:
    """Refuse unless the row is as the entry left it; the columns an update changed."""
    if log.action == "delete":
        if current is not None:
            raise await _conflict(session, log, "a row with this key exists again", _CHANGED_RU)
        return []
    after = log.after or {}
    before = log.before or {}
    changed = list(after) if log.action == "insert" else [n for n in after if not _same(before.get(n), after[n])]
    if current is None:
        raise await _conflict(session, log, "the row no longer exists", _CHANGED_RU)
    if _differs(table, after, current, changed):
        raise await _conflict(session, log, "the row changed later", _CHANGED_RU)
    return changed


_Row = dict[str, Any] | None


async def _undo(session: AsyncSession, log: AuditLog, table: Table, key: Mapping[str, Any], *,
                current: _Row, changed: Sequence[str]) -> tuple[str, _Row, _Row]:
    """Write the opposite of the entry; (action, row before, row after) of that write."""
    where = [repository.key_clause(table, key)]
    if log.action == "insert":
        await repository.delete_where(session, table, where)
        return "delete", current, None
    before = log.before or {}
    if log.action == "update":
        values = {n: from_json(table.c[n], before.get(n)) for n in changed}
        (after,) = await repository.update_returning(session, table, where, values)
        return "update", current, after
    restored = {n: from_json(table.c[n], v) for n, v in before.items() if n in table.c}
    (after,) = await repository.insert_returning(session, table, [restored])
    return "insert", None, after


async def revert(session: AsyncSession, audit_id: int, *, account_id: int | None, actor_label: str,
                 reason: str | None) -> int:
    """Undo one entry (insert → delete, update → old values, delete → re-insert); the id of the revert's entry."""
    actor = Actor(account_id, actor_label)
    log = await repository.entry(session, audit_id)
    if log is None:
        raise RevertRefused(audit_id, "no such entry", "Запись журнала не найдена.")
    if log.reverts_id is not None:
        raise RevertOfRevert(audit_id, "the entry is itself a revert", "Эта запись сама является отменой.")
    if log.redacted_at is not None:
        raise RevertRefused(audit_id, "the entry was redacted by an erasure",
                            "Данные этой записи уничтожены по отзыву согласия: отменить её нельзя.")
    try:
        table = entity_table(log.entity)
    except ValueError:
        raise RevertRefused(audit_id, f"table {log.entity} no longer exists", "Таблица больше не существует.") \
            from None
    source = log.before if log.action == "delete" else log.after
    if source is None:
        raise RevertRefused(audit_id, "the entry has no row to revert to", "В записи нет данных для отмены.")
    key = _typed_key(table, _key_of(table, source))
    await _queue_for_chain(session)
    # Lock the row before the checks: a revert committed meanwhile is then visible to them.
    current = await repository.lock_row(session, table, key)
    if await repository.reverted_by(session, audit_id) is not None:
        raise AlreadyReverted(audit_id, "already reverted", "Это изменение уже отменено.")
    changed = await _check_still_as_left(session, log, table, current)
    try:
        async with session.begin_nested():
            action, before, after = await _undo(session, log, table, key, current=current, changed=changed)
            row = before if before is not None else after
            assert row is not None
            content = _entry(actor, action, table.name, _key_of(table, row), before, after, reason, audit_id)
            (revert_id,) = await session.run_sync(_append, [content])
    except IntegrityError as exc:
        if "uq_audit_log_reverts_id" in str(exc.orig):
            raise AlreadyReverted(audit_id, "already reverted", "Это изменение уже отменено.") from None
        # Other rows depend on this one, or took its key: the database refused.
        raise await _conflict(session, log, f"the database refused the revert ({type(exc.orig).__name__})",
                              "Отмена невозможна: от этой записи зависят другие данные.") from None
    return revert_id


@dataclass(slots=True)
class RevertReport:
    reverted: list[tuple[int, int]] = field(default_factory=list)  # (entry id, id of the revert's entry)
    conflicts: list[RevertRefused] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # reverts themselves, and entries reverted before


async def revert_all_since(session: AsyncSession, account_id: int, since: datetime, *, actor_account_id: int | None,
                           actor_label: str, reason: str | None) -> RevertReport:
    """Revert every change `account_id` made since `since`, newest first; conflicts are reported, not forced."""
    report = RevertReport()
    todo = []
    for change in reversed(await changes_by_account_since(session, account_id, since)):
        if change.reverts_id is not None or change.reverted_by is not None:
            report.skipped.append(change.id)
        else:
            todo.append(change.id)
    # A row another entry still points at (a class of a person…) may be free once that entry is reverted: retry.
    while todo:
        failed: list[RevertRefused] = []
        for audit_id in todo:
            try:
                revert_id = await revert(session, audit_id, account_id=actor_account_id, actor_label=actor_label,
                                         reason=reason)
            except RevertRefused as refused:
                failed.append(refused)
            else:
                report.reverted.append((audit_id, revert_id))
        if len(failed) == len(todo):
            report.conflicts.extend(failed)
            break
        todo = [f.audit_id for f in failed]
    report.conflicts.sort(key=lambda f: -f.audit_id)
    return report
