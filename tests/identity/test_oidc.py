"""OpenID Connect login against a real provider: node's oidc-provider on loopback (tests/oidc), no mocks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest
from authlib.oauth2.auth import encode_client_secret_post

from services.identity import oidc
from services.identity.models import OidcProvider
from services.identity.oidc import (
    LoginState,
    OidcError,
    ProviderSettings,
    begin_login,
    clear_caches,
    discover,
    finish_login,
    logout_url,
)
from tests.oidc.harness import REDIRECT_URI as REDIRECT
from tests.oidc.harness import RunningProvider, log_in, log_out, start_provider

ALLOWED = ("127.0.0.1",)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def provider(oidc_provider: RunningProvider) -> ProviderSettings:
    return ProviderSettings(oidc_provider.issuer, oidc_provider.client_id, oidc_provider.client_secret)


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """A user agent with its own cookies at the provider; it stops at every redirect."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as client:
        yield client


async def start(
    provider: ProviderSettings, browser: httpx.AsyncClient, login: str
) -> tuple[LoginState, dict[str, str]]:
    """begin_login, then the provider's pages: the LoginState and the callback's query parameters."""
    url, login_state = await begin_login(provider, REDIRECT, allowed_hosts=ALLOWED)
    return login_state, await log_in(browser, url, REDIRECT, login)


async def test_discovery_checks_and_caches_the_provider(oidc_provider: RunningProvider) -> None:
    metadata = await discover(oidc_provider.issuer, allowed_hosts=ALLOWED)
    assert metadata.issuer == oidc_provider.issuer
    assert metadata.token_endpoint.startswith(oidc_provider.issuer)
    assert metadata.end_session_endpoint == f"{oidc_provider.issuer}/session/end"
    assert "S256" in metadata.code_challenge_methods
    assert await discover(oidc_provider.issuer, allowed_hosts=ALLOWED) is metadata

    # The discovery document must name exactly the configured issuer: a trailing slash is another issuer.
    with pytest.raises(OidcError, match="another issuer"):
        await discover(oidc_provider.issuer + "/", allowed_hosts=ALLOWED)


async def test_login_through_the_provider(oidc_provider: RunningProvider, browser: httpx.AsyncClient) -> None:
    # A row of the platform's provider table works as it is (not saved: no database is needed here).
    row = OidcProvider(issuer=oidc_provider.issuer, client_id=oidc_provider.client_id,
                       client_secret=oidc_provider.client_secret, name="Тестовый вход")
    url, login_state = await begin_login(row, REDIRECT, allowed_hosts=ALLOWED)

    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [oidc_provider.client_id]
    assert query["state"] == [login_state.state]
    assert query["nonce"] == [login_state.nonce]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] != login_state.code_verifier
    assert "code_verifier" not in query

    # The session keeps the LoginState as JSON between the two requests.
    stored = login_state.to_json()
    callback = await log_in(browser, url, REDIRECT, "ivanova")
    assert set(callback) >= {"code", "state", "iss"}

    identity = await finish_login(row, LoginState.from_json(stored), callback, REDIRECT, allowed_hosts=ALLOWED)
    assert identity.issuer == oidc_provider.issuer
    assert identity.subject == "ivanova"
    assert identity.email == "ivanova@example.org"  # from the userinfo endpoint: not in a code-flow ID token
    assert identity.email_verified
    assert identity.claims["name"] == "Пользователь ivanova"
    assert identity.id_token.count(".") == 2
    assert "example.org" not in repr(identity)

    # The code is single-use: the same callback a second time is refused by the provider.
    with pytest.raises(OidcError, match="invalid_grant"):
        await finish_login(row, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)


async def test_client_authentication_is_pluggable(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    """The token request's client authentication is a parameter: the seam for ESIA's GOST signer."""
    signed: list[str] = []

    def signer(client, method, uri, headers, body):
        signed.append(method)
        return encode_client_secret_post(client, method, uri, headers, body)

    login_state, callback = await start(provider, browser, "petrov")
    identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED, client_auth=signer)
    assert identity.subject == "petrov"
    assert signed == ["POST"]

    login_state, callback = await start(provider, browser, "petrov")
    identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED,
                                  client_auth="client_secret_post")
    assert identity.subject == "petrov"


