"""OpenID Connect login against any configured provider (R-PLT-3), through Authlib.

The flow is the authorization code flow with PKCE (S256), `state` and `nonce`:

1. `begin_login` discovers the provider, makes a fresh state, nonce and code verifier, and returns the
   authorization URL to redirect the browser to together with a `LoginState`. The caller keeps the
   LoginState server-side (in the session), never in the browser.
2. The provider redirects back to the redirect URI. `finish_login` checks the state (constant time), the
   `iss` of the response (RFC 9207), exchanges the code with the code verifier at the token endpoint,
   validates the ID token's signature against the provider's JWKS, its iss, aud, azp, exp, iat and nonce,
   and returns an `OidcIdentity` (issuer + subject: what `OidcLink` stores).
3. `logout_url` gives the provider's RP-initiated logout URL, when it advertises one.

Authlib does the protocol pieces: discovery metadata validation, the authorization URL, PKCE, client
authentication at the token endpoint and the ID token claim rules; joserfc (Authlib's JOSE library) checks
signatures. HTTP goes through httpx with short timeouts and no redirects.

Residency (R-SEC-6): every call takes the operator's allow-list of hosts; an issuer, or any endpoint its
metadata names, whose host is outside it is refused before anything is sent there.

Errors are `OidcError`: `message` is Russian and may be shown to the user, `reason` is English, for logs,
and never contains personal data, tokens, codes or secrets.

Client authentication at the token endpoint is a parameter (`client_auth`): by default
client_secret_basic or client_secret_post, whichever the provider advertises (`none` for a client without
a secret). Госуслуги (ESIA) authenticates the client by a GOST-signed `client_secret` made by a certified
crypto module; that signer plugs in here as an Authlib client-auth callable
`(client, method, uri, headers, body) -> (uri, headers, body)` without changing anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx
import msgspec
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from services.config import host_allowed

__all__ = [
    "ClientAuthMethod",
    "LoginState",
    "OidcError",
    "OidcIdentity",
    "ProviderConfig",
    "ProviderMetadata",
    "ProviderSettings",
    "begin_login",
    "clear_caches",
    "discover",
    "finish_login",
    "logout_url",
    "state_fingerprint",
]

DISCOVERY_TTL_S = 3600.0
JWKS_TTL_S = 3600.0
HTTP_TIMEOUT_S = 10.0
LOGIN_STATE_MAX_AGE_S = 600.0
CLOCK_LEEWAY_S = 60
DEFAULT_SCOPE = "openid email profile"
# Asymmetric algorithms only: "none" and the HMAC family (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)
_MAX_RESPONSE_BYTES = 1_000_000

_FAILED = "Вход через внешний сервис не удался"


class OidcError(Exception):
    """A login through an OpenID provider failed.

    `message` is Russian, for the person logging in; `reason` is English, for the log, without personal data.
    """

    def __init__(self, reason: str, message: str = f"{_FAILED}: попробуйте войти ещё раз.") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


class ProviderConfig(Protocol):
    """What a login needs to know of a provider; `services.identity.models.OidcProvider` rows fit."""

    @property
    def issuer(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """A provider given in code or configuration rather than as a database row."""

    issuer: str
    client_id: str
    client_secret: str | None = None


# An Authlib client authentication: a method name ("client_secret_basic", "client_secret_post", "none") or a
# callable (client, http_method, uri, headers, body) -> (uri, headers, body) that signs the token request.
ClientAuthMethod = str | Callable[[Any, str, str, dict[str, str], str], tuple[str, dict[str, str], str]]


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The parts of a provider's discovery document the login uses; `raw` holds all of it."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    token_endpoint_auth_methods: tuple[str, ...]
    id_token_signing_algorithms: tuple[str, ...]
    code_challenge_methods: tuple[str, ...]
    authorization_response_iss: bool
    raw: Mapping[str, Any] = field(repr=False)


class LoginState(msgspec.Struct, frozen=True, kw_only=True):
    """What `begin_login` hands the caller to keep server-side until the callback; secret, single use."""

    issuer: str
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    code_verifier: str
    created_at: float

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> LoginState:
        return msgspec.json.decode(data, type=cls)


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Who the provider says logged in. (issuer, subject) is the stable key of `OidcLink`.

    `email` is as the provider gave it; trust it as an address of this person only when `email_verified`.
    `id_token` is the raw token, kept (server-side) only as the `id_token_hint` of `logout_url`.
    """

    issuer: str
    subject: str
    email: str | None = field(repr=False)
    email_verified: bool
    claims: Mapping[str, Any] = field(repr=False)
    id_token: str = field(repr=False)


