"""Notifications API and pages for parents (R-COM-2): their settings and their inbox.

API under /api/v1/schools/{school}/notifications, pages under /s/{school}/notifications. Permission
`diary.read_own`; only a parent with a person record in the school has settings, and there is no id in the URL
to reach anyone else's: a parent reads and edits their own only.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import OutOfScope, rule_problem
from services.identity.policy import Principal, needs, provide_principal
from services.notifications import service
from services.notifications.models import FREQUENCIES, Notification, NotificationSetting
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

READ_OWN = needs("diary.read_own")
NO_STORE = {"Cache-Control": "no-store"}
_PRINCIPAL = {"principal": Provide(provide_principal, sync_to_thread=False)}
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def own_guardian(principal: Principal) -> int:
    """The parent's own person id; anyone else gets out-of-scope (students have no notification settings)."""
    if "parent" not in principal.roles or principal.person_id is None:
        raise OutOfScope("Уведомления об отметках и посещаемости настраивают родители — для своих детей.")
    return principal.person_id


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    email_frequency: str
    inapp_frequency: str
    email: str | None = None
    consent: bool = False
    quiet_from: str | None = None
    """HH:MM, school time."""
    quiet_to: str | None = None


class SettingsOut(msgspec.Struct):
    email: str | None
    email_consent_at: datetime | None
    email_frequency: str
    inapp_frequency: str
    quiet_from: str | None
    quiet_to: str | None
    time_zone: str
    frequencies: list[str]


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    student_id: int
    title: str
    body: str
    at: datetime
    read: bool


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value else None


def settings_out(row: NotificationSetting, school: SchoolRecord) -> SettingsOut:
    return SettingsOut(row.email, row.email_consent_at, row.email_frequency, row.inapp_frequency,
                       _hhmm(row.quiet_from), _hhmm(row.quiet_to), school.time_zone, list(FREQUENCIES))


def notification_out(row: Notification) -> NotificationOut:
    return NotificationOut(row.id, row.kind, row.student_id, row.title, row.body, row.show_at, row.read_at is not None)


def _time(raw: str | None, what: str) -> time | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise service.NotificationError(f"{what}: время в виде ЧЧ:ММ, например 22:00.") from None


def draft_of(data: SettingsIn) -> service.SettingsDraft:
    return service.SettingsDraft(
        email=service.clean_email(data.email), consent=data.consent, email_frequency=data.email_frequency,
        inapp_frequency=data.inapp_frequency, quiet_from=_time(data.quiet_from, "Начало тихих часов"),
        quiet_to=_time(data.quiet_to, "Конец тихих часов"))


class NotificationController(Controller):
    path = "/api/v1/schools/{school_slug:str}/notifications"
    tags = ["notifications"]
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/settings", opt=READ_OWN, summary="The parent's own notification settings (defaults if never saved)")
    async def get_settings(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                           school: NamedDependency[SchoolRecord]) -> Response[SettingsOut]:
        row = await service.get_setting(session, own_guardian(principal))
        return Response(settings_out(row, school), headers=NO_STORE)

    @put("/settings", opt=READ_OWN,
         summary="Save the parent's settings: e-mail (with consent), frequency per channel, quiet hours")
    async def put_settings(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                           school: NamedDependency[SchoolRecord], data: JSONBody[SettingsIn]) -> Response[SettingsOut]:
        guardian_id = own_guardian(principal)
        try:
            row = await service.save_setting(session, guardian_id, draft_of(data), datetime.now(UTC))
        except service.NotificationError as exc:
            raise rule_problem(exc) from exc
        return Response(settings_out(row, school), headers=NO_STORE)

    @get("/inbox", opt=READ_OWN, summary="The parent's notifications, newest first")
    async def get_inbox(self, *, session: NamedDependency[AsyncSession],
                        principal: NamedDependency[Principal]) -> Response[list[NotificationOut]]:
        rows = await service.inbox(session, own_guardian(principal), now=datetime.now(UTC))
        return Response([notification_out(r) for r in rows], headers=NO_STORE)

    @post("/inbox/{notification_id:int}/read", opt=READ_OWN, status_code=204, summary="Mark a notification read")
    async def read(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                   notification_id: FromPath[int]) -> None:
        if not await service.mark_read(session, own_guardian(principal), notification_id, now=datetime.now(UTC)):
            raise NotFoundException("Уведомление не найдено.")


def _form_settings(data: dict[str, Any]) -> SettingsIn:
    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value is not None else None

    return SettingsIn(email_frequency=text("email_frequency") or "off",
                      inapp_frequency=text("inapp_frequency") or "off", email=text("email"),
                      consent=data.get("consent") in ("1", "on", "true"),
                      quiet_from=text("quiet_from"), quiet_to=text("quiet_to"))


class NotificationPages(Controller):
    path = "/s/{school_slug:str}/notifications"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, **_PRINCIPAL}

    @get("/", opt=READ_OWN)
    async def settings_page(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                            school: NamedDependency[SchoolRecord], saved: FromQuery[str | None] = None) -> Template:
        row = await service.get_setting(session, own_guardian(principal))
        return _settings_template(school, settings_out(row, school), saved=bool(saved))

    @post("/", opt=READ_OWN)
    async def save_page(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                        school: NamedDependency[SchoolRecord], data: Form) -> Response[Any]:
        guardian_id = own_guardian(principal)
        form = _form_settings(data)
        try:
            await service.save_setting(session, guardian_id, draft_of(form), datetime.now(UTC))
        except service.NotificationError as exc:
            await session.rollback()
            shown = SettingsOut(form.email, None, form.email_frequency, form.inapp_frequency, form.quiet_from,
                                form.quiet_to, school.time_zone, list(FREQUENCIES))
            return _settings_template(school, shown, errors=exc.messages, consent=form.consent, status_code=422)
        return Redirect(f"/s/{school.slug}/notifications/?saved=1", status_code=303)

    @get("/inbox", opt=READ_OWN)
    async def inbox_page(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                         school: NamedDependency[SchoolRecord]) -> Template:
        rows = await service.inbox(session, own_guardian(principal), now=datetime.now(UTC))
        return Template("notifications/inbox.html", headers=NO_STORE, context={
            "school": school, "items": rows, "zone": school.time_zone,
            "local": lambda moment: moment.astimezone(school.now().tzinfo).strftime("%d.%m.%Y %H:%M")})

    @post("/inbox/{notification_id:int}/read", opt=READ_OWN)
    async def read_page(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                        school: NamedDependency[SchoolRecord], notification_id: FromPath[int]) -> Redirect:
        if not await service.mark_read(session, own_guardian(principal), notification_id, now=datetime.now(UTC)):
            raise NotFoundException("Уведомление не найдено.")
        return Redirect(f"/s/{school.slug}/notifications/inbox", status_code=303)


def _settings_template(school: SchoolRecord, current: SettingsOut, *, saved: bool = False,
                       errors: list[str] | None = None, consent: bool | None = None,
                       status_code: int = 200) -> Template:
    return Template("notifications/settings.html", status_code=status_code, headers=NO_STORE, context={
        "school": school, "s": current, "saved": saved, "errors": errors or [],
        "consent": current.email_consent_at is not None if consent is None else consent,
        "labels": service.FREQUENCY_LABELS})
