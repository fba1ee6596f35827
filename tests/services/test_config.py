"""Settings an operator gets wrong stop the start, and the message says which variable to fix (R-SEC-6 too)."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.config import ConfigError, load_settings
from tests.conftest import Backends

PROJECT = Path(__file__).resolve().parents[2]
FOREIGN = "s3.amazonaws.com"


def refused(environ: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return caught.value


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("S3_ENDPOINT_URL", f"https://{FOREIGN}"),
        ("S3_ENDPOINT_URL", f"https://bucket.{FOREIGN}:443/journal"),
        ("S3_ENDPOINT_URL", f"{FOREIGN}:443"),
        ("SMTP_HOST", "smtp.gmail.com"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.eu01.nr-data.net:4318"),
        ("DATABASE_URL", "postgresql://journal:secret@db.eu-central-1.rds.amazonaws.com:5432/journal"),
        ("REDIS_URL", "rediss://cache.upstash.io:6379/0"),
    ],
)
def test_an_endpoint_outside_russia_refuses_start_naming_the_variable(variable: str, value: str) -> None:
    error = refused({variable: value})
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith(variable)
    assert variable in str(error)
    assert "RESIDENCY_ALLOWED_HOSTS" in str(error), "the operator must learn where hosts are declared"


def test_one_foreign_oidc_issuer_among_allowed_ones_is_named() -> None:
    error = refused(
        {
            "RESIDENCY_ALLOWED_HOSTS": "localhost,id.example.ru,esia.gosuslugi.ru",
            "OIDC_ISSUERS": "https://id.example.ru/realms/school, https://accounts.google.com ,https://esia.gosuslugi.ru",
        }
    )
    assert len(error.problems) == 1, error.problems
    assert error.problems[0].startswith("OIDC_ISSUERS")
    assert "accounts.google.com" in error.problems[0]
    assert "id.example.ru" not in str(error)
    assert "gosuslugi" not in str(error)


@pytest.mark.parametrize(
    "value",
    [
        "https://s3.example.ru@s3.amazonaws.com/bucket",  # user-info that looks like the allowed host
        "https://evilexample.ru",  # ends with the allowed domain's name but is another domain
        "https://s3.example.ru.attacker.com",  # starts with an allowed name
        "https://",  # no host at all
    ],
)
def test_look_alike_hosts_do_not_pass_the_subdomain_pattern(value: str) -> None:
    error = refused({"RESIDENCY_ALLOWED_HOSTS": "localhost,*.example.ru", "S3_ENDPOINT_URL": value})
    assert [p.split(" ")[0] for p in error.problems] == ["S3_ENDPOINT_URL"]


@pytest.mark.parametrize(
    "url",
    [
        # SQLAlchemy's multi-host form: asyncpg tries the socket, then fails over to the foreign host.
        "postgresql:///journal?host=/var/run/postgresql:5432&host=db.eu-central-1.rds.amazonaws.com:5432",
        "postgresql://journal@/journal?host=/tmp:5432&host=[2001:db8::7]:5432",
        "postgresql:///journal?host=db.eu-central-1.rds.amazonaws.com",
    ],
)
def test_a_foreign_database_host_in_the_query_string_is_refused(url: str) -> None:
    error = refused({"DATABASE_URL": url})
    assert [p.split(" ")[0] for p in error.problems] == ["DATABASE_URL"]


def test_hosts_in_the_allow_list_pass_exactly_or_by_subdomain_pattern() -> None:
    settings = load_settings(
        {
            "RESIDENCY_ALLOWED_HOSTS": "localhost, 127.0.0.1, *.example.ru, mail.school-42.ru, collector.mon.ru",
            "S3_ENDPOINT_URL": "https://storage.s3.example.ru:9000",
            "SMTP_HOST": "Mail.School-42.ru",
            "OIDC_ISSUERS": "https://id.example.ru/realms/school,https://sso.region.example.ru",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.mon.ru:4318",
            "DATABASE_URL": "postgresql://journal@db.example.ru:5432/journal",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert settings.outbound.s3_endpoint_url == "https://storage.s3.example.ru:9000"
    assert settings.outbound.oidc_issuers == ("https://id.example.ru/realms/school", "https://sso.region.example.ru")
    assert settings.outbound.otlp_endpoint == "http://collector.mon.ru:4318"


def test_default_allow_list_accepts_local_services_and_sockets() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql:///journal?host=/var/run/postgresql:5432&host=/tmp:5432",
            "REDIS_URL": "redis://[::1]:6379/0",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
            "SMTP_HOST": "127.0.0.1",
        }
    )
    assert settings.redis.url == "redis://[::1]:6379/0"


def test_a_bad_integer_is_named() -> None:
    error = refused({"JOURNAL_PORT": "abc"})
    assert len(error.problems) == 1
    assert error.problems[0].startswith("JOURNAL_PORT")
    assert "'abc'" in error.problems[0]


def test_a_bad_time_zone_is_named() -> None:
    error = refused({"JOURNAL_DEFAULT_TIME_ZONE": "Europe/Mordor"})
    assert len(error.problems) == 1
    assert error.problems[0].startswith("JOURNAL_DEFAULT_TIME_ZONE")
    assert "Europe/Mordor" in error.problems[0]


def test_every_problem_is_reported_at_once() -> None:
    error = refused(
        {
            "JOURNAL_PORT": "abc",
            "DB_POOL_SIZE": "ten",
            "JOURNAL_DEFAULT_TIME_ZONE": "Moscow",
            "LOG_LEVEL": "LOUD",
            "S3_ENDPOINT_URL": f"https://{FOREIGN}",
            "SMTP_HOST": "smtp.gmail.com",
        }
    )
    named = sorted(p.split("=")[0].split(" ")[0] for p in error.problems)
    assert named == sorted(
        ["JOURNAL_PORT", "DB_POOL_SIZE", "JOURNAL_DEFAULT_TIME_ZONE", "LOG_LEVEL", "S3_ENDPOINT_URL", "SMTP_HOST"]
    )
    message = str(error)
    for variable in named:
        assert variable in message


def _api_process(backends: Backends, **extra: str) -> subprocess.Popen[bytes]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("S3_", "SMTP_", "OIDC_", "OTEL_", "RESIDENCY_"))
    }
    environ.update(
        DATABASE_URL=backends.database_url,
        REDIS_URL=backends.redis_url,
        REDIS_NAMESPACE=backends.namespace,
        JOURNAL_DATA_DIR=str(backends.data_dir),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    command = [sys.executable, "-m", "uvicorn", "services.app:create_app", "--factory", "--port", "0"]
    return subprocess.Popen(command, cwd=PROJECT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_the_api_process_refuses_to_start_with_a_foreign_s3_endpoint(backends: Backends) -> None:
    process = _api_process(backends, S3_ENDPOINT_URL=f"https://{FOREIGN}/journal")
    try:
        _, raw = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the API started (or hung) although S3_ENDPOINT_URL points outside the allow-list")
    stderr = raw.decode(errors="replace")
    assert process.returncode != 0
    assert "S3_ENDPOINT_URL" in stderr
    assert FOREIGN in stderr


def test_the_same_process_starts_when_the_s3_host_is_declared(backends: Backends) -> None:
    """The control for the test above: the command and backends are fine, only the endpoint's host decides."""
    process = _api_process(
        backends,
        S3_ENDPOINT_URL="https://s3.storage.example.ru/journal",
        RESIDENCY_ALLOWED_HOSTS="localhost,127.0.0.1,*.example.ru",
    )
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 20
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stderr, selectors.EVENT_READ)
            while b"Application startup complete" not in seen and time.monotonic() < deadline:
                if selector.select(timeout=0.2):
                    chunk = os.read(process.stderr.fileno(), 65536)
                    if not chunk:
                        break
                    seen += chunk
        assert b"Application startup complete" in seen, seen.decode(errors="replace")
        assert process.poll() is None
    finally:
        process.terminate()
        process.communicate(timeout=10)
