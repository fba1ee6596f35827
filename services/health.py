"""Liveness and readiness: readiness reports PostgreSQL and Redis separately, with their latency."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from sqlalchemy import text

from services.identity.policy import PUBLIC
from services.runtime import Runtime, provide_runtime

CHECK_TIMEOUT_S = 2.0


async def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception as exc:
        return {"status": "fail", "error": type(exc).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    dependencies = {"runtime": Provide(provide_runtime, sync_to_thread=False)}

    @get("/live", summary="The process is up", opt=PUBLIC)
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="PostgreSQL and Redis answer", opt=PUBLIC)
    async def ready(self, runtime: NamedDependency[Runtime]) -> Response[dict[str, Any]]:
        async def postgres() -> None:
            async with runtime.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        async def redis() -> None:
            await runtime.redis.ping()

        pg_check, redis_check = await asyncio.gather(_timed(postgres), _timed(redis))
        checks = {"postgresql": pg_check, "redis": redis_check}
        ok = all(check["status"] == "ok" for check in checks.values())
        return Response({"status": "ok" if ok else "fail", "checks": checks}, status_code=200 if ok else 503)
