"""Traces and metrics for Dramatiq messages.

The trace context travels inside the message's options, so the span of a job is a child of whatever enqueued it
(the outbox relay, or a request that sends directly). Spans and metrics name the actor, queue and message id, and
the school the job works for; they never carry message arguments, which may hold personal data. Dramatiq's own
log lines would print those arguments; `hide_message_arguments` keeps them out of the logs.
"""

from __future__ import annotations

import logging
import threading
import time
from contextvars import Token
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.broker import Broker, MessageProxy
from opentelemetry import context, metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.telemetry import SCHOOL_ATTRIBUTE, school_id_var

TRACE_CONTEXT_OPTION = "trace_context"


@dataclass(slots=True)
class _ActiveJob:
    span: trace.Span
    context_token: Token[context.Context]
    school_token: Token[int | None] | None
    started: float


class TracingMiddleware(dramatiq.Middleware):
    """One consumer span per processed message, linked to the producer through the message options."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        # Without explicit providers the global ones are used; instruments made before the process installs its
        # providers (this middleware is built at import time) are proxies that start recording once they exist.
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(__name__, meter_provider=meter_provider)
        self._processed = meter.create_counter(
            "dramatiq.messages.processed", unit="{message}", description="messages processed, by actor and outcome"
        )
        self._duration = meter.create_histogram(
            "dramatiq.message.duration", unit="s", description="time spent processing one message"
        )
        # A worker thread processes one message at a time and runs both hooks of a message itself, so the state
        # of the message in flight can live in a thread-local; message ids are shared by retries, so not a dict.
        self._local = threading.local()

    def before_enqueue(self, broker: Broker, message: dramatiq.Message[Any], delay: int) -> None:
        # A retry re-enqueues a copy that already carries the original producer's context: keep it, so every
        # attempt of a job hangs under the same parent.
        if TRACE_CONTEXT_OPTION not in message.options:
            carrier: dict[str, str] = {}
            inject(carrier)
            if carrier:
                message.options[TRACE_CONTEXT_OPTION] = carrier

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        parent = extract(message.options.get(TRACE_CONTEXT_OPTION) or {})
        attributes: dict[str, str | int] = {
            "messaging.system": "dramatiq",
            "messaging.operation": "process",
            "messaging.message.id": message.message_id,
            "messaging.destination.name": message.queue_name,
            "dramatiq.retries": int(message.options.get("retries", 0)),
        }
        event_id = message.kwargs.get("event_id")
        if isinstance(event_id, int):
            attributes["journal.outbox.event_id"] = event_id
        school_id = message.kwargs.get("school_id")
        school_token = None
        if isinstance(school_id, int):
            attributes[SCHOOL_ATTRIBUTE] = school_id
            # Logs of the job carry the school too; the var is reset after the message so it cannot leak into
            # the next message this thread takes.
            school_token = school_id_var.set(school_id)
        span = self._tracer.start_span(
            message.actor_name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
        )
        # Async actors run on the event loop thread, but asyncio copies this thread's context into the task, so the
        # span stays the parent of whatever the job does (SQL, Redis, further messages).
        token = context.attach(trace.set_span_in_context(span, parent))
        self._local.job = _ActiveJob(span, token, school_token, time.perf_counter())

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        self._finish(message, exception=exception, skipped=False)

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self._finish(message, exception=None, skipped=True)

    def _finish(self, message: MessageProxy, *, exception: BaseException | None, skipped: bool) -> None:
        job: _ActiveJob | None = getattr(self._local, "job", None)
        self._local.job = None
        if job is None:
            return
        outcome = "skipped" if skipped else "error" if exception is not None else "ok"
        if exception is not None:
            # Only the type: exception messages can quote data (a unique-key violation echoes the value).
            error_type = type(exception).__qualname__
            job.span.set_attribute("error.type", error_type)
            job.span.set_status(Status(StatusCode.ERROR, error_type))
        job.span.set_attribute("dramatiq.outcome", outcome)
        job.span.end()
        context.detach(job.context_token)
        if job.school_token is not None:
            school_id_var.reset(job.school_token)
        labels = {
            "messaging.destination.name": message.queue_name,
            "dramatiq.actor": message.actor_name,
            "dramatiq.outcome": outcome,
        }
        self._processed.add(1, labels)
        self._duration.record(time.perf_counter() - job.started, labels)


class HideMessageArguments(logging.Filter):
    """Dramatiq logs a message as `actor(name='…', …)`; log its actor and id instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, dramatiq.Message | MessageProxy) for a in record.args):
            record.args = tuple(
                f"{a.actor_name} (message {a.message_id})" if isinstance(a, dramatiq.Message | MessageProxy) else a
                for a in record.args
            )
        return True


def hide_message_arguments() -> None:
    """Filter every root handler: a filter on a logger would miss records its children propagate."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, HideMessageArguments) for f in handler.filters):
            handler.addFilter(HideMessageArguments())
