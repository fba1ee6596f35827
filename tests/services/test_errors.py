"""Errors as users and API clients meet them: problem+json for the API, a Russian page for people, no internals."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from services.db import Database
from services.telemetry import JsonFormatter
from tenants.provisioning import ProvisionedSchool
from tests.conftest import MakeSchool, SignIn

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert CYRILLIC.search(str(body["title"])), f"title must be Russian: {body['title']!r}"
    assert body["detail"], "a problem always says what happened"
    assert body["instance"] == response.request.url.path
    assert body["request_id"], "the request id links what the user sees to the server's log"
    assert body["request_id"] == response.headers.get("x-request-id")
    return body


def assert_no_internals(body: str, *secrets: str) -> None:
    internals = ("Traceback", 'File "', "Error:", "Exception", "sqlalchemy", "asyncpg", "SELECT", "does not exist")
    for leak in (*internals, "class_unit", *secrets):
        assert leak not in body, f"{leak!r} leaked into the response"


async def test_unknown_api_path_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-resource", headers=HTML)
    body = assert_problem(response, 404)
    assert body["title"] == "Не найдено"
    assert CYRILLIC.search(str(body["detail"]))


async def test_unknown_page_is_a_russian_html_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page/", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="ru">' in page
    assert "Не найдено" in page
    assert "Код ошибки: 404" in page
    assert "Not Found" not in page
    request_id = response.headers.get("x-request-id")
    assert request_id, "every response names its request"
    assert request_id in page, "the page tells the person which number to give support"

    hostile = await client.get("/s/%3Cscript%3Ealert(1)%3C%2Fscript%3E/x", headers=HTML)
    assert hostile.status_code == 404
    assert "<script>" not in hostile.text


async def test_wrong_method_on_health_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/health/live", json={})
    body = assert_problem(response, 405)
    assert body["title"] == "Метод не поддерживается"
    assert "GET" in response.headers.get("allow", "")


async def test_a_well_formed_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "lb-2f9c1e7a-0001"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "lb-2f9c1e7a-0001"

    problem = await client.get("/api/v1/schools/no-such-school/", headers={"X-Request-ID": "lb-2f9c1e7a-0002"})
    assert problem.status_code == 404
    assert problem.headers["x-request-id"] == "lb-2f9c1e7a-0002"
    assert problem.json()["request_id"] == "lb-2f9c1e7a-0002"

    # Also when no route matches at all: the router refuses before any route middleware runs.
    unrouted = await client.get("/api/v1/no-such-resource", headers={"X-Request-ID": "lb-2f9c1e7a-0003"})
    assert unrouted.status_code == 404
    assert unrouted.headers["x-request-id"] == "lb-2f9c1e7a-0003"
    assert unrouted.json()["request_id"] == "lb-2f9c1e7a-0003"


@pytest.mark.parametrize("offered", ["short", "has spaces in it", "<script>alert(1)</script>", "x" * 65])
async def test_a_malformed_request_id_is_replaced(client: httpx.AsyncClient, offered: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": offered})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


@pytest.fixture
def error_log() -> Iterator[list[dict[str, object]]]:
    """The server's JSON log lines from journal.errors, formatted while the request's context is live."""
    lines: list[dict[str, object]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Capture(level=logging.ERROR)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("journal.errors")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


async def broken_school(db: Database, make_school: MakeSchool, sign_in: SignIn) -> tuple[ProvisionedSchool,
                                                                                         httpx.AsyncClient]:
    """A school whose schema is gone while the registry still lists it (every query on it fails), and a
    signed-in member of it."""
    school = await make_school()
    client = await sign_in({school: ["teacher"]})
    async with db.engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{school.schema}" CASCADE'))
    return school, client


async def test_an_unexpected_failure_is_a_500_problem_without_internals(
    db: Database, sign_in: SignIn, make_school: MakeSchool, error_log: list[dict[str, object]]
) -> None:
    school, client = await broken_school(db, make_school, sign_in)
    response = await client.get(f"/api/v1/schools/{school.slug}/classes")
    body = assert_problem(response, 500)
    assert body["title"] == "Внутренняя ошибка сервера"
    assert body["type"] == "about:blank"
    assert set(body) == PROBLEM_FIELDS, "nothing beyond the problem fields"
    assert_no_internals(response.text, school.schema, "ProgrammingError", "UndefinedTable")

    # The operator finds the failure in the log by the number the user reports.
    logged = [line for line in error_log if line.get("request_id") == body["request_id"]]
    assert len(logged) == 1, error_log
    assert logged[0]["school_id"] == school.id
    assert logged[0]["level"] == "ERROR"
    assert "stack" in logged[0]


async def test_an_unexpected_failure_on_a_page_is_the_russian_500_page(
    db: Database, sign_in: SignIn, make_school: MakeSchool
) -> None:
    school, client = await broken_school(db, make_school, sign_in)
    response = await client.get(f"/s/{school.slug}/", headers={**HTML, "X-Request-ID": "support-call-000123"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Внутренняя ошибка сервера" in page
    assert "Код ошибки: 500" in page
    assert "support-call-000123" in page
    assert response.headers["x-request-id"] == "support-call-000123"
    assert_no_internals(page, school.schema, "ProgrammingError", "UndefinedTable")


async def test_a_malformed_parameter_is_explained_in_russian(make_school: MakeSchool, sign_in: SignIn) -> None:
    """Litestar refuses what it cannot read in English ("Validation failed for GET …"); people get Russian, and
    API clients still get the list of parameters at fault."""
    school = await make_school()
    teacher = await sign_in({school: ["teacher"]})
    page = await teacher.get(f"/s/{school.slug}/timetable/", params={"class_id": "пятый"}, headers=HTML)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "Неверное или пропущенное значение в запросе: «class_id»" in page.text
    assert "Validation failed" not in page.text

    api = await teacher.get(f"/api/v1/schools/{school.slug}/lessons", params={"on_date": "вчера"})
    body = assert_problem(api, 400)
    assert body["detail"] == ("Неверное или пропущенное значение в запросе: «on_date». "
                              "Проверьте адрес или данные формы.")
    assert [e["key"] for e in body["errors"]] == ["on_date"]  # type: ignore[union-attr]
    missing = await teacher.get(f"/api/v1/schools/{school.slug}/lessons")
    assert "«on_date»" in str(assert_problem(missing, 400)["detail"])
