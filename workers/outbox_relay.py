"""Moves committed outbox events to Dramatiq.

An event leaves the outbox only once Redis accepted its message: while Redis is down events stay pending and
the failure is recorded on them, so an outage delays work and never loses it. The rows are locked with
SKIP LOCKED, so several relays may run at once without sending an event twice at the same moment.

Delivery is still at least once: if the commit that marks events as dispatched fails after Redis accepted the
messages, the next pass sends them again. Actors therefore treat the event id as an idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq
import redis
from dramatiq.errors import BrokerConnectionError
from opentelemetry import trace
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database
from services.outbox.models import OutboxEvent

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

UNKNOWN_TOPIC = "unknown topic"
_ERROR_MAX = 200
_BROKER_DOWN = (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError)


@dataclass
class _Outcome:
    sent: list[int] = field(default_factory=list)
    # event id -> short reason; never the payload
    failed: dict[int, str] = field(default_factory=dict)


async def relay_once(db: Database, broker: dramatiq.Broker, *, batch: int = 100) -> int:
    """Send up to `batch` pending events to their actors; return how many Redis accepted."""
    actors = broker.actors
    if not actors:
        return 0
    async with db.transaction() as session:
        await _park_unknown_topics(session, known=sorted(actors), batch=batch)
        rows = (
            await session.execute(
                select(OutboxEvent.id, OutboxEvent.school_id, OutboxEvent.topic, OutboxEvent.payload)
                .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.topic.in_(sorted(actors)))
                .order_by(OutboxEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        # A span only for passes that send something: an idle relay ticks every second.
        with tracer.start_as_current_span("outbox.relay") as span:
            messages = [
                (
                    row.id,
                    actors[row.topic].message_with_options(
                        kwargs={**row.payload, "event_id": row.id, "school_id": row.school_id}
                    ),
                )
                for row in rows
            ]
            # redis-py blocks; a thread keeps the loop free (signals, other jobs). The thread gets a copy of this
            # context, so the messages carry the relay span as their parent.
            outcome = await asyncio.to_thread(_enqueue_all, broker, messages)
            await _record(session, outcome)
            span.set_attribute("outbox.dispatched", len(outcome.sent))
            span.set_attribute("outbox.failed", len(outcome.failed))
    if outcome.failed:
        logger.warning(
            "outbox relay: %d events stay pending: %s", len(outcome.failed), next(iter(outcome.failed.values()))
        )
    return len(outcome.sent)


def _enqueue_all(broker: dramatiq.Broker, messages: Sequence[tuple[int, dramatiq.Message[Any]]]) -> _Outcome:
    outcome = _Outcome()
    for position, (event_id, message) in enumerate(messages):
        try:
            broker.enqueue(message)
        except _BROKER_DOWN as exc:
            # Redis is unreachable: the rest of the batch would fail the same way, slowly. Stop and let the next
            # pass retry them all; every event of the batch records the failed attempt.
            reason = f"broker unreachable: {type(exc).__name__}: {exc}"[:_ERROR_MAX]
            outcome.failed.update({pending_id: reason for pending_id, _ in messages[position:]})
            break
        except Exception as exc:
            # Something about this one message (a middleware refused it): record it, keep the queue moving. Only
            # the type: the exception text could quote the payload.
            outcome.failed[event_id] = f"enqueue failed: {type(exc).__name__}"
        else:
            outcome.sent.append(event_id)
    return outcome


async def _record(session: AsyncSession, outcome: _Outcome) -> None:
    if outcome.sent:
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(outcome.sent))
            .values(dispatched_at=func.clock_timestamp())
            .execution_options(synchronize_session=False)
        )
    for reason in set(outcome.failed.values()):
        ids = [event_id for event_id, why in outcome.failed.items() if why == reason]
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(attempts=OutboxEvent.attempts + 1, last_error=reason)
            .execution_options(synchronize_session=False)
        )


async def _park_unknown_topics(session: AsyncSession, *, known: list[str], batch: int) -> None:
    """Say why events no actor here handles stay pending; the main query skips them, so they block nothing.

    They are usually written by a newer release than this relay runs, and are sent once a relay that knows their
    actor runs, so they are not dropped.
    """
    unknown = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.dispatched_at.is_(None),
            OutboxEvent.topic.not_in(known),
            OutboxEvent.last_error.is_distinct_from(UNKNOWN_TOPIC),
        )
        .order_by(OutboxEvent.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    parked = (
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(unknown))
            .values(last_error=UNKNOWN_TOPIC)
            .returning(OutboxEvent.id, OutboxEvent.topic)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for event_id, topic in parked:
        logger.warning("outbox event %s has topic %r, which no actor here handles; it stays pending", event_id, topic)
