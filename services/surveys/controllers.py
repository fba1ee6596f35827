"""Survey API under /api/v1/schools/{school}/surveys (R-COM-3)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.policy import Principal, needs, provide_principal
from services.surveys import service
from services.surveys.schemas import (
    OptionOut,
    OptionResultOut,
    QuestionOut,
    QuestionResultOut,
    ResponseIn,
    ResponseOut,
    ResultsOut,
    SurveyIn,
    SurveyListItem,
    SurveyOut,
    TextAnswerOut,
)
from tenants.registry import SchoolRecord
from tenants.routing import SCHOOL_DEPENDENCIES

SEE = needs("surveys.answer", "surveys.manage")
MANAGE = needs("surveys.manage")


def survey_out(view: service.SurveyView) -> SurveyOut:
    s = view.survey
    return SurveyOut(s.id, s.title, s.description, s.anonymous, s.opens_on, s.closes_on, list(s.audience_roles),
                     view.class_names, view.author, view.is_open, view.in_audience, view.answered, [
                         QuestionOut(q.question.id, q.question.position, q.question.kind, q.question.text,
                                     q.question.required, [OptionOut(o.id, o.text) for o in q.options])
                         for q in view.questions])


def results_out(r: service.Results) -> ResultsOut:
    return ResultsOut(r.survey.id, r.survey.title, r.survey.anonymous, r.respondents, r.names_shown, [
        QuestionResultOut(q.id, q.text, q.kind, q.answered,
                          [OptionResultOut(o.id, o.text, o.count, o.percent) for o in q.options],
                          [TextAnswerOut(t, n) for n, t in q.texts]) for q in r.questions])


def draft_of(data: SurveyIn) -> service.SurveyDraft:
    return service.SurveyDraft(
        data.title, data.opens_on, data.closes_on,
        [service.QuestionDraft(q.text, q.kind, list(q.options), q.required) for q in data.questions],
        data.description, data.anonymous, list(data.roles), list(data.class_ids))


class SurveysController(Controller):
    path = "/api/v1/schools/{school_slug:str}/surveys"
    tags = ["surveys"]
    dependencies = {**SCHOOL_DEPENDENCIES, "principal": Provide(provide_principal, sync_to_thread=False)}

    @get("/", opt=SEE, summary="Surveys aimed at me; every survey for those who run surveys")
    async def index(self, *, session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                    school: NamedDependency[SchoolRecord]) -> list[SurveyListItem]:
        return [SurveyListItem(x.survey.id, x.survey.title, x.survey.opens_on, x.survey.closes_on, x.is_open,
                               x.answered, x.in_audience, x.mine)
                for x in await service.surveys_for(session, principal, school.today())]

    @post("/", opt=MANAGE, summary="Create a survey with its questions, audience and dates")
    async def create(self, *, data: JSONBody[SurveyIn], session: NamedDependency[AsyncSession],
                     principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> SurveyOut:
        survey = await service.create_survey(session, principal, draft_of(data))
        return survey_out(await service.survey_view(session, principal, survey.id, school.today()))

    @get("/{survey_id:int}", opt=SEE, summary="A survey and its questions")
    async def show(self, *, survey_id: FromPath[int], session: NamedDependency[AsyncSession],
                   principal: NamedDependency[Principal], school: NamedDependency[SchoolRecord]) -> SurveyOut:
        return survey_out(await service.survey_view(session, principal, survey_id, school.today()))

    @post("/{survey_id:int}/responses", opt=needs("surveys.answer"), summary="Answer a survey (once)")
    async def respond(self, *, survey_id: FromPath[int], data: JSONBody[ResponseIn],
                      session: NamedDependency[AsyncSession], principal: NamedDependency[Principal],
                      school: NamedDependency[SchoolRecord]) -> ResponseOut:
        response = await service.answer(session, principal, survey_id, [
            service.AnswerDraft(a.question_id, list(a.option_ids), a.text) for a in data.answers], school.today())
        return ResponseOut(response.id, survey_id)

    @get("/{survey_id:int}/results", opt=MANAGE, summary="Results: counts and percentages per option, free answers")
    async def results(self, *, survey_id: FromPath[int], session: NamedDependency[AsyncSession],
                      principal: NamedDependency[Principal]) -> ResultsOut:
        return results_out(await service.results(session, principal, survey_id))
