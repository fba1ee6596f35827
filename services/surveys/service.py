"""The rules of surveys (R-COM-3).

A survey is created by a holder of `surveys.manage` (administration, a teacher) and is aimed at roles and/or
classes: staff roles reach every holder of the role; `student` / `parent` reach every student / parent, or only
those of the chosen classes (a class alone means its current students and their parents). It is open from
`opens_on` to `closes_on` inclusive, in the school's dates. Answering needs `surveys.answer` and being in the
audience; one response per person, enforced by a unique constraint. Results (counts and percentages per option,
free-text answers) are for holders of `surveys.manage`; names only for the survey's author, and never when the
survey is anonymous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import OutOfScope, RuleError
from services.identity.permissions import FAMILY_ROLES, SCHOOL_ROLES
from services.identity.policy import Principal
from services.structure.models import ClassUnit, Enrollment, Guardianship, Person
from services.surveys.models import (
    QUESTION_KINDS,
    Survey,
    SurveyAnswer,
    SurveyClass,
    SurveyOption,
    SurveyQuestion,
    SurveyResponse,
)

TITLE_MAX = 200
QUESTION_MAX = 500
OPTION_MAX = 300
TEXT_ANSWER_MAX = 5000
MAX_QUESTIONS = 50
MAX_OPTIONS = 30
KIND_NAMES = {"single": "один вариант", "multiple": "несколько вариантов", "text": "свободный ответ"}
PARENT_ROLES = frozenset({"parent", "parent_committee"})


class SurveyError(RuleError):
    """A survey rule refused the change; nothing was saved."""

    problem_type = "/problems/survey"


class SurveyNotFound(SurveyError):
    default_status = 404


class AlreadyAnswered(SurveyError):
    problem_type = "/problems/survey-already-answered"
    default_status = 409


@dataclass(frozen=True, slots=True)
class QuestionDraft:
    text: str
    kind: str
    options: list[str] = field(default_factory=list)
    required: bool = False


@dataclass(frozen=True, slots=True)
class SurveyDraft:
    title: str
    opens_on: date
    closes_on: date
    questions: list[QuestionDraft]
    description: str | None = None
    anonymous: bool = False
    roles: list[str] = field(default_factory=list)
    class_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AnswerDraft:
    question_id: int
    option_ids: list[int] = field(default_factory=list)
    text: str | None = None


@dataclass(slots=True)
class QuestionView:
    question: SurveyQuestion
    options: list[SurveyOption]


@dataclass(slots=True)
class SurveyView:
    survey: Survey
    questions: list[QuestionView]
    class_names: list[str]
    author: str
    is_open: bool
    in_audience: bool
    answered: bool


@dataclass(slots=True)
class OptionResult:
    id: int
    text: str
    count: int
    percent: float


@dataclass(slots=True)
class QuestionResult:
    id: int
    text: str
    kind: str
    answered: int
    options: list[OptionResult]
    texts: list[tuple[str | None, str]]
    """(name or None, answer) of free-text answers."""


@dataclass(slots=True)
class Results:
    survey: Survey
    respondents: int
    questions: list[QuestionResult]
    names_shown: bool


def audience_text(roles: Sequence[str], class_names: Sequence[str]) -> str:
    parts = [SCHOOL_ROLES.get(r, r) for r in roles]
    text = ", ".join(parts) if parts else "ученики и родители"
    return f"{text} — {', '.join(class_names)}" if class_names else text


# --- creating ------------------------------------------------------------------------------------------------


def _question_problems(n: int, q: QuestionDraft) -> list[str]:
    problems: list[str] = []
    if not q.text.strip():
        problems.append(f"Вопрос {n}: напишите текст вопроса.")
    elif len(q.text.strip()) > QUESTION_MAX:
        problems.append(f"Вопрос {n}: не длиннее {QUESTION_MAX} знаков.")
    if q.kind not in QUESTION_KINDS:
        return [*problems, f"Вопрос {n}: неизвестный вид вопроса."]
    options = [o.strip() for o in q.options if o.strip()]
    if q.kind == "text":
        return [*problems, f"Вопрос {n}: у вопроса со свободным ответом нет вариантов."] if options else problems
    if len(options) < 2:
        problems.append(f"Вопрос {n}: нужно хотя бы два варианта ответа.")
    if len(options) > MAX_OPTIONS:
        problems.append(f"Вопрос {n}: не больше {MAX_OPTIONS} вариантов.")
    if len(set(options)) != len(options):
        problems.append(f"Вопрос {n}: варианты ответа повторяются.")
    if any(len(o) > OPTION_MAX for o in options):
        problems.append(f"Вопрос {n}: вариант ответа — не длиннее {OPTION_MAX} знаков.")
    return problems


def _check_draft(draft: SurveyDraft) -> list[str]:
    problems: list[str] = []
    if not draft.title.strip():
        problems.append("Укажите название опроса.")
    elif len(draft.title.strip()) > TITLE_MAX:
        problems.append(f"Название — не длиннее {TITLE_MAX} знаков.")
    if draft.closes_on < draft.opens_on:
        problems.append("Дата окончания опроса раньше даты начала.")
    if unknown := [r for r in draft.roles if r not in SCHOOL_ROLES]:
        problems.append(f"Неизвестные роли: {', '.join(unknown)}.")
    if not draft.roles and not draft.class_ids:
        problems.append("Выберите, кому адресован опрос: роли и/или классы.")
    if not draft.questions:
        problems.append("Добавьте хотя бы один вопрос.")
    if len(draft.questions) > MAX_QUESTIONS:
        problems.append(f"Не больше {MAX_QUESTIONS} вопросов.")
    for n, q in enumerate(draft.questions, 1):
        problems.extend(_question_problems(n, q))
    return problems


async def create_survey(session: AsyncSession, principal: Principal, draft: SurveyDraft) -> Survey:
    if principal.person_id is None or principal.is_family_only or not principal.can("surveys.manage"):
        raise SurveyError("Опросы создают сотрудники школы, чья учётная запись связана с карточкой сотрудника.",
                          status_code=403)
    problems = _check_draft(draft)
    class_ids = sorted(set(draft.class_ids))
    if class_ids:
        found = set((await session.execute(select(ClassUnit.id).where(ClassUnit.id.in_(class_ids)))).scalars())
        if missing := [c for c in class_ids if c not in found]:
            problems.append(f"Класс не найден (№ {', '.join(map(str, missing))}).")
    if problems:
        raise SurveyError(*problems)
    survey = Survey(title=draft.title.strip(), description=(draft.description or "").strip() or None,
                    author_id=principal.person_id, anonymous=draft.anonymous, opens_on=draft.opens_on,
                    closes_on=draft.closes_on, audience_roles=sorted(set(draft.roles)))
    session.add(survey)
    await session.flush()
    session.add_all([SurveyClass(survey_id=survey.id, class_unit_id=c) for c in class_ids])
    for n, q in enumerate(draft.questions, 1):
        question = SurveyQuestion(survey_id=survey.id, position=n, kind=q.kind, text=q.text.strip(),
                                  required=q.required)
        session.add(question)
        await session.flush()
        session.add_all([SurveyOption(question_id=question.id, position=i, text=o.strip())
                         for i, o in enumerate([o for o in q.options if o.strip()], 1)])
    await session.flush()
    return survey


def parse_questions(text: str) -> list[QuestionDraft]:
    """The questions of the page's form: a line is a question, lines starting with «-» are its options; a
    question ending in «[несколько]» takes several options, «[текст]» a free answer, «*» makes it required.

        Как вам школьное питание? *
        - Нравится
        - Не нравится
        Что улучшить? [текст]
    """
    drafts: list[tuple[str, str | None, bool, list[str]]] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("-", "–", "—")):
            if not drafts:
                raise SurveyError("Вариант ответа указан до первого вопроса: начните с вопроса.")
            drafts[-1][3].append(line.lstrip("-–— ").strip())
            continue
        required = False
        kind: str | None = None
        changed = True
        while changed:
            changed = False
            if line.endswith("*"):
                required, line, changed = True, line[:-1].rstrip(), True
            lowered = line.lower()
            for mark, mark_kind in (("[несколько]", "multiple"), ("[текст]", "text"), ("[один]", "single")):
                if lowered.endswith(mark):
                    kind, line, changed = mark_kind, line[: -len(mark)].rstrip(), True
        drafts.append((line, kind, required, []))
    return [QuestionDraft(q, kind or ("single" if options else "text"), options, required)
            for q, kind, required, options in drafts]


# --- audience ------------------------------------------------------------------------------------------------


async def _survey_classes(session: AsyncSession, survey_id: int) -> list[int]:
    return list((await session.execute(select(SurveyClass.class_unit_id).where(
        SurveyClass.survey_id == survey_id))).scalars())


async def in_audience(session: AsyncSession, principal: Principal, survey: Survey, today: date) -> bool:
    """Whether the survey is aimed at the principal (by role, narrowed to its classes for students and parents)."""
    if principal.person_id is None:
        return False
    roles = set(survey.audience_roles)
    if principal.roles & (roles - FAMILY_ROLES):
        return True
    classes = await _survey_classes(session, survey.id)
    family = roles & FAMILY_ROLES
    if not family and classes:
        family = {"student", "parent"}
    current = Enrollment.start_date <= today, or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today)
    if "student" in family and "student" in principal.roles:
        if not classes:
            return True
        found = await session.scalar(select(Enrollment.id).where(
            Enrollment.student_id == principal.person_id, Enrollment.class_unit_id.in_(classes), *current).limit(1))
        if found is not None:
            return True
    if family & PARENT_ROLES & principal.roles:
        if not classes:
            return True
        child = await session.scalar(select(Guardianship.student_id).join(
            Enrollment, Enrollment.student_id == Guardianship.student_id).where(
            Guardianship.guardian_id == principal.person_id, Enrollment.class_unit_id.in_(classes), *current
        ).limit(1))
        if child is not None:
            return True
    return False


def is_open(survey: Survey, today: date) -> bool:
    return survey.opens_on <= today <= survey.closes_on


def may_manage(principal: Principal) -> bool:
    return principal.can("surveys.manage") and not principal.is_family_only


# --- reading -------------------------------------------------------------------------------------------------


async def _questions(session: AsyncSession, survey_id: int) -> list[QuestionView]:
    questions = list((await session.execute(select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id)
                                            .order_by(SurveyQuestion.position))).scalars())
    options: dict[int, list[SurveyOption]] = {}
    if questions:
        for o in (await session.execute(select(SurveyOption).where(
                SurveyOption.question_id.in_([q.id for q in questions])).order_by(SurveyOption.position))).scalars():
            options.setdefault(o.question_id, []).append(o)
    return [QuestionView(q, options.get(q.id, [])) for q in questions]


async def survey_view(session: AsyncSession, principal: Principal, survey_id: int, today: date) -> SurveyView:
    """The survey for a person in its audience, or for a holder of `surveys.manage`; OutOfScope otherwise."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise SurveyNotFound("Опрос не найден.")
    audience = await in_audience(session, principal, survey, today)
    if not audience and not may_manage(principal):
        raise OutOfScope("Этот опрос адресован не вам.")
    answered = principal.person_id is not None and await session.scalar(select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.person_id == principal.person_id)) is not None
    class_names = [f"{g}{ltr}" for g, ltr in (await session.execute(
        select(ClassUnit.grade, ClassUnit.letter).join(SurveyClass, SurveyClass.class_unit_id == ClassUnit.id)
        .where(SurveyClass.survey_id == survey.id).order_by(ClassUnit.grade, ClassUnit.letter))).all()]
    author = await session.get(Person, survey.author_id)
    return SurveyView(survey, await _questions(session, survey.id), class_names,
                      f"{author.last_name} {author.first_name[:1]}." if author else "—",
                      is_open(survey, today), audience, answered)


