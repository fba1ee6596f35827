"""Binding a request to its school: the slug in the URL, checked against the registry, bound per request.

`/s/{school_slug}/…` (pages) and `/api/v1/schools/{school_slug}/…` (API) declare the slug path parameter;
handlers take `school: SchoolRecord` and `session: AsyncSession` and get exactly that school's schema.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from services import audit
from services.db import run_after_commit
from services.errors import SchoolNotFound, SchoolUnavailable
from services.runtime import Runtime, provide_runtime
from services.telemetry import bind_school
from tenants.names import SLUG_RE
from tenants.registry import SchoolRecord

_UNAVAILABLE = {
    "suspended": "Работа школы в электронном журнале приостановлена. Обратитесь в администрацию школы "
    "или в муниципальный орган управления образованием.",
    "archived": "Школа переведена в архив: журнал закрыт для работы. Архивные сведения выдаёт "
    "муниципальный орган управления образованием по запросу.",
}


async def resolve_school(runtime: Runtime, school_slug: str) -> SchoolRecord:
    """The registry's record of the school named in the URL; 404 when unknown, 403 when not working."""
    record = await runtime.registry.resolve(school_slug) if SLUG_RE.fullmatch(school_slug) else None
    if record is None:
        raise SchoolNotFound("Школа с таким адресом не найдена. Проверьте ссылку.")
    if record.status != "active":
        raise SchoolUnavailable(_UNAVAILABLE.get(record.status, "Школа сейчас недоступна."))
    bind_school(record.id)
    return record


async def provide_school(school_slug: FromPath[str], runtime: NamedDependency[Runtime]) -> SchoolRecord:
    return await resolve_school(runtime, school_slug)


async def provide_school_session(
    request: Request[Any, Any, Any], school: NamedDependency[SchoolRecord], runtime: NamedDependency[Runtime]
) -> AsyncGenerator[AsyncSession, None]:
    """One session per request in the school's schema: committed before the response, rolled back on error.
    Its writes are audited on behalf of the signed-in account (R-SEC-2); a public route's session has no
    actor, so it cannot write school rows at all."""
    session = runtime.db.school_session(school.schema)
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        audit.set_actor(session, audit.Actor.account(principal.account_id))
    try:
        yield session
        await session.commit()
        run_after_commit(session, runtime)
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


SCHOOL_DEPENDENCIES = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "school": Provide(provide_school),
    "session": Provide(provide_school_session),
}
