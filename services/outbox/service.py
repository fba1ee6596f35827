"""Recording events in the outbox, in the transaction of the change that causes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.outbox.models import OutboxEvent

# The relay passes these to the actor next to the payload; a payload must not shadow them.
RESERVED_KEYS = frozenset({"event_id", "school_id"})
_TOPIC_MAX = 100


async def add_event(
    session_or_connection: AsyncSession | AsyncConnection,
    *,
    topic: str,
    payload: dict[str, Any],
    school_id: int | None,
) -> None:
    """Record that actor `topic` must run with `payload` once the caller's transaction commits; never commits."""
    await add_events(session_or_connection, topic=topic, payloads=[payload], school_id=school_id)


async def add_events(
    session_or_connection: AsyncSession | AsyncConnection,
    *,
    topic: str,
    payloads: list[dict[str, Any]],
    school_id: int | None,
) -> None:
    """`add_event` for several payloads of one topic, in one statement."""
    if not topic or len(topic) > _TOPIC_MAX:
        raise ValueError(f"outbox topic must be an actor name of 1 to {_TOPIC_MAX} characters")
    for payload in payloads:
        if clash := RESERVED_KEYS & payload.keys():
            raise ValueError(f"outbox payload must not use the keys {sorted(clash)}: the relay sets them")
    if payloads:
        await session_or_connection.execute(insert(OutboxEvent), [
            {"topic": topic, "payload": payload, "school_id": school_id, "attempts": 0} for payload in payloads])