_discovery_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, KeySet]] = {}


def clear_caches() -> None:
    """Forget every cached discovery document and key set (tests; an operator's provider change)."""
    _discovery_cache.clear()
    _jwks_cache.clear()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_endpoint(url: str, what: str, allowed_hosts: tuple[str, ...]) -> None:
    """An endpoint must be https (plain http only on loopback) and hosted where residency allows."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        raise OidcError(f"{what} is not a valid URL") from None
    if not host:
        raise OidcError(f"{what} has no host")
    if not host_allowed(host, allowed_hosts):
        raise OidcError(
            f"{what} host {host!r} is outside RESIDENCY_ALLOWED_HOSTS (R-SEC-6)",
            f"{_FAILED}: сервис входа размещён вне разрешённых серверов. Сообщите администратору.",
        )
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        raise OidcError(f"{what} must use https")


def _unreachable(what: str, error: Exception) -> OidcError:
    return OidcError(
        f"{what} unreachable: {type(error).__name__}",
        f"{_FAILED}: сервис входа не отвечает, попробуйте позже.",
    )


async def _get_json(http: httpx.AsyncClient, url: str, what: str, headers: dict[str, str] | None = None) -> Any:
    try:
        response = await http.get(url, headers={"Accept": "application/json", **(headers or {})})
    except httpx.HTTPError as error:
        raise _unreachable(what, error) from None
    if response.status_code != 200:
        raise OidcError(f"{what} answered HTTP {response.status_code}")
    if len(response.content) > _MAX_RESPONSE_BYTES:
        raise OidcError(f"{what} answer is too large")
    try:
        return response.json()
    except ValueError:
        raise OidcError(f"{what} did not answer JSON") from None


class _Http:
    """The caller's httpx client, or a short-lived one of our own."""

    def __init__(self, http: httpx.AsyncClient | None) -> None:
        self._given = http
        self._own: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        if self._given is not None:
            return self._given
        self._own = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False)
        return self._own

    async def __aexit__(self, *exc: object) -> None:
        if self._own is not None:
            await self._own.aclose()