@dataclass(slots=True)
class ListedSurvey:
    survey: Survey
    is_open: bool
    answered: bool
    in_audience: bool
    mine: bool


async def surveys_for(session: AsyncSession, principal: Principal, today: date) -> list[ListedSurvey]:
    """Surveys aimed at the principal, and, for holders of `surveys.manage`, every survey of the school."""
    rows = list((await session.execute(select(Survey).order_by(Survey.closes_on.desc(), Survey.id.desc())
                                       .limit(500))).scalars())
    answered: set[int] = set()
    if principal.person_id is not None and rows:
        answered = set((await session.execute(select(SurveyResponse.survey_id).where(
            SurveyResponse.person_id == principal.person_id))).scalars())
    manage = may_manage(principal)
    result = []
    for s in rows:
        audience = principal.can("surveys.answer") and await in_audience(session, principal, s, today)
        if audience or manage:
            result.append(ListedSurvey(s, is_open(s, today), s.id in answered, audience,
                                       s.author_id == principal.person_id))
    return result


# --- answering -----------------------------------------------------------------------------------------------


def _question_rows(view: QuestionView, draft: AnswerDraft | None,
                   problems: list[str]) -> list[tuple[int, int | None, str | None]]:
    """The rows of one question's answer; what is wrong goes to `problems`."""
    q, n = view.question, view.question.position
    if q.kind == "text":
        text = ((draft.text if draft else None) or "").strip()
        if len(text) > TEXT_ANSWER_MAX:
            problems.append(f"Вопрос {n}: ответ — не длиннее {TEXT_ANSWER_MAX} знаков.")
        elif text:
            return [(q.id, None, text)]
        elif q.required:
            problems.append(f"Вопрос {n}: это обязательный вопрос.")
        return []
    chosen = sorted(set(draft.option_ids)) if draft else []
    if any(o not in {x.id for x in view.options} for o in chosen):
        problems.append(f"Вопрос {n}: такого варианта ответа нет.")
    elif q.kind == "single" and len(chosen) > 1:
        problems.append(f"Вопрос {n}: выберите один вариант.")
    elif not chosen and q.required:
        problems.append(f"Вопрос {n}: это обязательный вопрос.")
    else:
        return [(q.id, o, None) for o in chosen]
    return []


