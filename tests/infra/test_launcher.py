"""The run command end to end: a cold start on an empty data folder, a clean stop, a warm start on the same data.

The launcher runs as a real subprocess with DATABASE_URL / REDIS_URL removed, so it starts the embedded
PostgreSQL and Redis itself, migrates, creates the demo region and starts the API, the worker and the scheduler.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BANNER = "Электронный журнал запущен"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Launcher:
    def __init__(self, data_dir: Path, port: int, log: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE")}
        env |= {"JOURNAL_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        env.pop("JOURNAL_PUBLIC_URL", None)
        self.log = log
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local.launcher", "--port", str(port), *args],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return time.monotonic() - self.started
            if self.process.poll() is not None:
                pytest.fail(f"the launcher exited with {self.process.returncode}:\n{self.output()}")
            time.sleep(0.2)
        pytest.fail(f"no {text!r} within {timeout} s:\n{self.output()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the launcher did not stop within {STOP_TIMEOUT_S} s:\n{self.output()}")

    def ensure_stopped(self) -> None:
        """After a failed test: stop it the polite way, then the hard way."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def related_processes(launcher: Launcher | None, data_dir: Path) -> list[psutil.Process]:
    """The launcher's children (recursively) and every process whose command line names the data folder."""
    found: dict[int, psutil.Process] = {}
    if launcher is not None:
        with contextlib.suppress(psutil.NoSuchProcess):
            found = {p.pid: p for p in psutil.Process(launcher.process.pid).children(recursive=True)}
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(data_dir) in arg for arg in proc.info.get("cmdline") or []):
            found[proc.pid] = proc
    postmaster = data_dir / "postgres" / "postmaster.pid"
    if postmaster.exists():
        pid = int(postmaster.read_text().split()[0])
        if psutil.pid_exists(pid):
            found[pid] = psutil.Process(pid)
    if launcher is not None:
        found.pop(launcher.process.pid, None)
    return list(found.values())


def survivors(processes: list[psutil.Process], timeout: float = 10) -> list[str]:
    """Those still running after `timeout` (zombies waiting for a reaper count as gone)."""
    deadline = time.monotonic() + timeout
    alive: list[str] = []
    while time.monotonic() < deadline:
        alive = []
        for proc in processes:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return []
        time.sleep(0.2)
    return alive


def check_running(base: str, login: str, password: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        ready = http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["postgresql"]["status"] == "ok"
        assert checks["redis"]["status"] == "ok"
        assert http.get("/s/demo-1/", headers={"Accept": "text/html"}).status_code == 303, "pages need a login"
        http.get("/login")
        signed = http.post("/login", data={"login": login, "password": password, "next": "/s/demo-1/"},
                           headers={"x-csrftoken": http.cookies["csrftoken"]})
        assert signed.status_code == 303, signed.text
        page = http.get("/s/demo-1/", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert 'lang="ru"' in page.text
        assert "МБОУ СОШ № 1" in page.text
        assert "5А" in page.text


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Not under pytest's tmp folder: as root, the embedded PostgreSQL runs as the user `pgserver`, which must
    traverse every parent folder, and each pytest session resets /tmp/pytest-of-<user> to mode 0700."""
    folder = Path(tempfile.mkdtemp(prefix="journal-launcher-"))
    yield folder / "data"
    # Whatever a failed test left running (embedded PostgreSQL and Redis outlive a killed launcher).
    for proc in related_processes(None, folder / "data"):
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    shutil.rmtree(folder, ignore_errors=True)


def test_cold_start_stop_and_warm_start(data_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # Cold: an empty data folder; embedded servers, migrations, the demo region, three processes. Ctrl-C stops.
    cold = Launcher(data_dir, port, tmp_path / "cold.log")
    try:
        cold_s = cold.wait_for(BANNER, START_TIMEOUT_S)
        demo_file = data_dir / "demo-logins.json"
        assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
        saved = json.loads(demo_file.read_text(encoding="utf-8"))
        logins = {row["login"]: row["password"] for row in saved["logins"]}
        assert all(logins.values())
        out = cold.output()
        assert "создан демонстрационный регион" in out
        assert f"{base}/s/demo-1/" in out
        for login, password in logins.items():
            assert login in out
            assert password in out
        assert all(school["admin_invite_code"] in out for school in saved["schools"])
        check_running(base, "demo1-admin", logins["demo1-admin"])
        processes = related_processes(cold, data_dir)
        names = " ".join(" ".join(p.cmdline()) for p in processes)
        for expected in ("uvicorn", "dramatiq", "workers.scheduler", "redis-server", "postgres"):
            assert expected in names, f"{expected} is not running: {names}"

        assert cold.stop(signal.SIGINT) == 0, cold.output()
        assert survivors(processes) == []
    finally:
        cold.ensure_stopped()

    # Warm: the same data, the same logins, nothing created again. SIGTERM stops.
    warm = Launcher(data_dir, port, tmp_path / "warm.log")
    try:
        warm_s = warm.wait_for(BANNER, START_TIMEOUT_S)
        out = warm.output()
        again = json.loads((data_dir / "demo-logins.json").read_text(encoding="utf-8"))
        assert {row["login"]: row["password"] for row in again["logins"]} == logins, "the same logins and passwords"
        for login, password in logins.items():
            assert login in out
            assert password in out
        assert "создан демонстрационный регион" not in out
        check_running(base, "demo1-admin", logins["demo1-admin"])
        processes = related_processes(warm, data_dir)
        assert warm.stop(signal.SIGTERM) == 0, warm.output()
        assert survivors(processes) == []
    finally:
        warm.ensure_stopped()

    # A process that dies on its own takes the rest down, and the launcher says which one.
    third = Launcher(data_dir, port, tmp_path / "third.log", "--no-demo")
    try:
        third.wait_for(BANNER, START_TIMEOUT_S)
        assert "demo1-admin" not in third.output()
        processes = related_processes(third, data_dir)
        scheduler = next(p for p in processes if "workers.scheduler" in " ".join(p.cmdline()))
        scheduler.kill()
        assert third.process.wait(STOP_TIMEOUT_S) == 1, third.output()
        assert "scheduler exited unexpectedly" in third.output()
        assert survivors(processes) == []
    finally:
        third.ensure_stopped()
    print(f"cold start {cold_s:.1f} s, warm start {warm_s:.1f} s")
