"""The application factory: `uvicorn --factory services.app:create_app`."""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, get
from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.response import Template
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from redis.asyncio import Redis

from services import (
    all_models,  # noqa: F401 - every table known before the first flush
    audit,
)
from services.access.controllers import AccessController
from services.access.pages import AccessPages, ConsentPages, PublicAccessPages
from services.calendar.controllers import CalendarController
from services.calendar.pages import SetupPages
from services.config import Settings, load_settings
from services.db import Database, create_engine
from services.diary.controllers import ChildrenController, DiaryController
from services.diary.live import DiaryBus
from services.diary.pages import ChildrenPages, DiaryPages
from services.errors import problem_response
from services.files.storage import storage_from_settings
from services.grading.controllers import GradingController
from services.grading.pages import GradingPages
from services.health import HealthController
from services.identity.admin_api import SchoolAdminController
from services.identity.admin_pages import InvitePages, UserPages
from services.identity.compromise_pages import CompromisePages
from services.identity.controllers import AuthController, SchoolAccessController
from services.identity.pages import IdentityPages, RolePages
from services.identity.policy import OPENAPI_PATH, PUBLIC, authorize
from services.identity.sessions import SessionStore
from services.identity.throttle import LoginThrottle
from services.imports.controllers import ImportController
from services.imports.pages import ImportPages
from services.journal.control_pages import JournalControlPages
from services.journal.controllers import JournalController
from services.journal.pages import JournalPages
from services.messages.controllers import MessagesController
from services.messages.pages import MessagePages
from services.notifications.controllers import NotificationController, NotificationPages
from services.plan.controllers import PlanController
from services.plan.pages import PlanPages
from services.reports.controllers import WeeklyReportController
from services.reports.pages import WeeklyReportPages
from services.runtime import Runtime
from services.structure.controllers import StructureController
from services.structure.groups_pages import GroupPages
from services.structure.pages import SchoolPages
from services.support.controllers import SupportController, SupportPages, SupportQueuePages
from services.surveys.controllers import SurveysController
from services.surveys.pages import SurveyPages
from services.telemetry import (
    configure_logging,
    new_request_id,
    request_id_var,
    school_id_var,
    scrub_http_span,
    setup_telemetry,
)
from services.timetable.bells_pages import BellPages
from services.timetable.controllers import TimetableController
from services.timetable.day_pages import DayPages
from services.timetable.pages import TimetablePages
from tenants.registry import SchoolRegistry

TEMPLATES = Path(__file__).parent / "templates"


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (kept from X-Request-ID when well-formed) and return it in the response."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = new_request_id(offered)
        token, school_token = request_id_var.set(request_id), school_id_var.set(None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            school_id_var.reset(school_token)

    return middleware


@get("/", include_in_schema=False, opt=PUBLIC)
async def index() -> Template:
    return Template("index.html")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    settings.require_backends()
    audit.install()
    configure_logging(settings.telemetry.log_level)
    tracer_provider, meter_provider = setup_telemetry(
        settings.telemetry.service_name, "api", settings.outbound.otlp_endpoint
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        db = Database(create_engine(settings, application_name="api"))
        SQLAlchemyInstrumentor().instrument(
            engine=db.engine.sync_engine, tracer_provider=tracer_provider, meter_provider=meter_provider
        )
        assert settings.redis.url is not None
        redis = Redis.from_url(settings.redis.url, socket_timeout=2, socket_connect_timeout=2)
        namespace = settings.redis.namespace
        app.state.runtime = Runtime(
            settings, db, SchoolRegistry(db, settings.http.registry_ttl_s), redis,
            SessionStore(redis, namespace, settings.security.session_max_hours * 3600),
            LoginThrottle(redis, namespace), storage_from_settings(settings),
            DiaryBus(settings.redis.url, namespace),
        )
        app.state.runtime.diary.start()
        try:
            yield
        finally:
            await app.state.runtime.diary.stop()
            if app.state.runtime.storage is not None:
                app.state.runtime.storage.close()
            await redis.aclose()
            await db.dispose()

    def on_request_hook(span: object, scope: dict[str, object]) -> None:
        scrub_http_span(span, scope)  # type: ignore[arg-type]

    return Litestar(
        route_handlers=[
            index, HealthController, StructureController, SchoolPages, GroupPages,
            AuthController, SchoolAccessController, IdentityPages, RolePages, CompromisePages,
            TimetableController, TimetablePages, BellPages, DayPages, PlanController, PlanPages,
            ImportController, ImportPages,
            SchoolAdminController, InvitePages, UserPages,
            CalendarController, SetupPages, GradingController, GradingPages,
            JournalController, JournalPages, JournalControlPages,
            DiaryController, ChildrenController, DiaryPages, ChildrenPages,
            MessagesController, MessagePages, SurveysController, SurveyPages,
            AccessController, AccessPages, ConsentPages, PublicAccessPages,
            SupportController, SupportPages, SupportQueuePages,
            NotificationController, NotificationPages,
            WeeklyReportController, WeeklyReportPages,
        ],
        guards=[authorize],
        csrf_config=CSRFConfig(
            secret=settings.security.secret_key or secrets.token_hex(32),
            cookie_secure=settings.public_url.startswith("https://"),
            cookie_samesite="strict",
        ),
        lifespan=[lifespan],
        middleware=[request_id_middleware],
        exception_handlers={Exception: problem_response},
        openapi_config=OpenAPIConfig(
            title="Электронный журнал — API",
            version="1",
            path=OPENAPI_PATH,
            description="API школ региона",
            # JSON only: the HTML viewers load scripts from foreign CDNs (R-SEC-6).
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    tracer_provider=tracer_provider,
                    meter_provider=meter_provider,
                    server_request_hook_handler=on_request_hook,
                )
            )
        ],
        debug=False,
    )


__all__ = ["create_app"]
