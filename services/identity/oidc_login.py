"""Logging in through an OpenID Connect provider: the pending login between redirect and callback, the link
from (issuer, subject) to an account, and the first login that links through an invite code (R-PLT-3)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from services.identity import oidc
from services.identity.models import OidcLink, OidcProvider, PlatformAudit
from services.runtime import Runtime

PENDING_COOKIE = "journal_oidc"
PENDING_TTL_S = 10 * 60
CALLBACK_PATH = "/login/oidc/callback"


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """An identity the provider vouched for that no account is linked to yet."""

    provider_id: int
    issuer: str
    subject: str
    email: str | None


def callback_uri(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/") + CALLBACK_PATH


def _key(runtime: Runtime, token: str) -> str:
    return f"{runtime.settings.redis.namespace}:oidc-pending:{token}"


async def providers_for_login(runtime: Runtime) -> list[OidcProvider]:
    async with runtime.db.platform_session() as session:
        return list((await session.execute(select(OidcProvider).order_by(OidcProvider.name))).scalars())


async def start(runtime: Runtime, provider_id: int, next_path: str) -> tuple[str, str]:
    """(authorization URL, pending token for the cookie). The login state stays in Redis, not the browser."""
    async with runtime.db.platform_session() as session:
        provider = await session.get(OidcProvider, provider_id)
    if provider is None:
        raise oidc.OidcError("unknown provider", "Такой способ входа не настроен.")
    url, state = await oidc.begin_login(provider, callback_uri(runtime),
                                        allowed_hosts=runtime.settings.residency.allowed_hosts)
    token = secrets.token_urlsafe(24)
    pending = {"provider_id": provider_id, "state": state.to_json().decode(), "next": next_path}
    await runtime.redis.set(_key(runtime, token), json.dumps(pending), ex=PENDING_TTL_S)
    return url, token


async def finish(runtime: Runtime, token: str | None, params: dict[str, str]) -> tuple[int | None, ExternalIdentity,
                                                                                        str, str]:
    """Check the callback; return (linked account or None, identity, id token, where to go next).
    The pending state is deleted before it is checked, so a callback can be used only once."""
    raw = await runtime.redis.getdel(_key(runtime, token)) if token else None
    if raw is None:
        raise oidc.OidcError("no pending login", "Вход через внешний сервис не удался: начните вход заново.")
    pending = json.loads(raw)
    async with runtime.db.platform_session() as session:
        provider = await session.get(OidcProvider, pending["provider_id"])
    if provider is None:
        raise oidc.OidcError("provider removed", "Такой способ входа больше не настроен.")
    identity = await oidc.finish_login(provider, oidc.LoginState.from_json(pending["state"]), params,
                                       callback_uri(runtime), allowed_hosts=runtime.settings.residency.allowed_hosts)
    async with runtime.db.transaction() as session:
        account_id = await session.scalar(select(OidcLink.account_id).where(
            OidcLink.issuer == identity.issuer, OidcLink.subject == identity.subject))
        session.add(PlatformAudit(actor=f"account:{account_id}" if account_id else "anonymous",
                                  action="login.oidc" if account_id else "login.oidc_unlinked",
                                  detail={"provider_id": provider.id}))
    external = ExternalIdentity(provider.id, identity.issuer, identity.subject, identity.email)
    return account_id, external, identity.id_token, pending.get("next") or ""


async def remember_unlinked(runtime: Runtime, external: ExternalIdentity) -> str:
    """Keep a vouched-for identity for the invite-code step; returns the token for the cookie."""
    token = secrets.token_urlsafe(24)
    data = {"provider_id": external.provider_id, "issuer": external.issuer, "subject": external.subject,
            "email": external.email}
    await runtime.redis.set(_key(runtime, token), json.dumps({"external": data}), ex=PENDING_TTL_S)
    return token


async def unlinked(runtime: Runtime, token: str | None) -> ExternalIdentity | None:
    raw = await runtime.redis.get(_key(runtime, token)) if token else None
    if raw is None:
        return None
    data = json.loads(raw).get("external")
    return ExternalIdentity(**data) if data else None


async def forget(runtime: Runtime, token: str | None) -> None:
    if token:
        await runtime.redis.delete(_key(runtime, token))

