"""Consent to personal-data processing per item of the consent sheet (R-SEC-5, 002 annex 2), its revocation and
the erasure that must follow within 10 working days.

Revoking an item of ACCESS_ITEMS (contact data, data about parents, their collection, storage and use) stops the
processing the journal needs: the person's memberships in the school are removed, their unused invite codes
withdrawn, the sessions of accounts left with no school at all ended (an account still in another school keeps
signing in there: its access here ends with the membership, checked on every request), and an erasure task is
opened, due in 10 working days, on the
administrator's list until it is carried out. Carrying it out anonymises the person record, removes the
guardianships and the contacts of their access applications, and records who did it and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.access.consent_items import ACCESS_ITEMS, CONSENT_ITEMS, ERASURE_WORKING_DAYS
from services.access.models import AccessApplication, Consent, ErasureTask
from services.access.service import AccessError
from services.calendar.service import add_working_days
from services.identity.models import Invite, Membership, PlatformAudit
from services.notifications.models import NotificationSetting
from services.runtime import Runtime
from services.structure.models import Guardianship, Person
from services.structure.names import full_name
from tenants.registry import SchoolRecord

ERASED_NAME = "(данные удалены)"


@dataclass(frozen=True, slots=True)
class ConsentChange:
    given: list[str]
    revoked: list[str]
    access_ended_accounts: list[int]
    erasure: ErasureTask | None
    signed_out_accounts: list[int] = field(default_factory=list)
    """Those of `access_ended_accounts` left with no school, whose sessions were ended."""


async def _guardian(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or person.kind != "guardian":
        raise AccessError("Родитель (законный представитель) не найден.", status_code=404)
    return person


async def consents(session: AsyncSession, person_id: int) -> list[Consent]:
    """Every consent row of the person, newest first (active and revoked)."""
    return list((await session.execute(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at.desc(), Consent.id.desc())
    )).scalars())


def item_problems(codes: Iterable[str]) -> list[str]:
    unknown = sorted(set(codes) - CONSENT_ITEMS.keys())
    return [f"Нет такого пункта в листе согласия: {', '.join(unknown)}."] if unknown else []


async def _end_access(session: AsyncSession, school: SchoolRecord, person_id: int, actor: str) -> list[int]:
    """Remove the person's memberships in the school and their unused invites; return the accounts to log out."""
    members = list((await session.execute(select(Membership).where(
        Membership.school_id == school.id, Membership.person_id == person_id).with_for_update())).scalars())
    for m in members:
        await session.delete(m)
    pending = list((await session.execute(select(Invite).where(
        Invite.school_id == school.id, Invite.person_id == person_id, Invite.used_at.is_(None)))).scalars())
    for invite in pending:
        await session.delete(invite)
    session.add(PlatformAudit(actor=actor, action="consent.revoked", school_id=school.id, detail={
        "person_id": person_id, "memberships_removed": [m.account_id for m in members],
        "invites_withdrawn": len(pending)}))
    return [m.account_id for m in members]


async def record(runtime: Runtime, school: SchoolRecord, person_id: int, *, given: Iterable[str],
                 revoked: Iterable[str] = (), actor_account_id: int) -> ConsentChange:
    """Record the sheet: items in `given` become given (if not already), items in `revoked` are revoked."""
    given, revoked = set(given), set(revoked)
    problems = item_problems(given | revoked)
    if given & revoked:
        problems.append("Один и тот же пункт нельзя одновременно дать и отозвать.")
    if problems:
        raise AccessError(*problems)
    now = datetime.now(UTC)
    today = school.today()
    actor = audit.Actor.account(actor_account_id)
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, actor)
        person = await _guardian(session, person_id)
        if person.last_name == ERASED_NAME:
            raise AccessError("Данные этого человека уничтожены после отзыва согласия.", status_code=409)
        active = {c.item_code: c for c in (await session.execute(select(Consent).where(
            Consent.person_id == person_id, Consent.revoked_at.is_(None)).with_for_update())).scalars()}
        added = sorted(given - active.keys(), key=_order)
        for code in added:
            session.add(Consent(person_id=person_id, item_code=code, given_at=now,
                                given_by_account_id=actor_account_id))
        gone = sorted(revoked & active.keys(), key=_order)
        for code in gone:
            active[code].revoked_at = now
            active[code].revoked_by_account_id = actor_account_id
        ended: list[int] = []
        task = None
        if ACCESS_ITEMS & set(gone):
            ended = await _end_access(session, school, person_id, actor.label)
            task = await session.scalar(select(ErasureTask).where(
                ErasureTask.person_id == person_id, ErasureTask.done_at.is_(None)))
            if task is None:
                task = ErasureTask(person_id=person_id, requested_on=today,
                                   due_on=await add_working_days(session, today, ERASURE_WORKING_DAYS),
                                   created_by_account_id=actor_account_id)
                session.add(task)
        await session.flush()
    # After the commit: the sessions end only once nothing can roll the revocation back, and only for accounts
    # left with no school — a parent with a child in another school stays signed in there.
    async with runtime.db.platform_session() as session:
        kept = set((await session.scalars(select(Membership.account_id).where(
            Membership.account_id.in_(ended)))).all()) if ended else set()
    signed_out = [a for a in ended if a not in kept]
    for account_id in signed_out:
        await runtime.sessions.destroy_all(account_id)
    return ConsentChange(added, gone, ended, task, signed_out)