async def test_secret_with_special_characters(oidc_provider: RunningProvider, browser: httpx.AsyncClient) -> None:
    """client_secret_basic form-urlencodes id and secret (RFC 6749 §2.3.1), as the provider decodes them."""
    with start_provider(client_secret="p+s:w%rd/ 1&=") as other:
        provider = ProviderSettings(other.issuer, other.client_id, other.client_secret)
        login_state, callback = await start(provider, browser, "petrov")
        identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
        assert identity.subject == "petrov"


async def test_tampered_state_is_refused(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    login_state, callback = await start(provider, browser, "sidorov")
    tampered = {**callback, "state": callback["state"][:-1] + ("A" if callback["state"][-1] != "A" else "B")}
    with pytest.raises(OidcError, match="state") as refused:
        await finish_login(provider, login_state, tampered, REDIRECT, allowed_hosts=ALLOWED)
    assert refused.value.message.startswith("Вход через внешний сервис не удался")
    for params in ({k: v for k, v in callback.items() if k != "state"}, {**callback, "state": ""}):
        with pytest.raises(OidcError, match="state"):
            await finish_login(provider, login_state, params, REDIRECT, allowed_hosts=ALLOWED)

    # Another login's state (the callback of one browser replayed into another session) is refused too.
    other_state, _ = await start(provider, browser, "sidorov")
    with pytest.raises(OidcError, match="state"):
        await finish_login(provider, other_state, callback, REDIRECT, allowed_hosts=ALLOWED)


async def test_wrong_nonce_is_refused(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    login_state, callback = await start(provider, browser, "kuznetsova")
    replayed = msgspec.structs.replace(login_state, nonce="n" * 43)
    with pytest.raises(OidcError, match="nonce") as refused:
        await finish_login(provider, replayed, callback, REDIRECT, allowed_hosts=ALLOWED)
    assert "kuznetsova" not in refused.value.reason


async def test_pkce_verifier_is_checked_by_the_provider(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    login_state, callback = await start(provider, browser, "smirnov")
    stolen = msgspec.structs.replace(login_state, code_verifier="v" * 64)
    with pytest.raises(OidcError, match="invalid_grant"):
        await finish_login(provider, stolen, callback, REDIRECT, allowed_hosts=ALLOWED)


async def test_callback_checks(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    login_state, callback = await start(provider, browser, "popova")
    with pytest.raises(OidcError, match="another issuer"):
        await finish_login(provider, login_state, {**callback, "iss": "http://127.0.0.1:1"}, REDIRECT,
                           allowed_hosts=ALLOWED)
    with pytest.raises(OidcError, match="lacks the iss"):
        await finish_login(provider, login_state, {k: v for k, v in callback.items() if k != "iss"}, REDIRECT,
                           allowed_hosts=ALLOWED)
    with pytest.raises(OidcError, match="redirect URI"):
        await finish_login(provider, login_state, callback, "http://127.0.0.1:9/elsewhere", allowed_hosts=ALLOWED)
    expired = msgspec.structs.replace(login_state, created_at=time.time() - 3600)
    with pytest.raises(OidcError, match="expired") as refused:
        await finish_login(provider, expired, callback, REDIRECT, allowed_hosts=ALLOWED)
    assert "время на вход истекло" in refused.value.message
    # None of the refusals above spent the code: the genuine callback still logs in.
    identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
    assert identity.subject == "popova"


async def test_cancelled_login(provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    url, login_state = await begin_login(provider, REDIRECT, allowed_hosts=ALLOWED)
    callback = await log_in(browser, url, REDIRECT, "orlov", cancel=True)
    assert callback["error"] == "access_denied"
    with pytest.raises(OidcError, match="access_denied") as refused:
        await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
    assert "отменён" in refused.value.message


async def test_wrong_client_secret_fails_cleanly(oidc_provider: RunningProvider, browser: httpx.AsyncClient) -> None:
    wrong = ProviderSettings(oidc_provider.issuer, oidc_provider.client_id, "not-the-secret")
    login_state, callback = await start(wrong, browser, "volkov")
    with pytest.raises(OidcError) as refused:
        await finish_login(wrong, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
    assert "invalid_client" in refused.value.reason
    assert "not-the-secret" not in refused.value.reason
    assert "Сообщите администратору" in refused.value.message


async def test_issuer_outside_residency_is_refused(provider: ProviderSettings) -> None:
    elsewhere = ("*.gosuslugi.ru", "idp.region.ru")
    for call in (
        discover(provider.issuer, allowed_hosts=elsewhere),
        begin_login(provider, REDIRECT, allowed_hosts=elsewhere),
        logout_url(provider, None, None, allowed_hosts=elsewhere),
    ):
        with pytest.raises(OidcError, match="RESIDENCY_ALLOWED_HOSTS") as refused:
            await call
        assert "вне разрешённых серверов" in refused.value.message
    # Refused before any connection: this host does not exist.
    with pytest.raises(OidcError, match="RESIDENCY_ALLOWED_HOSTS"):
        await discover("https://idp.example.com", allowed_hosts=elsewhere)
    # Plain http is for loopback only.
    with pytest.raises(OidcError, match="https"):
        await discover("http://idp.region.ru", allowed_hosts=elsewhere)


async def test_logout(oidc_provider: RunningProvider, provider: ProviderSettings, browser: httpx.AsyncClient) -> None:
    login_state, callback = await start(provider, browser, "morozova")
    identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)

    url = await logout_url(provider, identity.id_token, oidc_provider.post_logout_redirect_uri,
                           allowed_hosts=ALLOWED, state="bye")
    assert url is not None
    assert url.startswith(f"{oidc_provider.issuer}/session/end?")
    query = parse_qs(urlsplit(url).query)
    assert query["id_token_hint"] == [identity.id_token]
    assert query["post_logout_redirect_uri"] == [oidc_provider.post_logout_redirect_uri]
    assert query["client_id"] == [provider.client_id]

    # The provider accepts it: its session ends and it sends the browser back to us.
    back = await log_out(browser, url)
    assert back.startswith(oidc_provider.post_logout_redirect_uri)
    assert parse_qs(urlsplit(back).query)["state"] == ["bye"]
    # Logged out at the provider: a new login asks for the login form again instead of passing straight through.
    again, _ = await begin_login(provider, REDIRECT, allowed_hosts=ALLOWED)
    page = await browser.get(again)
    interaction = await browser.get(httpx.URL(again).join(page.headers["location"]))
    assert 'name="prompt" value="login"' in interaction.text


async def test_rotated_keys_are_fetched_again(oidc_provider: RunningProvider, browser: httpx.AsyncClient) -> None:
    """An ID token signed with a key the cached JWKS lacks makes the client fetch the keys once more."""
    with start_provider() as first:
        port, secret, old_kid = first.port, first.client_secret, first.kid
        provider = ProviderSettings(first.issuer, first.client_id, secret)
        login_state, callback = await start(provider, browser, "belov")
        await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
    # The same issuer comes back with a new signing key; discovery and the old key set stay cached.
    [(_, keys)] = oidc._jwks_cache.values()
    assert [key.kid for key in keys] == [old_kid]
    with start_provider(port=port, client_secret=secret) as second:
        assert second.kid != old_kid
        browser.cookies.clear()
        login_state, callback = await start(provider, browser, "belov")
        identity = await finish_login(provider, login_state, callback, REDIRECT, allowed_hosts=ALLOWED)
        assert identity.subject == "belov"
    [(_, keys)] = oidc._jwks_cache.values()
    assert [key.kid for key in keys] == [second.kid]
