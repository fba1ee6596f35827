"""Pages of parent access (R-DRY-4) and consents (R-SEC-5): the public application form, the administrator's list
of applications with deadlines, the decision page, the consent sheets and the erasure tasks."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import consent as consents
from services.access import service
from services.access.consent_items import ACCESS_ITEMS, CONSENT_SECTIONS, ERASURE_WORKING_DAYS
from services.access.forms import TooManySubmissions, count_submission
from services.access.models import Consent
from services.identity.pages import Form, client_address
from services.identity.policy import PUBLIC, Principal, needs, provide_principal
from services.runtime import Runtime
from services.structure.models import Person
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

NO_STORE = {"Cache-Control": "no-store"}
_DEPENDENCIES = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}
_FIELDS = ("applicant_name", "contact_email", "contact_phone", "child_name", "child_class", "child_birth_date",
           "relationship", "documents")


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    return " ".join(str(value if isinstance(value, str) else (value or [""])[0]).split()) if key != "documents" \
        else str(value).strip()


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def draft_from_form(data: dict[str, Any]) -> service.ApplicationDraft:
    values = {k: _text(data, k) for k in _FIELDS}
    return service.ApplicationDraft(
        applicant_name=values["applicant_name"], contact_email=values["contact_email"],
        contact_phone=values["contact_phone"], child_name=values["child_name"], child_class=values["child_class"],
        child_birth_date=_date(values["child_birth_date"]), relationship=values["relationship"],
        documents=values["documents"])


class PublicAccessPages(Controller):
    """The parent's own application, on the school's public page (no login)."""

    path = "/s/{school_slug:str}/access/apply"
    include_in_schema = False
    dependencies = SCHOOL_DEPENDENCIES

    @get("/", opt=PUBLIC)
    async def form(self, school: NamedDependency[SchoolRecord]) -> Template:
        return Template("access/apply.html", context={"school": school, "form": {}})

    @post("/", opt=PUBLIC, status_code=200)
    async def submit(self, request: Request[Any, Any, Any], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], data: Form) -> Template:
        form = {k: _text(data, k) for k in _FIELDS}
        try:
            await count_submission(runtime, f"access-apply:{school.slug}", client_address(request))
            app = await service.register(runtime, school, draft_from_form(data), source="online",
                                         actor_account_id=None)
        except TooManySubmissions as exc:
            return Template("access/apply.html", status_code=429, context={
                "school": school, "form": form, "errors": exc.messages})
        except service.AccessError as exc:
            return Template("access/apply.html", status_code=exc.status_code, context={
                "school": school, "form": form, "errors": exc.messages})
        return Template("access/applied.html", headers=NO_STORE, context={
            "school": school, "app": app, "ru": service.ru, "reasons": service.REFUSAL_REASONS})


async def _list_page(session: AsyncSession, school: SchoolRecord, status_code: int = 200,
                     **context: Any) -> Template:
    today = school.today()
    return Template("access/list.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "today": today, "ru": service.ru,
        "open": await service.applications(session, open_only=True),
        "recent": [a for a in await service.applications(session, limit=50) if a.status != "open"],
        "overdue": lambda a: service.is_overdue(a, today), "reasons": service.REFUSAL_REASONS,
        "statuses": service.STATUS_TITLES, "sources": service.SOURCE_TITLES, "form": {}, **context})


async def _detail_page(session: AsyncSession, school: SchoolRecord, app_id: int, status_code: int = 200,
                       **context: Any) -> Template:
    app = await service.application(session, app_id)
    today = school.today()
    return Template("access/detail.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "app": app, "ru": service.ru, "overdue": service.is_overdue(app, today),
        "candidates": await service.candidates(session, app, today) if app.status == "open" else [],
        "reasons": service.REFUSAL_REASONS, "statuses": service.STATUS_TITLES, "sources": service.SOURCE_TITLES,
        **context})


class AccessPages(Controller):
    """The administrator's list of applications, registration of a paper one, and the decision."""

    path = "/s/{school_slug:str}/admin/access"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("access.manage"))
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _list_page(session, school)

    @post("/", opt=needs("access.manage"), status_code=200)
    async def register(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                       data: Form) -> Template:
        try:
            app = await service.register(runtime, school, draft_from_form(data), source="paper",
                                         actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _list_page(session, school, exc.status_code, errors=exc.messages,
                                    form={k: _text(data, k) for k in _FIELDS})
        done = f"Заявление зарегистрировано: № {app.id} от {service.ru(app.registered_on)}."
        if app.status == "refused":
            done += " Отказано автоматически: ученику исполнилось 18 лет."
        return await _list_page(session, school, done=done)

    @get("/{app_id:int}", opt=needs("access.manage"))
    async def detail(self, app_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     session: NamedDependency[AsyncSession]) -> Template:
        return await _detail_page(session, school, app_id)

    @post("/{app_id:int}/approve", opt=needs("access.manage"), status_code=200)
    async def approve(self, app_id: FromPath[int], *, school: NamedDependency[SchoolRecord],
                      session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                      principal: NamedDependency[Principal], data: Form) -> Template:
        try:
            student_id = int(str(data.get("student_id", "")))
        except ValueError:
            return await _detail_page(session, school, app_id, 422, errors=["Выберите ученика из списка."])
        raw_guardian = str(data.get("guardian_id", "")).strip()
        try:
            decision = await service.approve(runtime, school, app_id, student_id=student_id,
                                             guardian_id=int(raw_guardian) if raw_guardian.isdigit() else None,
                                             actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _detail_page(session, school, app_id, exc.status_code, errors=exc.messages)
        if decision.code is None:
            return await _detail_page(session, school, app_id,
                                      done="Отказано автоматически: ученику исполнилось 18 лет.")
        return await _detail_page(session, school, app_id, code=decision.code, valid_until=decision.valid_until,
                                  register_url=runtime.settings.public_url.rstrip("/") + "/register")

    @post("/{app_id:int}/refuse", opt=needs("access.manage"), status_code=200)
    async def refuse(self, app_id: FromPath[int], *, school: NamedDependency[SchoolRecord],
                     session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                     principal: NamedDependency[Principal], data: Form) -> Template:
        try:
            await service.refuse(runtime, school, app_id, reason=str(data.get("reason", "")),
                                 answer=str(data.get("answer", "")), actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _detail_page(session, school, app_id, exc.status_code, errors=exc.messages)
        return await _detail_page(session, school, app_id, done="Отказ записан.")


async def _consents_page(session: AsyncSession, school: SchoolRecord, status_code: int = 200,
                         **context: Any) -> Template:
    today = school.today()
    active = func.count(Consent.id).filter(Consent.revoked_at.is_(None))
    guardians = (await session.execute(
        select(Person.id, Person.last_name, Person.first_name, Person.middle_name, active)
        .outerjoin(Consent, Consent.person_id == Person.id).where(Person.kind == "guardian")
        .group_by(Person.id).order_by(Person.last_name, Person.first_name, Person.id).limit(2000))).all()
    return Template("access/consents.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "ru": service.ru, "guardians": guardians, "tasks": await consents.erasure_tasks(session),
        "done_tasks": [t for t in await consents.erasure_tasks(session, open_only=False) if t[0].done_at][:50],
        "overdue": lambda t: consents.is_overdue(t, today), "days": ERASURE_WORKING_DAYS, **context})


async def _sheet_page(session: AsyncSession, school: SchoolRecord, person_id: int, status_code: int = 200,
                      **context: Any) -> Template:
    person = await session.get(Person, person_id)
    if person is None or person.kind != "guardian":
        raise service.AccessError("Родитель (законный представитель) не найден.", status_code=404)
    rows = await consents.consents(session, person_id)
    return Template("access/consent_sheet.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "person": person, "sections": CONSENT_SECTIONS, "access_items": ACCESS_ITEMS,
        "active": {c.item_code: c for c in rows if c.revoked_at is None}, "history": rows,
        "name": person.full_name, **context})


class ConsentPages(Controller):
    """Consent sheets per guardian, revocation and the erasure tasks it opens."""

    path = "/s/{school_slug:str}/admin/consents"
    include_in_schema = False
    dependencies = _DEPENDENCIES

    @get("/", opt=needs("access.manage"))
    async def show(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _consents_page(session, school)

    @get("/{person_id:int}", opt=needs("access.manage"))
    async def sheet(self, person_id: FromPath[int], school: NamedDependency[SchoolRecord],
                    session: NamedDependency[AsyncSession]) -> Template:
        return await _sheet_page(session, school, person_id)

    @post("/{person_id:int}", opt=needs("access.manage"), status_code=200)
    async def save(self, person_id: FromPath[int], *, school: NamedDependency[SchoolRecord],
                   session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                   principal: NamedDependency[Principal], data: Form) -> Template:
        raw = data.get("item", [])
        ticked = {str(v) for v in ([raw] if isinstance(raw, str) else raw)}
        try:
            async with runtime.db.school_session(school.schema) as read:
                active = {c.item_code for c in await consents.consents(read, person_id) if c.revoked_at is None}
            change = await consents.record(runtime, school, person_id, given=ticked, revoked=active - ticked,
                                           actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _sheet_page(session, school, person_id, exc.status_code, errors=exc.messages)
        return await _sheet_page(session, school, person_id, done=_change_text(change))

    @post("/{person_id:int}/revoke", opt=needs("access.manage"), status_code=200)
    async def revoke(self, person_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                     principal: NamedDependency[Principal]) -> Template:
        try:
            change = await consents.revoke_all(runtime, school, person_id, actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _sheet_page(session, school, person_id, exc.status_code, errors=exc.messages)
        return await _sheet_page(session, school, person_id, done=_change_text(change))

    @post("/erasures/{task_id:int}/done", opt=needs("access.manage"), status_code=200)
    async def erase(self, task_id: FromPath[int], school: NamedDependency[SchoolRecord],
                    session: NamedDependency[AsyncSession], runtime: NamedDependency[Runtime],
                    principal: NamedDependency[Principal]) -> Template:
        try:
            task = await consents.carry_out(runtime, school, task_id, actor_account_id=principal.account_id)
        except service.AccessError as exc:
            return await _consents_page(session, school, exc.status_code, errors=exc.messages)
        return await _consents_page(session, school, done=f"Данные уничтожены. {task.summary}")


def _change_text(change: consents.ConsentChange) -> str:
    parts = []
    if change.given:
        parts.append("Согласие записано: " + ", ".join(change.given) + ".")
    if change.revoked:
        parts.append("Согласие отозвано: " + ", ".join(change.revoked) + ".")
    if change.erasure is not None:
        parts.append(f"Доступ к журналу прекращён; данные должны быть уничтожены до "
                     f"{service.ru(change.erasure.due_on)}.")
    return " ".join(parts) or "Изменений нет."
