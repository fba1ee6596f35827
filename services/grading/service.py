"""Grading rules (R-STR-2): systems and their values as school data, conversions, which system a subject uses in
which grade, kinds of work with weights; `allowed_marks` and `convert` for the journal. Never commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import RuleError
from services.grading import defaults, repository
from services.grading.models import GradeConversion, GradeValue, GradingSystem, SubjectGrading, WorkKind

DEFAULT_SYSTEM = "five"
NO_MARKS_GRADES = frozenset({1})
WEIGHT_MAX = Decimal(10)
_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,19}$")


class GradingError(RuleError):
    """A grading rule refused the change."""

    problem_type = "/problems/grading"


@dataclass(frozen=True, slots=True)
class ValueDraft:
    value: str
    label: str
    numeric_value: Decimal | None = None
    is_passing: bool = True
    is_special: bool = False
    ordering: int = 0


@dataclass(frozen=True, slots=True)
class Effective:
    """How a subject is marked in a grade: the system (None: no marks) and whether a school row says so."""

    system: GradingSystem | None
    marks_allowed: bool
    explicit: bool


# --- systems and values ----------------------------------------------------------------------------------------


async def systems_with_values(session: AsyncSession) -> list[tuple[GradingSystem, list[GradeValue]]]:
    """Every grading system with its values, special marks last."""
    by_system: dict[int, list[GradeValue]] = {}
    for v in await repository.all_values(session):
        by_system.setdefault(v.grading_system_id, []).append(v)
    return [(s, by_system.get(s.id, [])) for s in await repository.systems(session)]


async def _system(session: AsyncSession, code: str) -> GradingSystem:
    found = await repository.system_by_code(session, code)
    if found is None:
        raise GradingError(f"Система оценивания «{code}» не найдена.", status_code=404)
    return found


def _value_problems(v: ValueDraft) -> list[str]:
    problems = []
    if not v.value.strip() or len(v.value.strip()) > 10:
        problems.append("Отметка — от 1 до 10 знаков.")
    if not v.label.strip() or len(v.label.strip()) > 60:
        problems.append(f"Отметка «{v.value.strip()}»: укажите расшифровку (до 60 знаков).")
    if v.numeric_value is not None and abs(v.numeric_value) >= 10000:
        problems.append(f"Отметка «{v.value.strip()}»: слишком большое числовое значение.")
    return problems


async def create_system(session: AsyncSession, code: str, name: str, values: list[ValueDraft]) -> GradingSystem:
    """A new grading system with its values; the special marks «н/а» and «осв» are added unless given."""
    code, name = code.strip().lower(), name.strip()
    problems = []
    if not _CODE.fullmatch(code):
        problems.append("Код системы: латинские буквы, цифры, «-» или «_», от 2 до 20 знаков, например «ten».")
    if not name or len(name) > 100:
        problems.append("Укажите название системы оценивания (до 100 знаков).")
    seen = [v.value.strip() for v in values]
    if len(seen) != len(set(seen)):
        problems.append("Отметки в системе повторяются.")
    for v in values:
        problems += _value_problems(v)
    if problems:
        raise GradingError(*problems)
    if await repository.system_by_code(session, code) is not None:
        raise GradingError(f"Система оценивания с кодом «{code}» уже есть.", status_code=409)
    system = GradingSystem(code=code, name=name)
    session.add(system)
    await session.flush()
    rows = [GradeValue(grading_system_id=system.id, value=v.value.strip(), label=v.label.strip(),
                       numeric_value=v.numeric_value, is_passing=v.is_passing, is_special=v.is_special,
                       ordering=v.ordering or i) for i, v in enumerate(values)]
    rows += [GradeValue(grading_system_id=system.id, value=mark, label=label, numeric_value=None, is_passing=True,
                        is_special=True, ordering=1000 + i)
             for i, (mark, label) in enumerate(defaults.SPECIAL_MARKS) if mark not in seen]
    session.add_all(rows)
    await session.flush()
    return system


async def rename_system(session: AsyncSession, system_id: int, name: str) -> GradingSystem:
    """Change a system's name (its code stays: other data refers to it)."""
    system = await repository.system(session, system_id)
    if system is None:
        raise GradingError("Система оценивания не найдена.", status_code=404)
    if not name.strip() or len(name.strip()) > 100:
        raise GradingError("Укажите название системы оценивания (до 100 знаков).")
    system.name = name.strip()
    await session.flush()
    return system


