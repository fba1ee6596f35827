"""Календарно-тематический план (КТП): the ordered topics of one teaching-load item (R-JRN-8)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db import SchoolBase
from services.structure import models as _structure  # noqa: F401 - teaching_load is referred to


class PlanTopic(SchoolBase):
    """One topic of the plan, in order, with the hours it takes."""

    __tablename__ = "plan_topic"
    __table_args__ = (
        UniqueConstraint("teaching_load_id", "position"),
        CheckConstraint("hours between 1 and 20", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    teaching_load_id: Mapped[int] = mapped_column(ForeignKey("teaching_load.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    hours: Mapped[int] = mapped_column(SmallInteger, default=1)
    planned_date: Mapped[date | None] = mapped_column(Date)
