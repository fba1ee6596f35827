"""`journal-run`: the whole system on one machine with one command.

Starts embedded PostgreSQL and Redis under the data folder unless DATABASE_URL / REDIS_URL point at real
servers, and an in-memory S3 (files lost on stop) unless S3_ENDPOINT_URL is set; migrates the platform and every
school, creates the demonstration region on first start, then runs the API (uvicorn), the Dramatiq worker and
the scheduler as child processes and watches them. Ctrl-C or SIGTERM stops everything in order; a child that
dies on its own stops the rest and the launcher exits 1.

Exit codes: 0 stopped on request, 1 failed to start or a process died, 2 invalid configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from services.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from tenants.demo import DemoInfo

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
DEMO_FILE = "demo-logins.json"
LOCK_FILE = "launcher.lock"


class LaunchError(Exception):
    """Starting failed for a reason the operator can act on; the message says which."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: stop everything and exit 0."""


def say(message: str = "", *, err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


# --- child processes ----------------------------------------------------------------------------------------


PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A function for the child to run before exec: SIGTERM if the launcher dies without cleaning up (Linux)."""
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None

    def set_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_signal


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        # Its own session: the terminal's Ctrl-C reaches the launcher only, which stops children in order.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.command, env=env, start_new_session=True,
            # The only other thread by now may be the in-memory S3's server; the function only calls prctl.
            preexec_fn=_parent_death_signal(),  # noqa: PLW1509
        )

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def terminate(self) -> None:
        """SIGTERM to the child itself: Dramatiq's main process forwards it to its workers once, as it must
        (a worker that gets SIGTERM twice exits hard and can hang on its threads)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()

    def kill_group(self) -> None:
        """SIGKILL whatever is left in the child's process group (its own session)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)


def stop_children(children: Sequence[Child], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every child, wait up to `timeout` in all, then SIGKILL what is left of each one's group."""
    for child in children:
        child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {timeout:.0f} s; killing it", err=True)
            child.kill_group()
            child.process.wait()
        # Subprocesses of a child that did not wait for them go too.
        child.kill_group()


def child_commands(settings: Settings) -> list[Child]:
    python = sys.executable
    return [
        Child("API (uvicorn)", [
            python, "-m", "uvicorn", "services.app:create_app", "--factory",
            "--host", settings.http.host, "--port", str(settings.http.port), "--no-access-log",
            # Open diaries hold event streams; a stop doesn't wait for them (browsers reconnect).
            "--timeout-graceful-shutdown", "5",
        ]),
        Child("worker (dramatiq)", [python, "-m", "dramatiq", "workers.actors", "--processes", "1", "--threads", "4"]),
        Child("scheduler", [python, "-m", "workers.scheduler"]),
    ]


# --- the data folder ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def data_folder_lock(data: Path) -> Iterator[None]:
    """One launcher per data folder: a second one would start a second Redis on the same files."""
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle: IO[str] = (data / LOCK_FILE).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LaunchError(f"another launcher is already running with the data folder {data}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def clean_leftovers(data: Path) -> None:
    """After a launcher was killed outright: stop its Redis, forget its handle on the embedded PostgreSQL."""
    import psutil

    redis_socket = str(data / "redis" / "redis.sock")
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        # Redis retitles itself "redis-server unixsocket:<path>": match the path inside an argument.
        is_redis = "redis" in (proc.info.get("name") or "")
        if is_redis and any(redis_socket in arg for arg in cmdline) and proc.pid != os.getpid():
            say(f"stopping a Redis left running by an earlier launcher (pid {proc.pid})", err=True)
            with contextlib.suppress(psutil.Error):
                proc.terminate()
                proc.wait(10)
    # pgserver stops its server when the last process holding a handle exits; dead holders must not count.
    handles = data / "postgres" / ".handle_pids.json"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(handles.read_text())
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds passwords), replacing it atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def local_secret_key(data: Path) -> str:
    """The key every API process signs CSRF tokens with; made once per data folder, readable only by its owner."""
    path = data / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def local_address(host: str) -> str:
    """Where the launcher itself reaches a server bound to `host`."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - only mapping a bind address to loopback
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def wait_ready(url: str, children: Sequence[Child], timeout: float, is_ok: Callable[[dict[str, Any]], bool]) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        for child in children:
            if child.exit_code is not None:
                raise LaunchError(f"{child.name} exited with code {child.exit_code} while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http:// URL
                body = json.loads(response.read() or b"{}")
                if response.status == 200 and is_ok(body):
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise LaunchError(f"the API did not become ready within {timeout:.0f} s ({url}: {last})")


# --- migrations and the demo region -------------------------------------------------------------------------


async def prepare_database(settings: Settings, *, previous_demo: DemoInfo | None) -> DemoInfo | None:
    """Migrate everything; with `previous_demo` (what earlier starts issued), make sure the demo region exists."""
    from services.db import Database, create_engine
    from tenants.demo import DemoError, create_demo_region
    from tenants.migrate import migrate_everything

    db = Database(create_engine(settings, application_name="launcher", pool_size=2))
    try:
        report = await migrate_everything(db, jobs=4, progress=False, settings=settings)
        if report.failed:
            lines = "\n".join(f"  - {failure.slug} ({failure.schema}): {failure.error}" for failure in report.failed)
            raise LaunchError(
                f"migrating {len(report.failed)} school(s) failed; the system was not started:\n{lines}\n"
                "fix the cause and start again (finished schools are not migrated twice), "
                "or see `tenants migrate --help`"
            )
        if report.migrated:
            say(f"migrated {report.migrated} school(s) to {report.target} in {report.seconds:.1f} s")
        if previous_demo is None:
            return None
        try:
            return await create_demo_region(db, settings=settings, previous=previous_demo)
        except DemoError as exc:
            raise LaunchError(str(exc)) from exc
    finally:
        await db.dispose()


def read_demo_file(demo_file: Path) -> DemoInfo:
    """What earlier starts issued; whatever it lacks (say, the file was deleted) create_demo_region issues anew."""
    from tenants.demo import DemoInfo

    if demo_file.exists():
        try:
            return DemoInfo.from_json(demo_file.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError):
            say(f"{demo_file} is unreadable; issuing new demo passwords and invite codes", err=True)
    return DemoInfo(region="", schools=(), logins=())


def banner(settings: Settings, data: Path, demo: DemoInfo | None, demo_file: Path) -> str:
    http = settings.http
    base = (http.public_url or f"http://{local_address(http.host)}:{http.port}").rstrip("/")
    lines = ["", f"Электронный журнал запущен: {base}/", f"Данные: {data}"]
    if demo is not None:
        lines += ["", f"{demo.region} — школы:"]
        for school in demo.schools:
            lines.append(f"  {school.name} ({school.time_zone}): {demo.school_url(school.slug, base)}")
            if school.admin_invite_code:
                lines.append(f"      код приглашения администратора: {school.admin_invite_code}")
        lines += ["", "Демонстрационные входы (логин — пароль — кто это):"]
        width = max(len(login.login) for login in demo.logins)
        for login in demo.logins:
            password = login.password or "(пароль неизвестен)"
            lines.append(f"  {login.login:<{width}}  {password:<14}  {login.role}")
        lines.append(f"Логины и пароли сохранены в {demo_file}")
    lines += ["", "Остановить: Ctrl+C", ""]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Everything started so far, stopped in reverse order."""

    children: list[Child] = field(default_factory=list)
    stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def stop(self) -> None:
        stop_children(self.children)
        for name, stop in reversed(self.stops):
            try:
                stop()
            except Exception as exc:
                say(f"stopping {name} failed: {exc}", err=True)
        self.children.clear()
        self.stops.clear()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="journal-run",
        description="Run the whole system locally: embedded PostgreSQL and Redis (unless DATABASE_URL / "
        "REDIS_URL are set), migrations, the demo region, the API, the worker and the scheduler.",
    )
    parser.add_argument("--host", help="address the API binds to (default JOURNAL_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port the API listens on (default JOURNAL_PORT or 8000)")
    parser.add_argument("--no-demo", action="store_true", help="do not create or show the demonstration region")
    return parser.parse_args(argv)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while a server starts and is registered for stopping, so none is orphaned.
    (Not sigprocmask: a blocked mask would be inherited by the server we start.)"""
    pending: list[int] = []
    previous = {signum: signal.signal(signum, lambda received, _frame: pending.append(received))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        raise Interrupted(pending[0])


def _ignore_further_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)


def main(argv: Sequence[str] | None = None) -> int:
    # pgserver asks platformdirs for a runtime folder at import; its complaint about /tmp is noise here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    args = parse_args(argv)
    environ = dict(os.environ)
    if args.host is not None:
        environ["JOURNAL_HOST"] = args.host
    if args.port is not None:
        environ["JOURNAL_PORT"] = str(args.port)
    try:
        settings = load_settings(environ)
    except ConfigError as exc:
        say("invalid configuration:", err=True)
        for problem in exc.problems:
            say(f"  - {problem}", err=True)
        return 2

    data = Path(settings.data_dir).expanduser().resolve()
    stack = Stack()
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with data_folder_lock(data):
            try:
                return _run(args, settings, environ, data, stack)
            finally:
                _ignore_further_signals()
                if stack.children or stack.stops:
                    say("stopping…")
                stack.stop()
    except Interrupted:
        return 0
    except LaunchError as exc:
        say(f"journal-run: {exc}", err=True)
        return 1


LOCAL_S3_KEY = "local"


def start_embedded(settings: Settings, data: Path, environ: dict[str, str], stack: Stack) -> None:
    """Embedded PostgreSQL, Redis and S3 for whichever of DATABASE_URL / REDIS_URL / S3_ENDPOINT_URL is unset;
    their addresses go to `environ`, which the child processes get."""
    from infra.local.embedded import quiet_platformdirs, start_postgres, start_redis

    with quiet_platformdirs():
        if not settings.database.url:
            say(f"starting embedded PostgreSQL in {data / 'postgres'}")
            with signals_deferred():
                try:
                    pg = start_postgres(data / "postgres")
                except Exception as exc:
                    log = data / "postgres" / "log"
                    raise LaunchError(f"embedded PostgreSQL did not start ({exc}); see {log}") from exc
                stack.stops.append(("PostgreSQL", pg.stop))
                environ["DATABASE_URL"] = pg.create_database()
        if not settings.redis.url:
            say(f"starting embedded Redis in {data / 'redis'}")
            with signals_deferred():
                try:
                    redis = start_redis(data / "redis")
                except RuntimeError as exc:
                    raise LaunchError(str(exc)) from exc
                stack.stops.append(("Redis", redis.stop))
                environ["REDIS_URL"] = redis.url
    if not settings.outbound.s3_endpoint_url:
        start_local_s3(environ, stack)


def start_local_s3(environ: dict[str, str], stack: Stack) -> None:
    """An in-memory S3 in a thread of the launcher, its bucket made; the children reach it over loopback HTTP."""
    from infra.local.embedded import start_s3
    from services.files.storage import storage_from_settings

    say("starting an in-memory S3 (moto): uploaded files are lost when this command stops")
    with signals_deferred():
        try:
            s3 = start_s3()
        except Exception as exc:
            raise LaunchError(f"the in-memory S3 did not start ({exc})") from exc
        stack.stops.append(("S3", s3.stop))
    environ["S3_ENDPOINT_URL"] = s3.url
    environ["S3_ACCESS_KEY_ID"] = LOCAL_S3_KEY
    environ["S3_SECRET_ACCESS_KEY"] = LOCAL_S3_KEY
    storage = storage_from_settings(load_settings(environ))
    assert storage is not None
    try:
        storage.ensure_bucket_sync()
    except Exception as exc:
        raise LaunchError(f"could not create the bucket in the in-memory S3 ({exc})") from exc
    finally:
        storage.close()


def _run(args: argparse.Namespace, settings: Settings, environ: dict[str, str], data: Path, stack: Stack) -> int:
    if not port_is_free(settings.http.host, settings.http.port):
        raise LaunchError(f"port {settings.http.port} on {settings.http.host} is busy; choose another with --port")
    clean_leftovers(data)
    started = time.perf_counter()
    start_embedded(settings, data, environ, stack)
    environ["JOURNAL_DATA_DIR"] = str(data)
    environ["JOURNAL_HOST"] = settings.http.host
    environ["JOURNAL_PORT"] = str(settings.http.port)
    environ["REDIS_NAMESPACE"] = settings.redis.namespace
    if not settings.security.secret_key:
        environ["JOURNAL_SECRET_KEY"] = local_secret_key(data)
    settings = load_settings(environ)

    # The API spends seconds importing: it does so while the launcher migrates. It touches no table until a
    # request comes, and nobody is told its address before the migrations and the demo region are done. The
    # worker and the scheduler run jobs at once, so they start only after the migrations.
    api, *background = child_commands(settings)
    with signals_deferred():
        stack.children.append(api)
        api.start(environ)

    demo_file = data / DEMO_FILE
    demo = asyncio.run(prepare_database(settings, previous_demo=None if args.no_demo else read_demo_file(demo_file)))
    if demo is not None:
        if demo.created or demo.secrets_issued or not demo_file.exists():
            write_private(demo_file, demo.to_json())
        if demo.created:
            say("создан демонстрационный регион")

    with signals_deferred():
        for child in background:
            stack.children.append(child)
            child.start(environ)
    ready_url = f"http://{local_address(settings.http.host)}:{settings.http.port}/health/ready"
    wait_ready(ready_url, stack.children, READY_TIMEOUT_S, lambda body: body.get("status") == "ok")
    say(banner(settings, data, demo, demo_file))
    say(f"ready in {time.perf_counter() - started:.1f} s")

    while True:
        for child in stack.children:
            code = child.exit_code
            if code is not None:
                raise LaunchError(f"{child.name} exited unexpectedly with code {code}; stopped the others")
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