def _strings(value: Any, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    if not isinstance(value, list):
        return default
    return tuple(v for v in value if isinstance(v, str))


def _url(raw: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = raw.get(name)
    if isinstance(value, str) and value:
        return value
    if required or value is not None:
        raise OidcError(f"discovery document has no valid {name}")
    return None


async def discover(
    issuer: str,
    *,
    allowed_hosts: tuple[str, ...],
    http: httpx.AsyncClient | None = None,
    refresh: bool = False,
) -> ProviderMetadata:
    """The provider's metadata from `<issuer>/.well-known/openid-configuration`, cached for an hour per issuer.

    Refuses an issuer outside residency, a document whose `issuer` is not exactly the configured one, and
    one naming any endpoint outside residency or not usable for the code flow with PKCE.
    """
    _check_endpoint(issuer, "issuer", allowed_hosts)
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise OidcError("issuer must not have a query or fragment")
    cached = _discovery_cache.get(issuer)
    if cached and not refresh and cached[0] > time.monotonic():
        metadata = cached[1]
    else:
        async with _Http(http) as client:
            raw = await _get_json(client, issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
        metadata = _parse_metadata(issuer, raw)
        _discovery_cache[issuer] = (time.monotonic() + DISCOVERY_TTL_S, metadata)
    # Endpoints are checked on every use: the allow-list is the caller's, the cache is shared.
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                 "end_session_endpoint"):
        url = getattr(metadata, name)
        if url:
            _check_endpoint(url, name, allowed_hosts)
    return metadata


def _parse_metadata(issuer: str, raw: Any) -> ProviderMetadata:
    if not isinstance(raw, dict):
        raise OidcError("discovery document is not a JSON object")
    if raw.get("issuer") != issuer:
        # OpenID Connect Discovery 1.0 §4.3: exactly the configured issuer, or an impostor could answer.
        raise OidcError("discovery document names another issuer")
    document = OpenIDProviderMetadata(raw)
    try:
        document.validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
    except (ValueError, TypeError, KeyError) as error:
        raise OidcError(f"discovery document is invalid: {str(error)[:200]}") from None
    if "code" not in _strings(raw.get("response_types_supported")):
        raise OidcError("provider does not support the authorization code flow")
    challenge_methods = _strings(raw.get("code_challenge_methods_supported"))
    if challenge_methods and "S256" not in challenge_methods:
        raise OidcError("provider does not support PKCE with S256")
    algorithms = _strings(raw.get("id_token_signing_alg_values_supported"), ("RS256",))
    if not SIGNING_ALGORITHMS.intersection(algorithms):
        raise OidcError("provider signs ID tokens with no algorithm we accept")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_url(raw, "authorization_endpoint", required=True) or "",
        token_endpoint=_url(raw, "token_endpoint", required=True) or "",
        jwks_uri=_url(raw, "jwks_uri", required=True) or "",
        userinfo_endpoint=_url(raw, "userinfo_endpoint", required=False),
        end_session_endpoint=_url(raw, "end_session_endpoint", required=False),
        # RFC 8414 §2: absent means client_secret_basic.
        token_endpoint_auth_methods=_strings(raw.get("token_endpoint_auth_methods_supported"),
                                             ("client_secret_basic",)),
        id_token_signing_algorithms=algorithms,
        code_challenge_methods=challenge_methods,
        authorization_response_iss=raw.get("authorization_response_iss_parameter_supported") is True,
        raw=raw,
    )


_RESERVED_PARAMS = frozenset({"client_id", "response_type", "redirect_uri", "scope", "state", "nonce",
                              "code_challenge", "code_challenge_method"})


async def begin_login(
    provider: ProviderConfig,
    redirect_uri: str,
    *,
    allowed_hosts: tuple[str, ...],
    scope: str = DEFAULT_SCOPE,
    extra_params: Mapping[str, str] | None = None,
    http: httpx.AsyncClient | None = None,
) -> tuple[str, LoginState]:
    """The URL to send the browser to, and the LoginState to keep server-side until the callback.

    `extra_params` go into the authorization request as they are (e.g. `login_hint`, `ui_locales`, `prompt`).
    """
    reserved = _RESERVED_PARAMS.intersection(extra_params or {})
    if reserved:
        raise ValueError(f"begin_login sets {', '.join(sorted(reserved))} itself")
    metadata = await discover(provider.issuer, allowed_hosts=allowed_hosts, http=http)
    login_state = LoginState(
        issuer=provider.issuer,
        client_id=provider.client_id,
        redirect_uri=redirect_uri,
        state=generate_token(43),
        nonce=generate_token(43),
        code_verifier=generate_token(64),  # RFC 7636 §4.1: 43 to 128 characters of the unreserved set
        created_at=time.time(),
    )
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=provider.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=scope,
        state=login_state.state,
        nonce=login_state.nonce,
        code_challenge=create_s256_code_challenge(login_state.code_verifier),
        code_challenge_method="S256",
        **dict(extra_params or {}),
    )
    return url, login_state


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _error_code(value: object) -> str:
    """An OAuth error code fit for the log: a short ASCII word, never free text from outside."""
    code = str(value)
    return code if len(code) <= 40 and code.replace("_", "").isalpha() and code.isascii() else "(malformed)"


def _callback_error(params: Mapping[str, str]) -> OidcError:
    safe = _error_code(params.get("error", ""))
    if safe in ("access_denied", "login_required", "consent_required", "interaction_required"):
        return OidcError(f"provider returned {safe}", f"{_FAILED}: вход был отменён или не подтверждён.")
    return OidcError(f"provider returned {safe}")


