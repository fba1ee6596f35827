"""Survey pages under /s/{school}/surveys: the list, a new survey, answering, and results with bar charts
(server-rendered SVG, no scripts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.identity.permissions import SCHOOL_ROLES
from services.identity.policy import Principal, needs, provide_principal
from services.structure.models import ClassUnit
from services.surveys import service
from services.surveys.controllers import MANAGE, SEE
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
DONE = {"created": "Опрос создан.", "answered": "Спасибо! Ваш ответ записан."}
AUDIENCE_ROLES = ("student", "parent", "teacher", "class_teacher", "parent_committee", "administrator", "director",
                  "deputy_head", "secretary", "social_pedagogue", "psychologist", "nurse", "librarian")


def _all(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _one(data: dict[str, Any], name: str) -> str:
    found = _all(data, name)
    return found[0].strip() if found else ""


def _date(data: dict[str, Any], name: str, label: str) -> date:
    try:
        return date.fromisoformat(_one(data, name))
    except ValueError:
        raise service.SurveyError(f"Укажите {label}.") from None


async def _new_page(session: AsyncSession, school: SchoolRecord, *, status_code: int = 200,
                    **context: Any) -> Template:
    classes = list((await session.execute(select(ClassUnit).order_by(ClassUnit.grade, ClassUnit.letter))).scalars())
    today = school.today()
    form = context.pop("form", None) or {"opens_on": today.isoformat(),
                                         "closes_on": (today + timedelta(days=7)).isoformat(), "roles": [],
                                         "class_ids": []}
    return Template("surveys/new.html", status_code=status_code, context={
        "school": school, "classes": classes, "roles": [(r, SCHOOL_ROLES[r]) for r in AUDIENCE_ROLES],
        "form": form, **context})


async def _survey_page(session: AsyncSession, school: SchoolRecord, principal: Principal, survey_id: int, *,
                       status_code: int = 200, **context: Any) -> Template:
    view = await service.survey_view(session, principal, survey_id, school.today())
    return Template("surveys/survey.html", status_code=status_code, context={
        "school": school, "view": view, "kinds": service.KIND_NAMES,
        "audience": service.audience_text(view.survey.audience_roles, view.class_names),
        "may_answer": principal.can("surveys.answer") and view.in_audience and view.is_open and not view.answered,
        "may_manage": service.may_manage(principal), **context})


class SurveyPages(Controller):
    path = "/s/{school_slug:str}/surveys"
    include_in_schema = False
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=SEE)
    async def index(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                    principal: NamedDependency[Principal], done: FromQuery[str | None] = None) -> Template:
        return Template("surveys/index.html", context={
            "school": school, "surveys": await service.surveys_for(session, principal, school.today()),
            "may_manage": service.may_manage(principal), "done": DONE.get(done or "")})

    @get("/new", opt=MANAGE)
    async def new(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession]) -> Template:
        return await _new_page(session, school)

    @post("/new", opt=MANAGE)
    async def create(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], data: Form) -> Response[Any]:
        try:
            class_ids = [int(c) for c in _all(data, "class_ids") if c.strip()]
            draft = service.SurveyDraft(
                _one(data, "title"), _date(data, "opens_on", "дату начала"), _date(data, "closes_on", "дату окончания"),
                service.parse_questions(_one(data, "questions")), _one(data, "description") or None,
                _one(data, "anonymous") in ("on", "1", "true"), _all(data, "roles"), class_ids)
            survey = await service.create_survey(session, principal, draft)
        except (RuleError, ValueError) as exc:
            await session.rollback()
            messages = exc.messages if isinstance(exc, RuleError) else ["Проверьте поля формы."]
            status = exc.status_code if isinstance(exc, RuleError) else 422
            form = {k: _one(data, k) for k in ("title", "description", "opens_on", "closes_on", "questions",
                                                "anonymous")}
            form_lists: dict[str, Any] = {**form, "roles": _all(data, "roles"), "class_ids": _all(data, "class_ids")}
            return await _new_page(session, school, status_code=status, errors=messages, form=form_lists)
        return Redirect(f"/s/{school.slug}/surveys/{survey.id}?done=created", status_code=303)

    @get("/{survey_id:int}", opt=SEE)
    async def show(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], survey_id: FromPath[int],
                   done: FromQuery[str | None] = None) -> Template:
        return await _survey_page(session, school, principal, survey_id, done=DONE.get(done or ""))

    @post("/{survey_id:int}", opt=needs("surveys.answer"))
    async def answer(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], survey_id: FromPath[int], data: Form) -> Response[Any]:
        try:
            view = await service.survey_view(session, principal, survey_id, school.today())
            answers = []
            for q in view.questions:
                key = f"q{q.question.id}"
                if q.question.kind == "text":
                    answers.append(service.AnswerDraft(q.question.id, text=_one(data, key) or None))
                else:
                    chosen = [v for v in _all(data, key) if v.strip()]
                    if any(not v.isdigit() for v in chosen):
                        raise service.SurveyError("Проверьте поля формы.")
                    answers.append(service.AnswerDraft(q.question.id, [int(v) for v in chosen]))
            await service.answer(session, principal, survey_id, answers, school.today())
        except RuleError as exc:
            await session.rollback()
            return await _survey_page(session, school, principal, survey_id, status_code=exc.status_code,
                                      errors=exc.messages, form=data)
        return Redirect(f"/s/{school.slug}/surveys/{survey_id}?done=answered", status_code=303)

    @get("/{survey_id:int}/results", opt=MANAGE)
    async def results(self, *, school: NamedDependency[SchoolRecord], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal], survey_id: FromPath[int]) -> Template:
        r = await service.results(session, principal, survey_id)
        charts = {q.id: Markup(service.bar_chart_svg(q)) for q in r.questions if q.kind != "text"}  # noqa: S704
        return Template("surveys/results.html", context={"school": school, "r": r, "charts": charts,
                                                         "kinds": service.KIND_NAMES})
