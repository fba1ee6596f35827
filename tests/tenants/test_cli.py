"""The operator's `tenants` command: onboarding, status changes, refusals with clear messages."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
from litestar import Litestar

from tests.conftest import Backends


def tenants(backends: Backends, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": backends.database_url, "REDIS_URL": backends.redis_url}
    return subprocess.run([sys.executable, "-m", "tenants.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


async def test_onboard_a_school_and_change_its_status(backends: Backends, app: Litestar,
                                                      client: httpx.AsyncClient) -> None:
    code = f"R{uuid.uuid4().hex[:6]}"
    assert tenants(backends, "add-region", "--code", code, "--name", "Область").returncode == 0
    made = tenants(backends, "add-municipality", "--region", code, "--name", "Район")
    assert made.returncode == 0, made.stderr
    municipality = made.stdout.split()[-1]
    slug = f"cli-{uuid.uuid4().hex[:8]}"

    created = tenants(backends, "create", "--municipality", municipality, "--slug", slug,
                      "--name", "МБОУ СОШ № 7", "--tz", "Asia/Vladivostok")
    assert created.returncode == 0, created.stderr
    assert "invite code" in created.stdout
    assert slug in tenants(backends, "list").stdout
    assert (await client.get(f"/api/v1/schools/{slug}/")).json()["time_zone"] == "Asia/Vladivostok"

    assert tenants(backends, "suspend", slug, "--reason", "проверка").returncode == 0
    listed = tenants(backends, "list", "--status", "suspended").stdout
    assert slug in listed
    app.state.runtime.registry.invalidate(slug)
    assert (await client.get(f"/api/v1/schools/{slug}/")).status_code == 403

    assert tenants(backends, "resume", slug).returncode == 0
    assert tenants(backends, "archive", slug).returncode == 0
    refused = tenants(backends, "resume", slug)
    assert refused.returncode == 2
    assert "archived" in refused.stderr


def test_bad_requests_are_refused_with_the_reason(backends: Backends) -> None:
    bad_slug = tenants(backends, "create", "--municipality", "1", "--slug", "Школа 1", "--name", "x")
    assert bad_slug.returncode == 2
    assert "slug" in bad_slug.stderr
    bad_zone = tenants(backends, "create", "--municipality", "1", "--slug", "ok", "--name", "x", "--tz", "Mars/Base")
    assert bad_zone.returncode == 2
    assert "time zone" in bad_zone.stderr
    unknown = tenants(backends, "suspend", "no-such-school")
    assert unknown.returncode == 2
    assert "no school" in unknown.stderr