def _client_secret_basic(
    client: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    """HTTP Basic client authentication as RFC 6749 §2.3.1 has it: id and secret form-urlencoded first.

    (Authlib's own sends them raw, which a provider that decodes them, as the RFC says, reads differently
    when the secret holds '+', '%' or ':'.)
    """
    credentials = f"{quote_plus(client.client_id)}:{quote_plus(client.client_secret or '')}"
    headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return uri, headers, body


def _pick_client_auth(provider: ProviderConfig, metadata: ProviderMetadata) -> ClientAuthMethod:
    supported = metadata.token_endpoint_auth_methods
    if not provider.client_secret:
        if "none" in supported:
            return "none"
        raise OidcError("client has no secret and the provider does not accept public clients")
    if "client_secret_basic" in supported:
        return _client_secret_basic
    if "client_secret_post" in supported:
        return "client_secret_post"
    raise OidcError("provider accepts neither client_secret_basic nor client_secret_post; pass client_auth")


async def _exchange_code(
    client: httpx.AsyncClient,
    provider: ProviderConfig,
    metadata: ProviderMetadata,
    login_state: LoginState,
    *,
    code: str,
    client_auth: ClientAuthMethod | None,
) -> dict[str, Any]:
    body = urlencode({
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": login_state.redirect_uri,
        "code_verifier": login_state.code_verifier,
    })
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if client_auth == "client_secret_basic":
        client_auth = _client_secret_basic
    auth = ClientAuth(provider.client_id, provider.client_secret, client_auth or _pick_client_auth(provider, metadata))
    uri, headers, body = auth.prepare("POST", metadata.token_endpoint, headers, body)
    try:
        response = await client.post(uri, headers=headers, content=body.encode())
    except httpx.HTTPError as error:
        raise _unreachable("token endpoint", error) from None
    if len(response.content) > _MAX_RESPONSE_BYTES:
        raise OidcError("token endpoint answer is too large")
    try:
        token = response.json()
    except ValueError:
        token = None
    if not isinstance(token, dict):
        raise OidcError(f"token endpoint answered HTTP {response.status_code} without a JSON object")
    if response.status_code != 200 or "error" in token:
        safe = _error_code(token.get("error", ""))
        if safe == "invalid_client":
            raise OidcError(
                "token endpoint refused the client credentials (invalid_client)",
                f"{_FAILED}: сервис входа не принял учётные данные журнала. Сообщите администратору.",
            )
        raise OidcError(f"token endpoint answered HTTP {response.status_code} {safe}")
    if not isinstance(token.get("id_token"), str):
        raise OidcError("token response has no id_token (was the openid scope granted?)")
    if str(token.get("token_type", "")).lower() != "bearer":
        raise OidcError("token response has an unknown token_type")
    return token


async def _key_set(client: httpx.AsyncClient, jwks_uri: str, *, refresh: bool) -> KeySet:
    cached = _jwks_cache.get(jwks_uri)
    if cached and not refresh and cached[0] > time.monotonic():
        return cached[1]
    raw = await _get_json(client, jwks_uri, "jwks_uri")
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list):
        raise OidcError("jwks_uri did not answer a JWK set")
    # Only signature keys; a key of a type we can't read (e.g. a GOST key next to RSA ones) is skipped.
    signing = [k for k in raw["keys"] if isinstance(k, dict) and k.get("use", "sig") == "sig"]
    try:
        keys = KeySet.import_key_set({"keys": signing})
    except (JoseError, ValueError, TypeError):
        raise OidcError("provider's JWK set has no usable signature key") from None
    _jwks_cache[jwks_uri] = (time.monotonic() + JWKS_TTL_S, keys)
    return keys


async def _verify_signature(
    client: httpx.AsyncClient, metadata: ProviderMetadata, id_token: str
) -> jwt.Token:
    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise OidcError("ID token is not a compact JWS") from None
    alg = header.get("alg")
    if alg not in SIGNING_ALGORITHMS or alg not in metadata.id_token_signing_algorithms:
        raise OidcError(f"ID token algorithm {str(alg)[:20]!r} is not accepted")
    kid = header.get("kid")
    keys = await _key_set(client, metadata.jwks_uri, refresh=False)
    if kid is not None and not any(key.kid == kid for key in keys):
        # The provider rotated its keys since we cached them: fetch once more, then give up.
        keys = await _key_set(client, metadata.jwks_uri, refresh=True)
    try:
        return jwt.decode(id_token, keys, algorithms=[alg])
    except InvalidKeyIdError:
        raise OidcError("ID token is signed with a key the provider does not publish") from None
    except BadSignatureError:
        raise OidcError("ID token signature is invalid") from None
    except (JoseError, ValueError, TypeError) as error:
        raise OidcError(f"ID token cannot be verified: {type(error).__name__}") from None


def _validate_claims(
    token: jwt.Token, provider: ProviderConfig, login_state: LoginState, access_token: str | None, now: float
) -> None:
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": provider.issuer},
            "aud": {"essential": True, "value": provider.client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True},
        },
        params={"nonce": login_state.nonce, "client_id": provider.client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=int(now), leeway=CLOCK_LEEWAY_S)
    except ExpiredTokenError:
        raise OidcError("ID token has expired") from None
    except ClaimError as error:
        raise OidcError(f"ID token claim {error.claim!r} is invalid or missing") from None
    except JoseError as error:
        raise OidcError(f"ID token claims are invalid: {type(error).__name__}") from None
    # Authlib compares the nonce too; this one is in constant time and does not depend on its options.
    nonce = token.claims.get("nonce")
    if not isinstance(nonce, str) or not _same(nonce, login_state.nonce):
        raise OidcError("ID token claim 'nonce' is invalid or missing")
    # A token issued before this login began belongs to another one (a replay), whatever its nonce says.
    if token.claims["iat"] < login_state.created_at - CLOCK_LEEWAY_S:
        raise OidcError("ID token was issued before the login began")


