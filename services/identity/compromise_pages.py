"""The administrator's page for a compromised account (R-SEC-3): record T, see every change since, undo."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from sqlalchemy import select

from services.identity import compromise
from services.identity.models import Account
from services.identity.policy import Principal, needs, provide_principal
from services.identity.service import IdentityError
from services.runtime import Runtime, provide_runtime
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
ACTIONS = {"insert": "добавлено", "update": "изменено", "delete": "удалено"}


def _short(values: dict[str, Any] | None) -> str:
    return "—" if not values else json.dumps(values, ensure_ascii=False, default=str)[:200]


async def _page(runtime: Runtime, school: SchoolRecord, account_id: int, status_code: int = 200,
                **context: Any) -> Template:
    async with runtime.db.platform_session() as session:
        login = await session.scalar(select(Account.login).where(Account.id == account_id))
    since = await compromise.compromised_since(runtime, account_id)
    zone = ZoneInfo(school.time_zone)
    changes = []
    if since is not None:
        for c in await compromise.changes(runtime, school, account_id, since):
            changes.append({"id": c.id, "at_text": c.at.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
                            "action": ACTIONS.get(c.action, c.action), "entity": c.entity,
                            "key": ", ".join(f"{k}={v}" for k, v in c.entity_key.items()),
                            "before": _short(c.before), "after": _short(c.after), "reverted_by": c.reverted_by})
    local = since.astimezone(zone) if since else school.now()
    return Template("identity/compromise.html", status_code=status_code, context={
        "school": school, "account_id": account_id, "login": login or f"#{account_id}", "since": since,
        "since_text": local.strftime("%d.%m.%Y %H:%M"), "since_value": local.strftime("%Y-%m-%dT%H:%M"),
        "changes": changes, **context})


class CompromisePages(Controller):
    path = "/s/{school_slug:str}/admin/compromise"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False),
                    "runtime": Provide(provide_runtime, sync_to_thread=False)}

    @get("/{account_id:int}", opt=needs("compromise.manage"))
    async def show(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                   runtime: NamedDependency[Runtime]) -> Template:
        return await _page(runtime, school, account_id)

    @post("/{account_id:int}", opt=needs("compromise.manage"), status_code=200)
    async def record(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal], data: Form) -> Template:
        try:
            since = datetime.fromisoformat(str(data.get("since", ""))).replace(tzinfo=ZoneInfo(school.time_zone))
            await compromise.mark_compromised(runtime, account_id=account_id, since=since,
                                              actor_account_id=principal.account_id, school_id=school.id)
        except ValueError as exc:
            messages = exc.messages if isinstance(exc, IdentityError) else ["Укажите дату и время."]
            return await _page(runtime, school, account_id, status_code=422, errors=messages)
        return await _page(runtime, school, account_id, done="Компрометация зафиксирована: сеансы завершены, "
                                                             "при входе потребуется новый пароль.")

    @post("/{account_id:int}/revert/{entry_id:int}", opt=needs("compromise.manage"), status_code=200)
    async def revert(self, account_id: FromPath[int], entry_id: FromPath[int], school: NamedDependency[SchoolRecord],
                     runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Template:
        try:
            await compromise.revert_one(runtime, school, entry_id, principal.account_id)
        except IdentityError as exc:
            return await _page(runtime, school, account_id, status_code=409, errors=exc.messages)
        return await _page(runtime, school, account_id, done="Изменение отменено.")

    @post("/{account_id:int}/revert-all", opt=needs("compromise.manage"), status_code=200)
    async def revert_all(self, account_id: FromPath[int], school: NamedDependency[SchoolRecord],
                         runtime: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Template:
        since = await compromise.compromised_since(runtime, account_id)
        if since is None:
            return await _page(runtime, school, account_id, status_code=422,
                               errors=["Сначала зафиксируйте момент компрометации."])
        report = await compromise.revert_everything(runtime, school, account_id, since, principal.account_id)
        return await _page(runtime, school, account_id, done=f"Отменено изменений: {len(report.reverted)}.",
                           errors=[c.message_ru for c in report.conflicts])
