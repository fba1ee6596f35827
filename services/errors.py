"""Errors as users meet them: RFC 9457 problem documents for the API, a Russian page for people.

No handler ever shows a stack trace or the text of an unexpected exception; the request id links what the
user sees to the server's log.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Redirect, Template

from services.telemetry import current_request_id, new_request_id

log = logging.getLogger("journal.errors")

PROBLEM_JSON = "application/problem+json"

# Russian titles a person sees for each status; the API puts the same text in `title`.
_TITLES = {
    400: "Неверный запрос",
    401: "Требуется вход в систему",
    403: "Доступ запрещён",
    404: "Не найдено",
    405: "Метод не поддерживается",
    409: "Конфликт с текущими данными",
    410: "Больше не доступно",
    413: "Слишком большой запрос",
    415: "Неподдерживаемый формат данных",
    422: "Данные не прошли проверку",
    429: "Слишком много запросов",
    500: "Внутренняя ошибка сервера",
    503: "Сервис временно недоступен",
}


class Problem(HTTPException):
    """A domain error with a stable problem type, e.g. `school-suspended`."""

    problem_type: str = "about:blank"
    status_code = 400

    def __init__(self, detail: str, *, status_code: int | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail=detail, status_code=status_code or self.status_code, extra=extra)


class RuleError(Exception):
    """A domain rule refused a change (a clash in the timetable, an overlapping period…). `messages` are Russian
    and reach the person as they are; the API answers them as a problem document, pages show them in the form."""

    problem_type = "/problems/rule"
    default_status = 422

    def __init__(self, *messages: str, status_code: int | None = None) -> None:
        self.messages = list(messages)
        self.status_code = status_code or self.default_status
        super().__init__(" ".join(messages))


def rule_problem(exc: RuleError) -> Problem:
    """The problem document of a refusal: every message, and the domain's problem type."""
    problem = Problem(" ".join(exc.messages), status_code=exc.status_code, extra={"messages": exc.messages})
    problem.problem_type = exc.problem_type
    return problem


class SchoolNotFound(Problem):
    problem_type = "/problems/school-not-found"
    status_code = 404


class OutOfScope(Problem):
    """The caller may use this endpoint, but not for this record (a parent asking about another child)."""

    problem_type = "/problems/out-of-scope"
    status_code = 403


class SchoolUnavailable(Problem):
    problem_type = "/problems/school-unavailable"
    status_code = 403


def _wants_problem(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/health", "/schema")) or "html" not in request.headers.get("accept", "html")


def _title(status: int) -> str:
    return _TITLES.get(status) or ("Запрос не выполнен" if status < 500 else "Ошибка на сервере")


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The one exception handler of the app."""
    if isinstance(exc, RuleError):
        exc = rule_problem(exc)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc, Problem | NotFoundException) or status < 500 else ""
        problem_type = getattr(exc, "problem_type", "about:blank")
        extra = exc.extra if isinstance(exc.extra, dict) else None
        errors = exc.extra if isinstance(exc, ValidationException) and isinstance(exc.extra, list) else None
    else:
        status, detail, problem_type, extra, errors = 500, "", "about:blank", None, None
    if status >= 500:
        log.error("request failed: %s", type(exc).__name__, exc_info=exc)
    missing = _MISSING.match(detail) if isinstance(exc, ValidationException) else None
    if errors and not _RUSSIAN.search(detail):
        detail = _invalid_parameters(errors)
    elif missing:
        detail = f"Не указан обязательный параметр запроса «{missing.group(1)}»."
    elif not _RUSSIAN.search(detail):
        # Litestar's own refusals speak English ("Not Found", "Method Not Allowed", …): people read Russian.
        detail = _default_detail(status)
    # Requests that match no route (404, 405) fail in the router, before the request id middleware runs.
    request_id = current_request_id() or new_request_id(request.headers.get("x-request-id"))
    headers = {"X-Request-ID": request_id}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if not _wants_problem(request):
        if status == 401:
            return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
        return Template(
            template_name="error.html",
            context={"status": status, "title": _title(status), "detail": detail, "request_id": request_id},
            status_code=status,
            media_type=MediaType.HTML,
            headers=headers,
        )
    body: dict[str, Any] = {
        "type": problem_type,
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_RUSSIAN = re.compile(r"[А-Яа-яЁё]")
_MISSING = re.compile(r"Missing required \w+ parameter '([^']+)'")  # Litestar's words for an absent parameter


def _invalid_parameters(errors: list[Any]) -> str:
    """A request Litestar could not read (a query parameter that is not a number, a date in a wrong form…)."""
    names = sorted({str(e["key"]) for e in errors if isinstance(e, dict) and e.get("key")})
    where = f": {', '.join(f'«{n}»' for n in names)}" if names else ""
    return f"Неверное или пропущенное значение в запросе{where}. Проверьте адрес или данные формы."


def _default_detail(status: int) -> str:
    if status == 404:
        return "Запрошенная страница или запись не существует."
    if status >= 500:
        return (
            "Произошла ошибка на сервере. Повторите попытку позже; если ошибка повторяется, "
            "сообщите в поддержку номер запроса."
        )
    return _title(status)