async def _userinfo(
    client: httpx.AsyncClient, metadata: ProviderMetadata, access_token: str, subject: str
) -> dict[str, Any]:
    assert metadata.userinfo_endpoint
    info = await _get_json(client, metadata.userinfo_endpoint, "userinfo endpoint",
                           headers={"Authorization": f"Bearer {access_token}"})
    if not isinstance(info, dict):
        raise OidcError("userinfo endpoint did not answer a JSON object")
    # OpenID Connect Core §5.3.2: the UserInfo sub must be the ID token's, or the answer is not about this user.
    if not isinstance(info.get("sub"), str) or not _same(info["sub"], subject):
        raise OidcError("userinfo sub differs from the ID token's")
    return info


async def finish_login(
    provider: ProviderConfig,
    login_state: LoginState,
    callback_params: Mapping[str, str],
    redirect_uri: str,
    *,
    allowed_hosts: tuple[str, ...],
    client_auth: ClientAuthMethod | None = None,
    fetch_userinfo: bool = True,
    http: httpx.AsyncClient | None = None,
) -> OidcIdentity:
    """Check the provider's callback (its query parameters) against the LoginState and return who logged in.

    The caller removes the LoginState from the session before calling, so it is used once whatever happens.
    `client_auth` authenticates the client at the token endpoint (see the module docstring: ESIA's GOST
    signer plugs in here). When the ID token carries no e-mail, the userinfo endpoint is asked for it.
    """
    now = time.time()
    if login_state.issuer != provider.issuer or login_state.client_id != provider.client_id:
        raise OidcError("login state belongs to another provider")
    if login_state.redirect_uri != redirect_uri:
        raise OidcError("redirect URI differs from the one the login began with")
    if not login_state.created_at - CLOCK_LEEWAY_S <= now <= login_state.created_at + LOGIN_STATE_MAX_AGE_S:
        raise OidcError("login state has expired", f"{_FAILED}: время на вход истекло, начните вход заново.")
    state = callback_params.get("state")
    if not isinstance(state, str) or not _same(state, login_state.state):
        raise OidcError("state does not match the login")
    if "error" in callback_params:
        raise _callback_error(callback_params)
    metadata = await discover(provider.issuer, allowed_hosts=allowed_hosts, http=http)
    iss = callback_params.get("iss")
    if iss is not None and iss != provider.issuer:
        raise OidcError("authorization response comes from another issuer")  # RFC 9207 mix-up defence
    if iss is None and metadata.authorization_response_iss:
        raise OidcError("authorization response lacks the iss its provider promises")
    code = callback_params.get("code")
    if not code:
        raise OidcError("authorization response has no code")

    async with _Http(http) as client:
        token = await _exchange_code(client, provider, metadata, login_state, code=code, client_auth=client_auth)
        access_token = token.get("access_token") if isinstance(token.get("access_token"), str) else None
        verified = await _verify_signature(client, metadata, token["id_token"])
        _validate_claims(verified, provider, login_state, access_token, now)
        claims: dict[str, Any] = dict(verified.claims)
        subject = claims["sub"]
        if fetch_userinfo and "email" not in claims and metadata.userinfo_endpoint and access_token:
            info = await _userinfo(client, metadata, access_token, subject)
            claims = {**info, **claims}  # what the signed ID token says wins
    email = claims.get("email")
    return OidcIdentity(
        issuer=provider.issuer,
        subject=subject,
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        claims=claims,
        id_token=token["id_token"],
    )


async def logout_url(
    provider: ProviderConfig,
    id_token_hint: str | None,
    post_logout_redirect_uri: str | None,
    *,
    allowed_hosts: tuple[str, ...],
    state: str | None = None,
    http: httpx.AsyncClient | None = None,
) -> str | None:
    """The provider's RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0), or None without one.

    The post-logout redirect URI must be registered with the provider for this client.
    """
    metadata = await discover(provider.issuer, allowed_hosts=allowed_hosts, http=http)
    if not metadata.end_session_endpoint:
        return None
    params = [("client_id", provider.client_id)]
    if id_token_hint:
        params.append(("id_token_hint", id_token_hint))
    if post_logout_redirect_uri:
        params.append(("post_logout_redirect_uri", post_logout_redirect_uri))
    if state:
        params.append(("state", state))
    url: str = add_params_to_uri(metadata.end_session_endpoint, params)
    return url


def state_fingerprint(login_state: LoginState) -> str:
    """A short, non-secret tag of a login for correlating log lines (never log the state itself)."""
    return hashlib.sha256(login_state.state.encode()).hexdigest()[:12]
