"""Liveness, readiness (PostgreSQL and Redis reported separately) and the OpenAPI document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from litestar import Litestar

from services.app import create_app
from tests.conftest import Backends, settings_for


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Serve `app` the way the suite's `server_url` fixture does: uvicorn in this event loop, port 0."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        await task


async def test_live_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_both_backends_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"postgresql", "redis"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["latency_ms"], int | float)
        assert check["latency_ms"] >= 0


@pytest.mark.parametrize(
    ("down", "setting", "dead_url"),
    [
        ("redis", "REDIS_URL", "redis://127.0.0.1:1/0"),
        ("postgresql", "DATABASE_URL", "postgresql://postgres@127.0.0.1:1/journal"),
    ],
)
async def test_ready_is_503_naming_the_backend_that_is_down(
    backends: Backends, client: httpx.AsyncClient, down: str, setting: str, dead_url: str
) -> None:
    # `client` first: the suite's own app starts (and instruments its engine) before this second one.
    app = create_app(settings_for(backends, **{setting: dead_url}))
    async with served(app) as http:
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
    assert live.status_code == 200, "a process whose backend is down is still alive: do not restart it"
    assert ready.status_code == 503, ready.text
    assert ready.headers["content-type"].startswith("application/json"), "a health report, not an error problem"
    body = ready.json()
    assert body["status"] == "fail"
    assert body["checks"][down]["status"] == "fail"
    assert body["checks"][down]["error"]
    (up,) = {"postgresql", "redis"} - {down}
    assert body["checks"][up]["status"] == "ok"
    assert "127.0.0.1:1" not in ready.text, "the report names the failing service, not its address"


async def test_schema_is_the_openapi_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/")
    assert "json" in response.headers["content-type"]
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert "get" in paths["/api/v1/schools/{school_slug}/classes"]
    assert "get" in paths["/api/v1/schools/{school_slug}/classes/{class_id}"]
    assert "/health/ready" in paths
    assert not [p for p in paths if p.startswith("/s/")], "pages are not part of the API"
