"""What the survey API sends and receives."""

from __future__ import annotations

from datetime import date

import msgspec


class QuestionIn(msgspec.Struct, frozen=True):
    text: str
    kind: str = "single"
    """single, multiple or text."""
    options: list[str] = msgspec.field(default_factory=list)
    required: bool = False


class SurveyIn(msgspec.Struct, frozen=True):
    title: str
    opens_on: date
    closes_on: date
    questions: list[QuestionIn]
    description: str | None = None
    anonymous: bool = False
    roles: list[str] = msgspec.field(default_factory=list)
    """School roles: student, parent, teacher, class_teacher…"""
    class_ids: list[int] = msgspec.field(default_factory=list)


class AnswerIn(msgspec.Struct, frozen=True):
    question_id: int
    option_ids: list[int] = msgspec.field(default_factory=list)
    text: str | None = None


class ResponseIn(msgspec.Struct, frozen=True):
    answers: list[AnswerIn]


class OptionOut(msgspec.Struct, frozen=True):
    id: int
    text: str


class QuestionOut(msgspec.Struct, frozen=True):
    id: int
    position: int
    kind: str
    text: str
    required: bool
    options: list[OptionOut]


class SurveyOut(msgspec.Struct, frozen=True):
    id: int
    title: str
    description: str | None
    anonymous: bool
    opens_on: date
    closes_on: date
    roles: list[str]
    classes: list[str]
    author: str
    is_open: bool
    in_audience: bool
    answered: bool
    questions: list[QuestionOut]


class SurveyListItem(msgspec.Struct, frozen=True):
    id: int
    title: str
    opens_on: date
    closes_on: date
    is_open: bool
    answered: bool
    in_audience: bool
    mine: bool


class ResponseOut(msgspec.Struct, frozen=True):
    id: int
    survey_id: int


class OptionResultOut(msgspec.Struct, frozen=True):
    id: int
    text: str
    count: int
    percent: float


class TextAnswerOut(msgspec.Struct, frozen=True):
    text: str
    name: str | None = None


class QuestionResultOut(msgspec.Struct, frozen=True):
    id: int
    text: str
    kind: str
    answered: int
    options: list[OptionResultOut]
    texts: list[TextAnswerOut]


class ResultsOut(msgspec.Struct, frozen=True):
    survey_id: int
    title: str
    anonymous: bool
    respondents: int
    names_shown: bool
    questions: list[QuestionResultOut]
