"""Account rules: password login, password change and reset, registration with an invite code."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.identity.models import Account, Invite, Membership, OidcLink, PlatformAudit
from services.identity.passwords import hash_password, needs_rehash, policy_problems, verify_password
from services.runtime import Runtime
from tenants.provisioning import invite_code_hash

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,99}$")


class IdentityError(RuleError):
    """A request about an account that cannot be carried out."""

    problem_type = "/problems/identity"
    default_status = 400


@dataclass(frozen=True, slots=True)
class LoginResult:
    session_id: str
    account: Account


def normal_login(login: str) -> str:
    return login.strip().lower()


async def _audit(session: AsyncSession, actor: str, action: str, school_id: int | None = None,
                 **detail: object) -> None:
    session.add(PlatformAudit(actor=actor, action=action, school_id=school_id, detail=detail))


async def password_login(runtime: Runtime, login: str, password: str, address: str) -> LoginResult:
    """Check a login and password with brute-force protection; start a session on success."""
    login = normal_login(login)
    wait = await runtime.throttle.locked_for(login, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        raise IdentityError(f"Слишком много неудачных попыток. Повторите через {minutes} мин.", status_code=429)
    await asyncio.sleep(await runtime.throttle.delay_for(login))
    async with runtime.db.transaction() as session:
        account = (await session.execute(select(Account).where(Account.login == login))).scalar_one_or_none()
        ok = await verify_password(account.password_hash if account else None, password)
        if not ok or account is None or account.disabled_at is not None:
            await runtime.throttle.failed(login, address)
            # No login text in the audit: a mistyped password in the login field would end up stored.
            await _audit(session, "anonymous", "login.failed", account_id=account.id if account else None)
        else:
            if account.password_hash and needs_rehash(account.password_hash):
                account.password_hash = await hash_password(password)
            await _audit(session, f"account:{account.id}", "login.password")
    if not ok or account is None or account.disabled_at is not None:
        raise IdentityError("Неверный логин или пароль.", status_code=401)
    await runtime.throttle.succeeded(login, address)
    return LoginResult(await runtime.sessions.create(account.id), account)


async def change_password(runtime: Runtime, account_id: int, current: str, new: str) -> None:
    """Change one's own password; every session of the account ends (the caller opens a new one)."""
    async with runtime.db.transaction() as session:
        account = await session.get(Account, account_id, with_for_update=True)
        if account is None:
            raise IdentityError("Учётная запись не найдена.", status_code=404)
        if not await verify_password(account.password_hash, current):
            raise IdentityError("Текущий пароль указан неверно.")
        problems = policy_problems(new, account.login)
        if problems:
            raise IdentityError(*problems)
        account.password_hash = await hash_password(new)
        account.password_changed_at = datetime.now(UTC)
        account.must_change_password = False
        await _audit(session, f"account:{account_id}", "password.changed")
    # Every session ends, the current one too: the caller starts a fresh one for the person at the keyboard.
    await runtime.sessions.destroy_all(account_id)


def temporary_password() -> str:
    """A one-time password an administrator hands over; it must be changed at first login."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(12))
        if not policy_problems(candidate):
            return candidate


async def reset_password(runtime: Runtime, *, school_id: int, account_id: int, actor_account_id: int) -> str:
    """An administrator resets a member's password: a temporary one, to be changed at next login."""
    password = temporary_password()
    async with runtime.db.transaction() as session:
        member = await session.scalar(
            select(Membership.id).where(Membership.account_id == account_id, Membership.school_id == school_id)
        )
        if member is None:
            raise IdentityError("Пользователь не состоит в этой школе.", status_code=404)
        await session.execute(
            update(Account).where(Account.id == account_id).values(
                password_hash=await hash_password(password), must_change_password=True,
                password_changed_at=datetime.now(UTC),
            )
        )
        await _audit(session, f"account:{actor_account_id}", "password.reset", school_id, account_id=account_id)
    await runtime.sessions.destroy_all(account_id)
    return password


async def register_with_invite(
    runtime: Runtime, *, code: str, login: str | None, password: str | None, signed_in_account: int | None,
    external: tuple[str, str] | None = None,
) -> tuple[int, int]:
    """Use an invite code: link its role (and person) in its school to the signed-in account, or to a new
    account — made from `login` and `password`, or, after a first OpenID Connect login, linked to that
    (issuer, subject) without a password. Returns (account id, school id)."""
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        invite = (await session.execute(
            select(Invite).where(Invite.code_hash == invite_code_hash(code)).with_for_update()
        )).scalar_one_or_none()
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            raise IdentityError("Код не найден, уже использован или срок его действия истёк.")
        if signed_in_account is not None:
            account_id = signed_in_account
        elif external is not None:
            account_id = await _new_external_account(session, *external)
        else:
            account_id = await _new_account(session, login or "", password or "")
        membership = (await session.execute(
            select(Membership).where(Membership.account_id == account_id, Membership.school_id == invite.school_id)
            .with_for_update()
        )).scalar_one_or_none()
        if membership is None:
            session.add(Membership(account_id=account_id, school_id=invite.school_id, person_id=invite.person_id,
                                   roles=[invite.role]))
        else:
            if invite.person_id is not None and membership.person_id not in (None, invite.person_id):
                raise IdentityError("Эта учётная запись уже связана с другим человеком в этой школе.")
            membership.roles = sorted({*membership.roles, invite.role})
            membership.person_id = membership.person_id or invite.person_id
        invite.used_at = now
        invite.used_by_account_id = account_id
        await _audit(session, f"account:{account_id}", "invite.used", invite.school_id, role=invite.role)
        return account_id, invite.school_id


async def _new_external_account(session: AsyncSession, issuer: str, subject: str) -> int:
    """An account that logs in only through its provider; its login is made up, never shown as a name."""
    if await session.scalar(select(OidcLink.id).where(OidcLink.issuer == issuer, OidcLink.subject == subject)):
        raise IdentityError("Эта внешняя учётная запись уже связана с учётной записью журнала. Войдите заново.")
    account = Account(login=f"ext-{secrets.token_hex(6)}", password_hash=None, platform_roles=[])
    session.add(account)
    await session.flush()
    session.add(OidcLink(account_id=account.id, issuer=issuer, subject=subject))
    return account.id


async def _new_account(session: AsyncSession, login: str, password: str) -> int:
    login = normal_login(login)
    problems = []
    if not LOGIN_RE.fullmatch(login):
        problems.append("Логин: от 3 до 100 латинских букв, цифр, точек, дефисов или подчёркиваний.")
    problems += policy_problems(password, login)
    if problems:
        raise IdentityError(*problems)
    if await session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise IdentityError("Такой логин уже занят. Если это ваша учётная запись, войдите и введите код снова.")
    account = Account(login=login, password_hash=await hash_password(password), platform_roles=[],
                      password_changed_at=datetime.now(UTC))
    session.add(account)
    await session.flush()
    return account.id
