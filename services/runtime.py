"""What a process holds for its whole life: settings, the database, the school registry, Redis."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State
from litestar.di import NamedDependency
from redis.asyncio import Redis

from services.config import Settings
from services.db import Database
from services.diary.live import DiaryBus
from services.files.storage import FileStorage
from services.identity.sessions import SessionStore
from services.identity.throttle import LoginThrottle
from tenants.registry import SchoolRegistry


@dataclass(slots=True)
class Runtime:
    settings: Settings
    db: Database
    registry: SchoolRegistry
    redis: Redis
    sessions: SessionStore
    throttle: LoginThrottle
    storage: FileStorage | None = None
    """Object storage for files (homework); None when S3_ENDPOINT_URL is unset (uploads answer 503)."""
    diary: DiaryBus | None = None
    """Wakes open diaries when the journal changes (`services.diary.live`)."""


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_storage(runtime: NamedDependency[Runtime]) -> FileStorage | None:
    """The `storage` dependency of routes that keep files (homework, mail attachments)."""
    return runtime.storage