async def add_value(session: AsyncSession, system_id: int, draft: ValueDraft) -> GradeValue:
    """Add a value to a system."""
    system = await repository.system(session, system_id)
    if system is None:
        raise GradingError("Система оценивания не найдена.", status_code=404)
    problems = _value_problems(draft)
    if problems:
        raise GradingError(*problems)
    if await repository.value_in(session, system_id, draft.value.strip()) is not None:
        raise GradingError(f"Отметка «{draft.value.strip()}» в системе «{system.name}» уже есть.", status_code=409)
    row = GradeValue(grading_system_id=system_id, value=draft.value.strip(), label=draft.label.strip(),
                     numeric_value=draft.numeric_value, is_passing=draft.is_passing, is_special=draft.is_special,
                     ordering=draft.ordering)
    session.add(row)
    await session.flush()
    return row


async def update_value(session: AsyncSession, value_id: int, draft: ValueDraft) -> GradeValue:
    """Change a value's label, number, passing flag or order (the mark itself stays: marks refer to it)."""
    row = await repository.value(session, value_id)
    if row is None:
        raise GradingError("Отметка не найдена.", status_code=404)
    if draft.value.strip() != row.value:
        raise GradingError(f"Саму отметку «{row.value}» изменить нельзя: добавьте новую.")
    problems = _value_problems(draft)
    if problems:
        raise GradingError(*problems)
    row.label, row.numeric_value, row.is_passing = draft.label.strip(), draft.numeric_value, draft.is_passing
    row.is_special, row.ordering = draft.is_special, draft.ordering
    await session.flush()
    return row


# --- conversions -----------------------------------------------------------------------------------------------


async def set_conversion(session: AsyncSession, from_system: str, value: str, to_system: str,
                         to_value: str | None) -> None:
    """Set (or with `to_value` None remove) the equivalent of `value` of one system in another."""
    source, target = await _system(session, from_system), await _system(session, to_system)
    if source.id == target.id:
        raise GradingError("Перевод задаётся между разными системами оценивания.")
    from_row = await repository.value_in(session, source.id, value.strip())
    if from_row is None:
        raise GradingError(f"В системе «{source.name}» нет отметки «{value.strip()}».")
    if to_value is None or not to_value.strip():
        await repository.delete_conversion(session, from_row.id, target.id)
        await session.flush()
        return
    to_row = await repository.value_in(session, target.id, to_value.strip())
    if to_row is None:
        raise GradingError(f"В системе «{target.name}» нет отметки «{to_value.strip()}».")
    existing = await repository.conversion(session, from_row.id, target.id)
    if existing is None:
        session.add(GradeConversion(from_value_id=from_row.id, to_system_id=target.id, to_value_id=to_row.id))
    else:
        existing.to_value_id = to_row.id
    await session.flush()


async def convert(session: AsyncSession, value: str, from_system: str, to_system: str) -> str | None:
    """The mark `value` of system `from_system` (a code, e.g. "ten") expressed in `to_system` ("five"), by the
    school's conversion table; special marks («н/а», «осв») stay as they are. None when the table has no row."""
    source, target = await _system(session, from_system), await _system(session, to_system)
    value = value.strip()
    if source.id == target.id:
        return value if await repository.value_in(session, source.id, value) is not None else None
    found = await repository.converted(session, source.id, value, target.id)
    if found is not None:
        return found
    mark = await repository.value_in(session, source.id, value)
    if mark is not None and mark.is_special and await repository.value_in(session, target.id, value) is not None:
        return value
    return None


# --- per subject and grade -------------------------------------------------------------------------------------


async def effective_grading(session: AsyncSession, subject_id: int, grade: int) -> Effective:
    """The system a subject uses in a grade: the school's choice, else none in grade 1 and 5-point elsewhere."""
    row = await repository.subject_grading(session, subject_id, grade)
    if row is not None:
        system = await repository.system(session, row.grading_system_id) if row.grading_system_id else None
        allowed = row.marks_allowed and system is not None
        return Effective(system if allowed else None, allowed, True)
    if grade in NO_MARKS_GRADES:
        return Effective(None, False, False)
    return Effective(await repository.system_by_code(session, DEFAULT_SYSTEM), True, False)