def _answer_rows(questions: Sequence[QuestionView],
                 answers: Sequence[AnswerDraft]) -> list[tuple[int, int | None, str | None]]:
    """(question, option, text) rows of a response; SurveyError with every problem, in Russian."""
    by_id = {q.question.id: q for q in questions}
    given: dict[int, AnswerDraft] = {}
    problems: list[str] = []
    for a in answers:
        if a.question_id not in by_id:
            problems.append("Ответ на вопрос из другого опроса.")
        elif a.question_id in given:
            problems.append(f"Вопрос {by_id[a.question_id].question.position}: ответ дан дважды.")
        else:
            given[a.question_id] = a
    rows: list[tuple[int, int | None, str | None]] = []
    for view in questions:
        rows.extend(_question_rows(view, given.get(view.question.id), problems))
    if not rows and not problems:
        problems.append("Ответьте хотя бы на один вопрос.")
    if problems:
        raise SurveyError(*problems)
    return rows


async def answer(session: AsyncSession, principal: Principal, survey_id: int, answers: Sequence[AnswerDraft],
                 today: date) -> SurveyResponse:
    """Record the principal's one response; every check before anything is written."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise SurveyNotFound("Опрос не найден.")
    if principal.person_id is None or not principal.can("surveys.answer"):
        raise OutOfScope("Отвечать на опросы может только участник, чья учётная запись связана с карточкой в школе.")
    if not await in_audience(session, principal, survey, today):
        raise OutOfScope("Этот опрос адресован не вам.")
    if today < survey.opens_on:
        raise SurveyError(f"Опрос откроется {survey.opens_on.strftime('%d.%m.%Y')}.")
    if today > survey.closes_on:
        raise SurveyError("Опрос завершён: ответы больше не принимаются.")
    if await session.scalar(select(SurveyResponse.id).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.person_id == principal.person_id)) is not None:
        raise AlreadyAnswered("Вы уже ответили на этот опрос: ответить можно только один раз.")
    rows = _answer_rows(await _questions(session, survey.id), answers)
    response = SurveyResponse(survey_id=survey.id, person_id=principal.person_id)
    session.add(response)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyAnswered("Вы уже ответили на этот опрос: ответить можно только один раз.") from exc
    session.add_all([SurveyAnswer(response_id=response.id, question_id=q, option_id=o, text=t) for q, o, t in rows])
    await session.flush()
    return response


# --- results -------------------------------------------------------------------------------------------------


async def results(session: AsyncSession, principal: Principal, survey_id: int) -> Results:
    """Counts and percentages per option (of the people who answered the question), free-text answers; names
    only for the author of a survey that is not anonymous."""
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise SurveyNotFound("Опрос не найден.")
    if not may_manage(principal):
        raise OutOfScope("Результаты опроса видят сотрудники, которые ведут опросы.")
    names_shown = not survey.anonymous and survey.author_id == principal.person_id
    respondents = int(await session.scalar(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id)) or 0)
    questions = await _questions(session, survey.id)
    ids = [q.question.id for q in questions]
    counts: dict[int, int] = {}
    answered: dict[int, int] = {}
    texts: dict[int, list[tuple[str | None, str]]] = {}
    if ids:
        for option_id, count in (await session.execute(
                select(SurveyAnswer.option_id, func.count()).where(
                    SurveyAnswer.question_id.in_(ids), SurveyAnswer.option_id.is_not(None))
                .group_by(SurveyAnswer.option_id))).all():
            counts[option_id] = int(count)
        for question_id, count in (await session.execute(
                select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_id)))
                .where(SurveyAnswer.question_id.in_(ids)).group_by(SurveyAnswer.question_id))).all():
            answered[question_id] = int(count)
        query = (select(SurveyAnswer.question_id, SurveyAnswer.text, Person.last_name, Person.first_name)
                 .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
                 .join(Person, Person.id == SurveyResponse.person_id)
                 .where(SurveyAnswer.question_id.in_(ids), SurveyAnswer.text.is_not(None))
                 .order_by(SurveyAnswer.question_id, func.random() if not names_shown else SurveyAnswer.id))
        for question_id, text, last, first in (await session.execute(query)).all():
            texts.setdefault(question_id, []).append(
                (f"{last} {first[:1]}." if names_shown else None, text))
    out = []
    for view in questions:
        q = view.question
        total = answered.get(q.id, 0)
        out.append(QuestionResult(q.id, q.text, q.kind, total, [
            OptionResult(o.id, o.text, counts.get(o.id, 0),
                         round(100 * counts.get(o.id, 0) / total, 1) if total else 0.0) for o in view.options],
            texts.get(q.id, [])))
    return Results(survey, respondents, out, names_shown)


def bar_chart_svg(question: QuestionResult, *, width: int = 560, row: int = 28) -> str:
    """A horizontal bar chart of one question's options as inline SVG (no scripts, escaped text)."""
    from markupsafe import escape

    label_w, bar_w = 220, width - 220 - 90
    height = row * max(len(question.options), 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{escape(question.text)}">']
    for i, o in enumerate(question.options):
        y = 4 + i * row
        length = round(bar_w * o.percent / 100, 1)
        label = o.text if len(o.text) <= 32 else o.text[:31] + "…"
        parts.append(
            f'<text x="0" y="{y + 18}" font-size="13" fill="#1d2733">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="18" fill="#e3e6ea" rx="3"/>'
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{length}" height="18" fill="#1f4e79" rx="3">'
            f'<title>{escape(o.text)}: {o.count}</title></rect>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 18}" font-size="13" fill="#1d2733">'
            f'{o.count} ({str(o.percent).replace(".", ",")} %)</text>')
    parts.append("</svg>")
    return "".join(parts)
