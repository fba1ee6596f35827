"""The support queue (R-COM-4): support requests from signed-in members and password-recovery requests from
anyone. The answer to a password-recovery request never says whether the login exists; the administrator sees
whether it names a member of the school and can give that member a temporary password with the existing reset
(services/identity/members.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.errors import RuleError
from services.identity import members
from services.identity.models import Account, Membership
from services.identity.service import normal_login
from services.runtime import Runtime
from services.support.models import SupportRequest
from tenants.registry import SchoolRecord

STATUS_TITLES = {"new": "новое", "in_progress": "в работе", "done": "выполнено"}
KIND_TITLES = {"support": "Обращение", "password": "Восстановление пароля"}
_NEXT = {"new": {"in_progress", "done"}, "in_progress": {"done"}, "done": set()}
RECOVERY_SUBJECT = "Восстановление пароля"
RECOVERY_ANSWER = (
    "Запрос принят. Если такой пользователь есть в школе, администратор журнала свяжется с вами "
    "по указанному контакту и выдаст временный пароль лично.")


class SupportError(RuleError):
    problem_type = "/problems/support"


@dataclass(frozen=True, slots=True)
class QueueItem:
    request: SupportRequest
    login: str | None
    """The login of the account behind the request (the filer, or the member a password request names)."""


async def file_support(runtime: Runtime, school: SchoolRecord, *, account_id: int, subject: str,
                       body: str) -> SupportRequest:
    subject, body = subject.strip(), body.strip()
    problems = []
    if not subject or len(subject) > 200:
        problems.append("Тема обращения: от 1 до 200 символов.")
    if not body or len(body) > 4000:
        problems.append("Опишите вопрос: от 1 до 4000 символов.")
    if problems:
        raise SupportError(*problems)
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(account_id))
        request = SupportRequest(kind="support", status="new", subject=subject, body=body, account_id=account_id)
        session.add(request)
        await session.flush()
        return request


async def file_password_request(runtime: Runtime, school: SchoolRecord, *, login: str, name: str,
                                contact: str) -> None:
    """Queue a password-recovery request. Returns nothing on purpose: the caller's answer must be the same
    whether or not the login names a member of the school."""
    login, name, contact = login.strip(), name.strip(), contact.strip()
    problems = []
    if not login and not name:
        problems.append("Укажите логин или фамилию и имя.")
    if not contact:
        problems.append("Укажите, как с вами связаться: телефон или электронную почту.")
    if len(login) > 100 or len(name) > 300 or len(contact) > 254:
        problems.append("Слишком длинный текст в одном из полей.")
    if problems:
        raise SupportError(*problems)
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.system("password-form"))
        account_id = None
        if login:
            account_id = await session.scalar(
                select(Account.id).join(Membership, Membership.account_id == Account.id)
                .where(Account.login == normal_login(login), Membership.school_id == school.id))
        body = "\n".join(p for p in (f"Логин: {login}" if login else "", f"Имя: {name}" if name else "",
                                     f"Связь: {contact}") if p)
        session.add(SupportRequest(kind="password", status="new", subject=RECOVERY_SUBJECT, body=body,
                                   account_id=account_id, login_given=login or None, name_given=name or None,
                                   contact=contact))


async def queue(session: AsyncSession, *, include_done: bool = True) -> list[QueueItem]:
    query = select(SupportRequest, Account.login).outerjoin(Account, Account.id == SupportRequest.account_id)
    if not include_done:
        query = query.where(SupportRequest.status != "done")
    rows = (await session.execute(query.order_by(SupportRequest.status == "done", SupportRequest.id.desc())
                                  .limit(300))).tuples()
    return [QueueItem(r, login) for r, login in rows]


async def own_requests(session: AsyncSession, account_id: int) -> list[SupportRequest]:
    return list((await session.execute(select(SupportRequest).where(
        SupportRequest.kind == "support", SupportRequest.account_id == account_id)
        .order_by(SupportRequest.id.desc()).limit(100))).scalars())


async def handle(runtime: Runtime, school: SchoolRecord, request_id: int, *, status: str, answer: str,
                 actor_account_id: int) -> SupportRequest:
    """Move a request along new → in progress → done, with the answer (required to close it)."""
    answer = answer.strip()
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id))
        request = await session.get(SupportRequest, request_id, with_for_update=True)
        if request is None:
            raise SupportError("Обращение не найдено.", status_code=404)
        problems = []
        if status not in STATUS_TITLES:
            problems.append("Неизвестное состояние обращения.")
        elif status != request.status and status not in _NEXT[request.status]:
            problems.append(f"Обращение «{STATUS_TITLES[request.status]}» нельзя перевести в состояние "
                            f"«{STATUS_TITLES[status]}».")
        if status == "done" and not (answer or request.answer):
            problems.append("Напишите ответ, чтобы закрыть обращение.")
        if len(answer) > 4000:
            problems.append("Ответ: не больше 4000 символов.")
        if problems:
            raise SupportError(*problems, status_code=409 if status in STATUS_TITLES else 422)
        request.status = status
        if answer:
            request.answer = answer
        request.handled_by_account_id = actor_account_id
        request.updated_at = datetime.now(UTC)
        await session.flush()
        return request


async def reset_password(runtime: Runtime, school: SchoolRecord, request_id: int, *,
                         actor_account_id: int) -> tuple[SupportRequest, str, str]:
    """The administrator's password reset for the member a password request names; returns (request, login,
    temporary password). The reset itself is the identity service's own."""
    async with runtime.db.school_session(school.schema) as session:
        request = await session.get(SupportRequest, request_id)
        login = None
        if request is not None and request.account_id is not None:
            login = await session.scalar(select(Account.login).where(Account.id == request.account_id))
    if request is None:
        raise SupportError("Обращение не найдено.", status_code=404)
    if request.kind != "password" or request.account_id is None or login is None:
        raise SupportError("Этот запрос не называет пользователя школы: сбросить пароль некому.", status_code=409)
    password = await members.reset_member_password(runtime, school=school, account_id=request.account_id,
                                                   actor_account_id=actor_account_id)
    async with runtime.db.transaction(school.schema) as session:
        audit.set_actor(session, audit.Actor.account(actor_account_id))
        found = await session.get(SupportRequest, request_id, with_for_update=True)
        assert found is not None
        found.password_reset_at = datetime.now(UTC)
        found.handled_by_account_id = actor_account_id
        found.updated_at = found.password_reset_at
        if found.status == "new":
            found.status = "in_progress"
        await session.flush()
        return found, login, password