async def revoke_all(runtime: Runtime, school: SchoolRecord, person_id: int, *,
                     actor_account_id: int) -> ConsentChange:
    """The written revocation of the whole consent: every active item, with all that follows."""
    async with runtime.db.school_session(school.schema) as session:
        active = set((await session.execute(select(Consent.item_code).where(
            Consent.person_id == person_id, Consent.revoked_at.is_(None)))).scalars())
    # Even with no items on record, a written revocation stops processing: revoke the access items too.
    return await record(runtime, school, person_id, given=(), revoked=active | ACCESS_ITEMS,
                        actor_account_id=actor_account_id)


def _order(code: str) -> tuple[int, ...]:
    return tuple(int(p) for p in code.split("."))


async def erasure_tasks(session: AsyncSession, *, open_only: bool = True) -> list[tuple[ErasureTask, str]]:
    query = select(ErasureTask, Person.last_name, Person.first_name, Person.middle_name).join(
        Person, Person.id == ErasureTask.person_id)
    if open_only:
        query = query.where(ErasureTask.done_at.is_(None))
    rows = (await session.execute(query.order_by(ErasureTask.due_on, ErasureTask.id).limit(500))).tuples()
    return [(t, full_name(last, first, middle)) for t, last, first, middle in rows]


PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date")
APPLICANT_FIELDS = ("applicant_name", "contact_email", "contact_phone", "documents")


async def carry_out(runtime: Runtime, school: SchoolRecord, task_id: int, *, actor_account_id: int) -> ErasureTask:
    """Destroy the person's data: the person record is anonymised (name, birth date), the guardianships removed,
    the applicant's name and contacts in their access applications erased; the task records who and when."""
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id))
        task = await session.get(ErasureTask, task_id, with_for_update=True)
        if task is None:
            raise AccessError("Задача на уничтожение данных не найдена.", status_code=404)
        if task.done_at is not None:
            raise AccessError("Данные уже уничтожены.", status_code=409)
        person = await session.get(Person, task.person_id, with_for_update=True)
        assert person is not None
        if await session.scalar(select(Membership.id).where(
                Membership.school_id == school.id, Membership.person_id == person.id).limit(1)) is not None:
            raise AccessError("У человека снова есть доступ к журналу: сначала разберитесь с согласием.",
                              status_code=409)
        person.last_name, person.first_name, person.middle_name, person.birth_date = ERASED_NAME, "", None, None
        links = list((await session.execute(select(Guardianship).where(
            Guardianship.guardian_id == person.id))).scalars())
        for link in links:
            await session.delete(link)
        apps = list((await session.execute(select(AccessApplication).where(
            AccessApplication.guardian_id == person.id))).scalars())
        for app in apps:
            app.applicant_name, app.contact_email, app.contact_phone = ERASED_NAME, None, None
            app.documents = ERASED_NAME
        setting = await session.get(NotificationSetting, person.id)
        if setting is not None:
            await session.delete(setting)
        await session.flush()
        # The audit log's earlier versions of these rows hold the same data: it goes there too.
        redacted = await audit.redact(session, "person", {"id": person.id}, PERSON_FIELDS)
        for app in apps:
            redacted += await audit.redact(session, "access_application", {"id": app.id}, APPLICANT_FIELDS)
        redacted += await audit.redact(session, "notification_setting", {"guardian_id": person.id}, ["email"])
        task.done_at = datetime.now(UTC)
        task.done_by_account_id = actor_account_id
        task.summary = (f"Обезличена запись о человеке; удалено связей с учениками: {len(links)}; "
                        f"обезличено заявлений на доступ: {len(apps)}; "
                        f"очищено записей журнала изменений: {redacted}.")
        await session.flush()
        return task


def is_overdue(task: ErasureTask, today: date) -> bool:
    return task.done_at is None and today > task.due_on
