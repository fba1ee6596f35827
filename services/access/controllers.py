"""The API of parent access (R-DRY-4) and consents (R-SEC-5) under /api/v1/schools/{slug}."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from litestar import Controller, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.access import consent as consents
from services.access import service
from services.access.consent_items import CONSENT_ITEMS
from services.access.models import AccessApplication, Consent, ErasureTask
from services.identity.policy import Principal, needs, provide_principal
from services.runtime import Runtime
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

_DEPENDENCIES = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}


class ApplicationIn(msgspec.Struct, frozen=True):
    applicant_name: str
    child_name: str
    child_class: str
    child_birth_date: date
    relationship: str
    documents: str
    contact_email: str = ""
    contact_phone: str = ""


class ApplicationOut(msgspec.Struct, frozen=True):
    id: int
    number: str
    source: str
    applicant_name: str
    child_name: str
    child_class: str
    child_birth_date: date
    relationship: str
    registered_on: date
    due_on: date
    overdue: bool
    status: str
    refusal_reason: str | None
    refusal_reason_text: str | None
    answer_text: str | None
    student_id: int | None
    guardian_id: int | None
    decided_at: datetime | None
    decided_by_account_id: int | None
    invite_code: str | None = None


class ApproveIn(msgspec.Struct, frozen=True):
    student_id: int
    guardian_id: int | None = None


class RefuseIn(msgspec.Struct, frozen=True):
    reason: str
    answer: str


class ConsentIn(msgspec.Struct, frozen=True):
    given: list[str] = []
    revoked: list[str] = []


class ConsentItemOut(msgspec.Struct, frozen=True):
    code: str
    text: str
    given_at: datetime
    given_by_account_id: int | None
    revoked_at: datetime | None
    revoked_by_account_id: int | None


class ErasureOut(msgspec.Struct, frozen=True):
    id: int
    person_id: int
    requested_on: date
    due_on: date
    overdue: bool
    done_at: datetime | None
    done_by_account_id: int | None
    summary: str | None


class ConsentChangeOut(msgspec.Struct, frozen=True):
    given: list[str]
    revoked: list[str]
    access_ended_accounts: list[int]
    erasure: ErasureOut | None
    signed_out_accounts: list[int]


def _app_out(app: AccessApplication, today: date, code: str | None = None) -> ApplicationOut:
    return ApplicationOut(
        app.id, str(app.id), app.source, app.applicant_name, app.child_name, app.child_class, app.child_birth_date,
        app.relationship, app.registered_on, app.due_on, service.is_overdue(app, today), app.status,
        app.refusal_reason, service.REFUSAL_REASONS.get(app.refusal_reason or ""), app.answer_text, app.student_id,
        app.guardian_id, app.decided_at, app.decided_by_account_id, code)


def _erasure_out(t: ErasureTask, today: date) -> ErasureOut:
    return ErasureOut(t.id, t.person_id, t.requested_on, t.due_on, consents.is_overdue(t, today), t.done_at,
                      t.done_by_account_id, t.summary)


def _consent_out(c: Consent) -> ConsentItemOut:
    return ConsentItemOut(c.item_code, CONSENT_ITEMS.get(c.item_code, ""), c.given_at, c.given_by_account_id,
                          c.revoked_at, c.revoked_by_account_id)


class AccessController(Controller):
    path = "/api/v1/schools/{school_slug:str}"
    tags = ["access"]
    dependencies = _DEPENDENCIES

    @get("/access/applications", opt=needs("access.manage"), summary="Access applications (open ones first)")
    async def list_applications(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                                open_only: FromQuery[bool] = False) -> list[ApplicationOut]:
        today = school.today()
        found = await service.applications(session, open_only=open_only)
        return [_app_out(a, today) for a in found]

    @post("/access/applications", opt=needs("access.manage"), status_code=201,
          summary="Register a paper application")
    async def register(self, school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime],
                       principal: NamedDependency[Principal], data: JSONBody[ApplicationIn]) -> ApplicationOut:
        app = await service.register(runtime, school, service.ApplicationDraft(
            data.applicant_name.strip(), data.contact_email.strip(), data.contact_phone.strip(),
            data.child_name.strip(), data.child_class.strip(), data.child_birth_date, data.relationship.strip(),
            data.documents.strip()), source="paper", actor_account_id=principal.account_id)
        return _app_out(app, school.today())

    @get("/access/applications/{app_id:int}", opt=needs("access.manage"), summary="One application")
    async def get_application(self, app_id: FromPath[int], school: NamedDependency[SchoolRecord],
                              session: NamedDependency[AsyncSession]) -> ApplicationOut:
        return _app_out(await service.application(session, app_id), school.today())

    @post("/access/applications/{app_id:int}/approve", opt=needs("access.manage"), status_code=200,
          summary="Grant access: link the guardian and issue a parent invite code (shown once)",
          response_headers={"Cache-Control": "no-store"})
    async def approve(self, app_id: FromPath[int], school: NamedDependency[SchoolRecord],
                      runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                      data: JSONBody[ApproveIn]) -> ApplicationOut:
        decision = await service.approve(runtime, school, app_id, student_id=data.student_id,
                                         guardian_id=data.guardian_id, actor_account_id=principal.account_id)
        return _app_out(decision.application, school.today(), decision.code)

    @post("/access/applications/{app_id:int}/refuse", opt=needs("access.manage"), status_code=200,
          summary="Refuse for one of the listed reasons with a written answer")
    async def refuse(self, app_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                     data: JSONBody[RefuseIn]) -> ApplicationOut:
        decision = await service.refuse(runtime, school, app_id, reason=data.reason, answer=data.answer,
                                        actor_account_id=principal.account_id)
        return _app_out(decision.application, school.today())

    @get("/consents/{person_id:int}", opt=needs("access.manage"), summary="A guardian's consent items, history")
    async def get_consents(self, person_id: FromPath[int],
                           session: NamedDependency[AsyncSession]) -> list[ConsentItemOut]:
        return [_consent_out(c) for c in await consents.consents(session, person_id)]

    @put("/consents/{person_id:int}", opt=needs("access.manage"), summary="Give and revoke consent items")
    async def put_consents(self, person_id: FromPath[int], school: NamedDependency[SchoolRecord],
                           runtime: NamedDependency[Runtime], principal: NamedDependency[Principal],
                           data: JSONBody[ConsentIn]) -> ConsentChangeOut:
        change = await consents.record(runtime, school, person_id, given=data.given, revoked=data.revoked,
                                       actor_account_id=principal.account_id)
        return _change_out(change, school.today())

    @post("/consents/{person_id:int}/revoke", opt=needs("access.manage"), status_code=200,
          summary="Revoke the whole consent: access ends, erasure is scheduled")
    async def revoke_all(self, person_id: FromPath[int], school: NamedDependency[SchoolRecord],
                         runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> ConsentChangeOut:
        change = await consents.revoke_all(runtime, school, person_id, actor_account_id=principal.account_id)
        return _change_out(change, school.today())

    @get("/erasures", opt=needs("access.manage"), summary="Erasure tasks (open ones unless all=true)")
    async def erasures(self, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                       all: FromQuery[bool] = False) -> list[ErasureOut]:
        today = school.today()
        return [_erasure_out(t, today) for t, _ in await consents.erasure_tasks(session, open_only=not all)]

    @post("/erasures/{task_id:int}/done", opt=needs("access.manage"), status_code=200,
          summary="Carry out an erasure: anonymise the person's data and record it")
    async def erase(self, task_id: FromPath[int], school: NamedDependency[SchoolRecord],
                    runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> ErasureOut:
        task = await consents.carry_out(runtime, school, task_id, actor_account_id=principal.account_id)
        return _erasure_out(task, school.today())


def _change_out(change: consents.ConsentChange, today: date) -> ConsentChangeOut:
    return ConsentChangeOut(change.given, change.revoked, change.access_ended_accounts,
                            _erasure_out(change.erasure, today) if change.erasure else None,
                            change.signed_out_accounts)
