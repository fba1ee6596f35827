"""Spans carry the school they worked for and never a person's name; log lines carry the request and school ids."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator, Sequence
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import DBAPIError

from services.db import Database
from services.structure.models import ClassUnit, Person
from services.telemetry import SCHOOL_ATTRIBUTE, JsonFormatter, request_id_var, school_id_var
from tests.conftest import MakeSchool, SignIn, school_writes


@pytest.fixture(scope="session")
def span_exporter(app: Litestar) -> InMemorySpanExporter:
    """Added once to the process's provider, which the app installed when it was created."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "the app installs the SDK tracer provider"
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """Every span the process finishes during the test."""
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()


async def server_spans(exporter: InMemorySpanExporter, path: str, count: int = 1) -> list[ReadableSpan]:
    """The finished HTTP server spans of requests to `path`; one may end just after the client has the response."""
    found: list[ReadableSpan] = []
    for _ in range(200):
        found = [
            span
            for span in exporter.get_finished_spans()
            if span.kind is SpanKind.SERVER and (span.attributes or {}).get("http.target") == path
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(found)} of {count} server spans for {path}")


async def server_span(exporter: InMemorySpanExporter, path: str) -> ReadableSpan:
    (span,) = await server_spans(exporter, path)
    return span


def in_trace(exporter: InMemorySpanExporter, root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    return [s for s in exporter.get_finished_spans() if s.context and s.context.trace_id == root.context.trace_id]


def sql_spans(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if "db.statement" in (s.attributes or {})]


def assert_nowhere(exporter: InMemorySpanExporter, *needles: str) -> None:
    finished = exporter.get_finished_spans()
    assert finished
    for span in finished:
        texts = [span.name, *(str(v) for v in (span.attributes or {}).values())]
        texts += [f"{e.name} {dict(e.attributes or {})}" for e in span.events]
        texts.append(span.status.description or "")
        for value in texts:
            for needle in needles:
                assert needle.lower() not in value.lower(), f"{needle!r} in span {span.name!r}: {value!r}"


async def test_request_spans_carry_the_school_and_no_query_string(
    db: Database, sign_in: SignIn, make_school: MakeSchool, spans: InMemorySpanExporter
) -> None:
    school = await make_school()
    client = await sign_in({school: ["teacher"]})
    async with school_writes(db, school.schema) as session:
        session.add(ClassUnit(grade=3, letter="Б"))
    path = f"/api/v1/schools/{school.slug}/classes"

    response = await client.get(path, params={"q": "Иванова"})
    assert response.status_code == 200, response.text
    assert "q=" in str(response.request.url), "the search term really was sent"

    server = await server_span(spans, path)
    assert (server.attributes or {}).get(SCHOOL_ATTRIBUTE) == school.id
    statements = sql_spans(in_trace(spans, server))
    school_queries = [s for s in statements if "class_unit" in str((s.attributes or {})["db.statement"])]
    assert school_queries, f"the school's query was traced: {[s.name for s in statements]}"
    for span in school_queries:
        assert (span.attributes or {}).get(SCHOOL_ATTRIBUTE) == school.id, span.attributes

    assert_nowhere(spans, "Иванова", quote("Иванова"))


async def test_a_persons_name_from_the_database_reaches_no_span(
    db: Database, sign_in: SignIn, make_school: MakeSchool, spans: InMemorySpanExporter
) -> None:
    school = await make_school()
    client = await sign_in({school: ["teacher"]})
    async with school_writes(db, school.schema) as session:
        session.add(Person(kind="student", last_name="Задунайская", first_name="Евлампия", middle_name="Ильинична"))
        session.add(ClassUnit(grade=7, letter="В"))
    path = f"/s/{school.slug}/"

    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert "7В" in response.text

    server = await server_span(spans, path)
    assert (server.attributes or {}).get(SCHOOL_ATTRIBUTE) == school.id
    assert sql_spans(in_trace(spans, server)), "the page's queries were traced"
    assert_nowhere(spans, "Задунайская", "Евлампия", "Ильинична")


async def test_concurrent_requests_of_two_schools_keep_their_own_school_id(
    sign_in: SignIn, make_school: MakeSchool, spans: InMemorySpanExporter
) -> None:
    a, b = await make_school(), await make_school()
    client = await sign_in({a: ["teacher"], b: ["teacher"]})
    paths = {a.id: f"/api/v1/schools/{a.slug}/classes", b.id: f"/api/v1/schools/{b.slug}/classes"}
    responses = await asyncio.gather(*(client.get(paths[school.id]) for school in (a, b) * 5))
    assert all(r.status_code == 200 for r in responses)
    for school_id, path in paths.items():
        roots = await server_spans(spans, path, count=5)
        for root in roots:
            assert (root.attributes or {}).get(SCHOOL_ATTRIBUTE) == school_id
            trace_spans = in_trace(spans, root)
            assert sql_spans(trace_spans)
            for span in trace_spans:
                assert (span.attributes or {}).get(SCHOOL_ATTRIBUTE) in (None, school_id), span.name


async def failed_person_insert(app: Litestar, make_school: MakeSchool) -> DBAPIError:
    """A write of a person that PostgreSQL refuses, through the app's own (instrumented) engine.

    PostgreSQL explains a refused row with `DETAIL: Failing row contains (…, Задунайская, …)`; asyncpg puts that
    DETAIL into the exception's text and SQLAlchemy adds `[parameters: (…)]` to it.
    """
    school = await make_school()
    database: Database = app.state.runtime.db
    token = school_id_var.set(school.id)
    try:
        with pytest.raises(DBAPIError) as caught:
            async with school_writes(database, school.schema) as session:
                session.add(Person(kind="pupil", last_name="Задунайская", first_name="Евлампия"))
    finally:
        school_id_var.reset(token)
    return caught.value


async def test_a_refused_write_puts_no_personal_data_into_spans(
    app: Litestar, client: httpx.AsyncClient, make_school: MakeSchool, spans: InMemorySpanExporter
) -> None:
    error = await failed_person_insert(app, make_school)
    assert "Задунайская" in str(error), "the test really produced an error that carries the name"
    assert sql_spans(spans.get_finished_spans()), "the refused INSERT was traced"
    assert_nowhere(spans, "Задунайская", "Евлампия")


async def test_a_refused_write_puts_no_personal_data_into_the_error_log(
    app: Litestar, client: httpx.AsyncClient, make_school: MakeSchool
) -> None:
    error = await failed_person_insert(app, make_school)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("journal.errors")
    logger.addHandler(handler)
    try:
        # What services/errors.py logs for any unexpected exception of a request.
        logger.error("request failed: %s", type(error).__name__, exc_info=error)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert json.loads(line)["error"] == "IntegrityError"
    assert "Задунайская" not in line
    assert "Евлампия" not in line


def test_json_log_line_carries_request_and_school_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("journal.tests.telemetry")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tokens = request_id_var.set("req-0123456789"), school_id_var.set(4242)
    try:
        with TracerProvider().get_tracer("tests").start_as_current_span("work") as span:
            logger.info("marks saved: %d", 3)
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        request_id_var.reset(tokens[0])
        school_id_var.reset(tokens[1])
        logger.info("outside any request")
        logger.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    inside, outside = json.loads(lines[0]), json.loads(lines[1])
    assert inside["request_id"] == "req-0123456789"
    assert inside["school_id"] == 4242
    assert inside["msg"] == "marks saved: 3"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "journal.tests.telemetry"
    assert inside["ts"].endswith("+00:00")
    assert inside["trace_id"] == trace_id
    assert "request_id" not in outside
    assert "school_id" not in outside
