"""Compromised credentials (R-SEC-3): what was done in the person's name since T is found and undone.

Recording "compromised since T" ends every session of the account and demands a new password; the school's
administrator then sees every change the account made in that school since T (from the audit log, for every
kind of entity) and reverts them one by one or all at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services import audit
from services.identity.models import Account, Membership, PlatformAudit
from services.identity.service import IdentityError
from services.journal.history import announce_reverts
from services.runtime import Runtime
from tenants.registry import SchoolRecord

REASON = "компрометация учётных данных"


def check_since(since: datetime) -> datetime:
    """T must be a moment with a time zone, not in the future."""
    if since.tzinfo is None:
        raise IdentityError("Укажите момент с часовым поясом, например 2026-11-20T08:00:00+07:00.", status_code=422)
    if since > datetime.now(UTC):
        raise IdentityError("Момент компрометации не может быть в будущем.", status_code=422)
    return since


async def mark_compromised(runtime: Runtime, *, account_id: int, since: datetime, actor_account_id: int,
                           school_id: int | None = None) -> None:
    """Record "compromised since T": every session ends and a new password is required at the next login."""
    check_since(since)
    async with runtime.db.transaction() as session:
        account = await session.get(Account, account_id, with_for_update=True)
        if account is None:
            raise IdentityError("Учётная запись не найдена.", status_code=404)
        if school_id is not None and await session.scalar(select(Membership.id).where(
                Membership.account_id == account_id, Membership.school_id == school_id)) is None:
            raise IdentityError("Пользователь не состоит в этой школе.", status_code=404)
        earliest = min(since, account.compromised_since) if account.compromised_since else since
        account.compromised_since = earliest
        account.must_change_password = True
        session.add(PlatformAudit(actor=f"account:{actor_account_id}", action="account.compromised",
                                  school_id=school_id, detail={"account_id": account_id,
                                                               "since": earliest.isoformat()}))
    await runtime.sessions.destroy_all(account_id)


async def compromised_since(runtime: Runtime, account_id: int) -> datetime | None:
    async with runtime.db.platform_session() as session:
        return await session.scalar(select(Account.compromised_since).where(Account.id == account_id))


async def changes(runtime: Runtime, school: SchoolRecord, account_id: int, since: datetime) -> list[audit.AuditEntry]:
    async with runtime.db.school_session(school.schema) as session:
        return await audit.changes_by_account_since(session, account_id, since)


async def revert_one(runtime: Runtime, school: SchoolRecord, entry_id: int, actor_account_id: int) -> int:
    """Undo one change; a refusal (the row changed again since, already undone…) says why in Russian."""
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id), reason=REASON)
        try:
            revert_id = await audit.revert(session, entry_id, account_id=actor_account_id,
                                           actor_label=f"account:{actor_account_id}", reason=REASON)
        except audit.RevertRefused as exc:
            raise IdentityError(exc.message_ru, status_code=409) from exc
        await announce_reverts(session, school.id, [revert_id])
        return revert_id


async def revert_everything(runtime: Runtime, school: SchoolRecord, account_id: int, since: datetime,
                            actor_account_id: int) -> audit.RevertReport:
    """Undo every change of the account in this school since T, newest first; conflicts are reported."""
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id), reason=REASON)
        report = await audit.revert_all_since(session, account_id, since, actor_account_id=actor_account_id,
                                              actor_label=f"account:{actor_account_id}", reason=REASON)
        await announce_reverts(session, school.id, [revert_id for _, revert_id in report.reverted])
        return report