async def allowed_marks(session: AsyncSession, subject_id: int, grade: int) -> list[GradeValue]:
    """The values a mark may take in a subject in a grade, special marks («н/а», «осв») included; empty when
    the subject is not marked in that grade (grade 1 by default)."""
    effective = await effective_grading(session, subject_id, grade)
    if effective.system is None:
        return []
    return await repository.values(session, effective.system.id)


async def set_subject_grading(session: AsyncSession, subject_id: int, grade: int,
                              system_code: str | None) -> SubjectGrading:
    """Choose the system of a subject in a grade; `system_code` None means no marks (attendance only)."""
    if not 1 <= grade <= 11:
        raise GradingError("Класс (параллель) — от 1 до 11.")
    if await repository.subject(session, subject_id) is None:
        raise GradingError("Предмет не найден.", status_code=404)
    system_id = (await _system(session, system_code)).id if system_code else None
    row = await repository.subject_grading(session, subject_id, grade)
    if row is None:
        row = SubjectGrading(subject_id=subject_id, grade=grade, grading_system_id=system_id,
                             marks_allowed=system_id is not None)
        session.add(row)
    else:
        row.grading_system_id, row.marks_allowed = system_id, system_id is not None
    await session.flush()
    return row


# --- kinds of work ---------------------------------------------------------------------------------------------


def _kind_problems(name: str, short_name: str, weight: Decimal) -> list[str]:
    problems = []
    if not name.strip() or len(name.strip()) > 100:
        problems.append("Укажите название вида работы (до 100 знаков).")
    if not short_name.strip() or len(short_name.strip()) > 20:
        problems.append("Укажите краткое название вида работы (до 20 знаков).")
    if not (Decimal(0) < weight <= WEIGHT_MAX) or weight != round(weight, 2):
        problems.append("Вес вида работы — больше 0 и не больше 10 (до двух знаков после запятой).")
    return problems


def parse_weight(text: str) -> Decimal:
    """A weight typed by a person: «1,5» and «1.5» both work."""
    try:
        weight = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise GradingError("Вес вида работы — число, например 1,5.") from exc
    if not weight.is_finite():
        raise GradingError("Вес вида работы — число, например 1,5.")
    return weight


async def create_work_kind(session: AsyncSession, name: str, short_name: str, weight: Decimal,
                           is_written: bool = False) -> WorkKind:
    """A new kind of work; 0 < weight ≤ 10."""
    problems = _kind_problems(name, short_name, weight)
    if problems:
        raise GradingError(*problems)
    if await repository.work_kind_named(session, name.strip()) is not None:
        raise GradingError(f"Вид работы «{name.strip()}» уже есть.", status_code=409)
    kind = WorkKind(name=name.strip(), short_name=short_name.strip(), weight=weight, is_written=is_written,
                    active=True)
    session.add(kind)
    await session.flush()
    return kind


async def update_work_kind(session: AsyncSession, kind_id: int, name: str, short_name: str, weight: Decimal, *,
                           is_written: bool, active: bool) -> WorkKind:
    """Change a kind of work, its weight, or (de)activate it."""
    kind = await repository.work_kind(session, kind_id)
    if kind is None:
        raise GradingError("Вид работы не найден.", status_code=404)
    problems = _kind_problems(name, short_name, weight)
    if problems:
        raise GradingError(*problems)
    same = await repository.work_kind_named(session, name.strip())
    if same is not None and same.id != kind_id:
        raise GradingError(f"Вид работы «{name.strip()}» уже есть.", status_code=409)
    kind.name, kind.short_name, kind.weight = name.strip(), short_name.strip(), weight
    kind.is_written, kind.active = is_written, active
    await session.flush()
    return kind


async def remove_work_kind(session: AsyncSession, kind_id: int) -> bool:
    """Delete a kind of work, or deactivate it when marks already use it; True when it was deleted."""
    kind = await repository.work_kind(session, kind_id)
    if kind is None:
        raise GradingError("Вид работы не найден.", status_code=404)
    if await repository.work_kind_used(session, kind_id):
        kind.active = False
        await session.flush()
        return False
    await session.delete(kind)
    await session.flush()
    return True
