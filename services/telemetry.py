"""Logs, traces and metrics. JSON log lines carry the request id and school id; spans carry the school id.

Neither ever carries personal data: log calls pass ids only, SQL spans hold statements without parameters,
and HTTP spans are stripped of query strings (a search term could be a name).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
school_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("school_id", default=None)

SCHOOL_ATTRIBUTE = "school.id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id(offered: str | None) -> str:
    """Keep a well-formed id from the caller or the proxy; otherwise make one."""
    if offered and _REQUEST_ID_RE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def bind_school(school_id: int) -> None:
    """Mark the rest of this request or job as working for one school: its logs and spans say so."""
    school_id_var.set(school_id)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(SCHOOL_ATTRIBUTE, school_id)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and school ids, trace id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        if (school_id := school_id_var.get()) is not None:
            entry["school_id"] = school_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
        if record.exc_info and record.exc_info[0] is not None:
            # Frames only: an exception's message may quote stored values (asyncpg's "Key (…)=(…)"), so it stays out.
            entry["error"] = record.exc_info[0].__name__
            entry["stack"] = "".join(traceback.format_tb(record.exc_info[2])) + record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Access lines carry full URLs (query strings may hold names); HTTP spans and metrics cover traffic.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # APScheduler logs every run of every job (the outbox relay runs each second).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


class SchoolSpanProcessor(SpanProcessor):
    """Copies the bound school id onto every span started while it is bound (SQL, jobs, HTTP), and strips
    exception messages from spans before they are exported."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        school_id = school_id_var.get()
        if school_id is not None:
            span.set_attribute(SCHOOL_ATTRIBUTE, school_id)

    def on_end(self, span: ReadableSpan) -> None:
        """Keep only error types: instrumentations put exception text (PostgreSQL's DETAIL quotes row values)
        into the status and exception events. Runs before the exporting processor, which was added later."""
        if span.status.description:
            span._status = Status(span.status.status_code)
        if any(event.name == "exception" for event in span.events):
            span._events = tuple(_scrubbed(event) for event in span.events)


def _scrubbed(event: Event) -> Event:
    if event.name != "exception":
        return event
    kept = {"exception.type": (event.attributes or {}).get("exception.type", "")}
    return Event(event.name, kept, event.timestamp)


_tracer_provider: TracerProvider | None = None
_meter_provider: MeterProvider | None = None


def setup_telemetry(service_name: str, role: str, otlp_endpoint: str | None) -> tuple[TracerProvider, MeterProvider]:
    """Install the process's tracer and meter providers once; export over OTLP/HTTP when configured."""
    global _tracer_provider, _meter_provider
    if _tracer_provider is not None and _meter_provider is not None:
        return _tracer_provider, _meter_provider
    resource = Resource.create({"service.name": service_name, "service.namespace": "journal", "journal.role": role})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SchoolSpanProcessor())
    readers = []
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        base = otlp_endpoint.rstrip("/")
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics")))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    _tracer_provider, _meter_provider = tracer_provider, meter_provider
    return tracer_provider, meter_provider


def scrub_http_span(span: trace.Span, scope: dict[str, Any]) -> None:
    """Drop query strings from HTTP span attributes: a search term may be a person's name."""
    if not span.is_recording():
        return
    path = scope.get("path", "")
    span.set_attribute("http.target", path)
    span.set_attribute("url.query", "")
    scheme, server = scope.get("scheme", "http"), scope.get("server") or ("", None)
    host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    span.set_attribute("http.url", f"{scheme}://{host}{path}")
