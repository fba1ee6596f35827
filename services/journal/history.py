"""The history of a journal cell (R-JRN-6, R-SEC-2): every change of a student's marks and attendance at one
lesson — who, when, old → new, why — read from the school's audit log, which records every write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.models import AuditLog
from services.identity.models import Membership
from services.journal.cells import CODE_OF
from services.journal.scope import ENTRY_SAVED
from services.outbox.service import add_event
from services.structure.models import Person

ENTITIES = ("mark", "attendance")


@dataclass(frozen=True, slots=True)
class CellChange:
    at: datetime
    author: str
    what: str
    before: str
    after: str
    reason: str | None
    reverted: bool


JOURNAL_ENTITIES = ("mark", "attendance", "lesson_record", "individual_homework", "homework_file", "final_mark")


async def announce_reverts(session: AsyncSession, school_id: int, revert_ids: list[int]) -> None:
    """A revert of a compromised account's changes (R-SEC-3) is a journal write too: its event goes into the
    outbox in the revert's transaction, like every journal write's."""
    if not revert_ids:
        return
    logs = await session.execute(select(AuditLog.entity, AuditLog.before, AuditLog.after).where(
        AuditLog.id.in_(revert_ids), AuditLog.entity.in_(JOURNAL_ENTITIES)))
    for entity, before, after in logs.tuples():
        row = after or before or {}
        payload = {k: row[k] for k in ("lesson_id", "student_id") if row.get(k) is not None}
        await add_event(session, topic=ENTRY_SAVED, school_id=school_id,
                        payload={"what": "revert", "entity": entity, **payload})


def _shown(entity: str, row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    if entity == "mark":
        return str(row.get("value", ""))
    code = CODE_OF.get((row.get("status", ""), row.get("reason")))
    return code or str(row.get("status", ""))


def _matches(column: Any, key: str, value: int) -> Any:
    return cast(column[key], String) == str(value)


async def cell_history(session: AsyncSession, lesson_id: int, student_id: int, school_id: int) -> list[CellChange]:
    """Oldest first. Authors are shown by their staff names (the deputy head's page), or «система»."""
    def about(side: Any) -> Any:
        return _matches(side, "lesson_id", lesson_id) & _matches(side, "student_id", student_id)

    logs = list((await session.execute(
        select(AuditLog).where(AuditLog.entity.in_(ENTITIES), or_(about(AuditLog.after), about(AuditLog.before)))
        .order_by(AuditLog.id))).scalars())
    accounts = {log.account_id for log in logs if log.account_id is not None}
    names: dict[int, str] = {}
    if accounts:
        rows = await session.execute(
            select(Membership.account_id, Person.last_name, Person.first_name, Person.middle_name)
            .join(Person, Person.id == Membership.person_id)
            .where(Membership.account_id.in_(accounts), Membership.school_id == school_id))
        names = {a: " ".join(p for p in (last, first, middle) if p) for a, last, first, middle in rows.tuples()}
    reverted = {log.reverts_id for log in logs if log.reverts_id is not None}
    return [CellChange(log.at, names.get(log.account_id or 0, "система" if log.account_id is None else "сотрудник"),
                       "отметка" if log.entity == "mark" else "посещаемость", _shown(log.entity, log.before),
                       _shown(log.entity, log.after), log.reason, log.id in reverted) for log in logs]
