"""The journal's school settings (school data in `school_setting`, edited by the administration): the closing
window of period marks, the rounding rule of the suggested mark, and the timeliness limits (R-JRN-4, R-REP-2)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.structure.models import SchoolSetting

PREFIX = "journal."


class SettingsError(RuleError):
    problem_type = "/problems/journal-settings"


@dataclass(frozen=True, slots=True)
class JournalSettings:
    final_window_before_days: int = 7
    """Period marks open this many days before the period's last day…"""
    final_window_after_days: int = 7
    """…and stay open this many days after it (unless the period is closed earlier)."""
    rounding_threshold: Decimal = Decimal("0.5")
    """The suggested mark rounds the weighted average up from this fraction: 0.5 makes 3.5 → 4, 0.6 keeps 3.5 → 3."""
    homework_deadline_hours: int = 2
    """Homework is late when set more than this many hours after the teacher's last lesson of the day."""
    written_mark_days: int = 7
    """Marks for written work are late when entered more than this many days after the lesson."""


_WINDOW = "Окно итоговых отметок {} конца периода — от 0 до 60 дней."
_LIMITS: dict[str, tuple[Decimal, Decimal, str]] = {
    "final_window_before_days": (Decimal(0), Decimal(60), _WINDOW.format("до")),
    "final_window_after_days": (Decimal(0), Decimal(60), _WINDOW.format("после")),
    "rounding_threshold": (Decimal("0.1"), Decimal("0.9"), "Порог округления — от 0,1 до 0,9."),
    "homework_deadline_hours": (Decimal(0), Decimal(48), "Срок записи домашнего задания — от 0 до 48 часов."),
    "written_mark_days": (Decimal(1), Decimal(30), "Срок выставления отметок за письменные работы — от 1 до 30 дней."),
}


def _coerce(name: str, raw: Any) -> int | Decimal:
    low, high, message = _LIMITS[name]
    try:
        value = Decimal(str(raw).replace(",", "."))
    except ArithmeticError as exc:
        raise SettingsError(message) from exc
    if not value.is_finite() or not low <= value <= high:
        raise SettingsError(message)
    if name == "rounding_threshold":
        return value
    if value != value.to_integral_value():
        raise SettingsError(message)
    return int(value)


async def journal_settings(session: AsyncSession) -> JournalSettings:
    """The school's journal settings; a key the school has not set keeps its default."""
    rows = await session.execute(select(SchoolSetting.key, SchoolSetting.value).where(
        SchoolSetting.key.like(f"{PREFIX}%")))
    values: dict[str, Any] = {}
    for key, value in rows.tuples():
        name = key.removeprefix(PREFIX)
        if name in _LIMITS:
            values[name] = _coerce(name, value)
    return replace(JournalSettings(), **values)


async def update_journal_settings(session: AsyncSession, changes: dict[str, Any]) -> JournalSettings:
    """Set some of the journal settings; every problem is reported at once and nothing is stored then."""
    known = {f.name for f in fields(JournalSettings)}
    problems, clean = [], {}
    for name, raw in changes.items():
        if name not in known:
            problems.append(f"Неизвестная настройка журнала: {name}.")
            continue
        try:
            clean[name] = _coerce(name, raw)
        except SettingsError as exc:
            problems.extend(exc.messages)
    if problems:
        raise SettingsError(*problems)
    for name, value in clean.items():
        row = await session.get(SchoolSetting, PREFIX + name)
        stored = str(value) if isinstance(value, Decimal) else value
        if row is None:
            session.add(SchoolSetting(key=PREFIX + name, value=stored))
        else:
            row.value = stored
    await session.flush()
    return await journal_settings(session)
