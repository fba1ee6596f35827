"""Survey tables (in the school's schema). One response per person and survey, enforced by the database;
an anonymous survey still records who answered (for that rule) but never shows it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - the tables refer to person and class_unit

QUESTION_KINDS = ("single", "multiple", "text")


class Survey(SchoolBase):
    """Опрос: open from one date to another (the school's dates, inclusive), aimed at roles and/or classes."""

    __tablename__ = "survey"
    __table_args__ = (CheckConstraint("opens_on <= closes_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, server_default=false())
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    audience_roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SurveyClass(SchoolBase):
    """A class the survey is aimed at: its current students and their parents."""

    __tablename__ = "survey_class"

    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), primary_key=True)
    class_unit_id: Mapped[int] = mapped_column(ForeignKey("class_unit.id"), primary_key=True)


class SurveyQuestion(SchoolBase):
    __tablename__ = "survey_question"
    __table_args__ = (CheckConstraint(f"kind in {QUESTION_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(Boolean, server_default=false())


class SurveyOption(SchoolBase):
    __tablename__ = "survey_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(String(300))


class SurveyResponse(SchoolBase):
    """One person's answer to a survey: at most one, whatever two requests do at once."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SurveyAnswer(SchoolBase):
    """An answer to one question: a chosen option (one row per option) or a text."""

    __tablename__ = "survey_answer"
    __table_args__ = (CheckConstraint("(option_id is null) <> (text is null)", name="option_or_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"), index=True)
    option_id: Mapped[int | None] = mapped_column(ForeignKey("survey_option.id"))
    text: Mapped[str | None] = mapped_column(Text)
