"""The job span: linked to whoever enqueued, names the school, never holds the message's arguments."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from services.telemetry import school_id_var
from workers.telemetry import HideMessageArguments, TracingMiddleware

PERSONAL = "Иванова Мария"


@dataclass
class Traced:
    broker: StubBroker
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer: trace.Tracer
    seen: list[dict[str, Any]]


@pytest.fixture
def traced() -> Iterator[Traced]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    broker = StubBroker(middleware=[TracingMiddleware(tracer_provider, MeterProvider(metric_readers=[reader]))])
    seen: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> None:
        span = trace.get_current_span()
        seen.append({"school": school_id_var.get(), "trace_id": span.get_span_context().trace_id, **kwargs})

    @dramatiq.actor(actor_name="tests.note", broker=broker)
    def note(*, event_id: int, school_id: int | None = None, name: str = "") -> None:
        record(event_id=event_id)

    @dramatiq.actor(actor_name="tests.fail", broker=broker)
    def fail(*, event_id: int, school_id: int | None = None, name: str = "") -> None:
        raise ValueError(f"cannot notify {name}")

    # One thread: the second message runs where the first ran, so a school id left behind would show.
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        yield Traced(broker, spans, reader, tracer_provider.get_tracer("tests"), seen)
    finally:
        worker.stop()


def _all_attribute_text(spans: Any) -> str:
    return repr([(dict(s.attributes or {}), s.status.description, [e.attributes for e in s.events]) for s in spans])


def test_job_span_is_a_child_of_the_producer_and_names_the_school(traced: Traced) -> None:
    with traced.tracer.start_as_current_span("request") as request_span:
        traced.broker.get_actor("tests.note").send(event_id=5, school_id=7, name=PERSONAL)
    traced.broker.get_actor("tests.note").send(event_id=6, school_id=None)
    traced.broker.join("default")

    jobs = [s for s in traced.spans.get_finished_spans() if s.name == "tests.note"]
    assert len(jobs) == 2
    first = next(s for s in jobs if (s.attributes or {}).get("journal.outbox.event_id") == 5)
    assert first.parent is not None
    assert first.parent.span_id == request_span.get_span_context().span_id
    assert first.context.trace_id == request_span.get_span_context().trace_id
    assert first.kind == trace.SpanKind.CONSUMER
    attributes = dict(first.attributes or {})
    assert attributes["messaging.system"] == "dramatiq"
    assert attributes["messaging.destination.name"] == "default"
    assert attributes["school.id"] == 7
    assert attributes["messaging.message.id"]
    assert PERSONAL not in _all_attribute_text(jobs)
    # The job saw its school and its span; the school did not stay bound for the next message on the thread.
    assert [(s["event_id"], s["school"]) for s in traced.seen] == [(5, 7), (6, None)]
    assert traced.seen[0]["trace_id"] == request_span.get_span_context().trace_id


def test_failed_job_records_the_error_type_only(traced: Traced) -> None:
    traced.broker.get_actor("tests.fail").send(event_id=9, school_id=3, name=PERSONAL)
    traced.broker.join("default", fail_fast=False)

    (span,) = [s for s in traced.spans.get_finished_spans() if s.name == "tests.fail"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError"
    assert PERSONAL not in _all_attribute_text([span])


def test_jobs_are_counted_and_timed(traced: Traced) -> None:
    traced.broker.get_actor("tests.note").send(event_id=1, school_id=None)
    traced.broker.get_actor("tests.fail").send(event_id=2, school_id=None)
    traced.broker.join("default", fail_fast=False)

    data = traced.metrics.get_metrics_data()
    assert data is not None
    points: dict[str, list[Any]] = {}
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points.setdefault(metric.name, []).extend(metric.data.data_points)
    outcomes = {
        (p.attributes["dramatiq.actor"], p.attributes["dramatiq.outcome"]): p.value
        for p in points["dramatiq.messages.processed"]
    }
    assert outcomes == {("tests.note", "ok"): 1, ("tests.fail", "error"): 1}
    assert sum(p.count for p in points["dramatiq.message.duration"]) == 2


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_dramatiq_log_lines_name_the_message_without_its_arguments(traced: Traced) -> None:
    handler = _Messages()
    handler.addFilter(HideMessageArguments())
    logger = logging.getLogger("dramatiq")
    logger.addHandler(handler)
    try:
        traced.broker.get_actor("tests.fail").send(event_id=9, school_id=3, name=PERSONAL)
        traced.broker.join("default", fail_fast=False)
    finally:
        logger.removeHandler(handler)

    failed = [line for line in handler.lines if line.startswith("Failed to process message")]
    assert failed
    assert failed[0].startswith("Failed to process message tests.fail (message ")
    assert not [line for line in handler.lines if PERSONAL in line]
