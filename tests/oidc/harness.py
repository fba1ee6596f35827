"""A real OpenID Connect provider for the tests: node's `oidc-provider` (tests/oidc/provider.mjs) on loopback.

`start_provider` makes sure node and tests/oidc/node_modules exist (infra/local/node.sh: Debian's nodejs and
npm when node is missing, then `npm ci`), starts the provider on 127.0.0.1 and returns once its discovery
document answers. `log_in` and `log_out` play the browser's part against the provider's development
interactions with httpx: any login is accepted, its name becomes the subject.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
NODE_SH = ROOT / "infra" / "local" / "node.sh"
# Nothing listens here: the tests stop following redirects at these URIs and read the query.
REDIRECT_URI = "http://127.0.0.1:9/oidc/callback"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:9/oidc/logged-out"


def ensure_node() -> None:
    """node, npm and tests/oidc/node_modules as package-lock.json pins them (a no-op when all is in place)."""
    result = subprocess.run(["bash", str(NODE_SH)], capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"infra/local/node.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@dataclass
class RunningProvider:
    issuer: str
    port: int
    kid: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path = field(repr=False)

    def __enter__(self) -> RunningProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()
        self.log_path.unlink(missing_ok=True)


def start_provider(
    *,
    client_id: str = "journal-tests",
    client_secret: str | None = None,
    port: int = 0,
    redirect_uri: str = REDIRECT_URI,
    post_logout_redirect_uri: str = POST_LOGOUT_REDIRECT_URI,
    client_auth_method: str = "client_secret_basic",
    timeout_s: float = 30.0,
) -> RunningProvider:
    """Start provider.mjs (node and its modules must be in place: `ensure_node`) and wait until it serves."""
    client_secret = client_secret or secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_REDIRECT_URIS": redirect_uri,
        "OIDC_POST_LOGOUT_REDIRECT_URIS": post_logout_redirect_uri,
        "OIDC_CLIENT_AUTH_METHOD": client_auth_method,
    }
    fd, log_name = tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")
    log_path = Path(log_name)
    with os.fdopen(fd, "wb") as log_file:
        process = subprocess.Popen(
            ["node", str(PROVIDER_SCRIPT)], cwd=PROVIDER_SCRIPT.parent, env=env,
            stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + timeout_s
    try:
        announced = _first_line(process, deadline)
        info = json.loads(announced)
        provider = RunningProvider(
            issuer=info["issuer"], port=info["port"], kid=info["kid"], client_id=client_id,
            client_secret=client_secret, redirect_uri=redirect_uri,
            post_logout_redirect_uri=post_logout_redirect_uri, process=process, log_path=log_path,
        )
        _wait_for_discovery(provider.issuer, deadline)
    except BaseException as error:
        process.kill()
        process.wait()
        log = log_path.read_text(errors="replace")
        log_path.unlink(missing_ok=True)
        raise RuntimeError(f"the OIDC provider did not start: {error}\n{log}") from error
    return provider


def _first_line(process: subprocess.Popen[bytes], deadline: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"provider.mjs exited with {process.wait()}")
                return line.decode()
            if process.poll() is not None:
                raise RuntimeError(f"provider.mjs exited with {process.returncode}")
    raise TimeoutError("provider.mjs did not announce its address")


def _wait_for_discovery(issuer: str, deadline: float) -> None:
    url = f"{issuer}/.well-known/openid-configuration"
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer")
        time.sleep(0.05)


_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"')
_PROMPT = re.compile(r'name="prompt" value="([a-z]+)"')
_ABORT = re.compile(r'<a href="([^"]+/abort)"')
_XSRF = re.compile(r'name="xsrf" value="([^"]+)"')


async def log_in(
    browser: httpx.AsyncClient, authorization_url: str, redirect_uri: str, login: str, *, cancel: bool = False
) -> dict[str, str]:
    """Go through the provider's login and consent pages as a browser would; the callback's query parameters.

    `browser` must keep cookies and must not follow redirects itself. `cancel` presses the login page's
    Cancel link instead of signing in.
    """
    url = authorization_url
    for _ in range(20):
        if url.startswith(redirect_uri):
            return dict(parse_qsl(urlsplit(url).query))
        response = await browser.get(url)
        if response.status_code == 200 and (action := _FORM_ACTION.search(response.text)):
            prompt = _PROMPT.search(response.text)
            assert prompt, response.text[:2000]
            if cancel:
                abort = _ABORT.search(response.text)
                assert abort, response.text[:2000]
                response = await browser.get(urljoin(url, abort.group(1)))
            else:
                form = {"prompt": prompt.group(1)}
                if prompt.group(1) == "login":
                    form |= {"login": login, "password": "любой"}
                response = await browser.post(urljoin(url, action.group(1)), data=form)
        if not response.is_redirect:
            raise AssertionError(f"unexpected answer {response.status_code} at {url}: {response.text[:2000]}")
        url = urljoin(url, response.headers["location"])
    raise AssertionError("too many redirects before the callback")


async def log_out(browser: httpx.AsyncClient, end_session_url: str) -> str:
    """Confirm the provider's logout page; the URL the provider sends the browser to afterwards."""
    page = await browser.get(end_session_url)
    if page.status_code != 200:
        raise AssertionError(f"logout page answered {page.status_code}: {page.text[:2000]}")
    action = _FORM_ACTION.search(page.text)
    xsrf = _XSRF.search(page.text)
    assert action, page.text[:2000]
    assert xsrf, page.text[:2000]
    response = await browser.post(urljoin(end_session_url, action.group(1)),
                                  data={"xsrf": xsrf.group(1), "logout": "yes"})
    if not response.is_redirect:
        raise AssertionError(f"logout confirmation answered {response.status_code}: {response.text[:2000]}")
    return urljoin(end_session_url, response.headers["location"])
