"""What a new school starts with: the usual grading systems, special marks, conversions and kinds of work.
All of it is school data afterwards, edited by the school; the defaults are only the first rows."""

from __future__ import annotations

from decimal import Decimal

SPECIAL_MARKS = (("н/а", "не аттестован"), ("осв", "освобождён"))

# code → (name, [(value, label, numeric, passing)])
SYSTEMS: dict[str, tuple[str, list[tuple[str, str, Decimal | None, bool]]]] = {
    "five": ("5-балльная", [
        ("5", "отлично", Decimal(5), True), ("4", "хорошо", Decimal(4), True),
        ("3", "удовлетворительно", Decimal(3), True), ("2", "неудовлетворительно", Decimal(2), False),
    ]),
    "ten": ("10-балльная", [(str(n), str(n), Decimal(n), n >= 4) for n in range(10, 0, -1)]),
    "hundred": ("100-балльная", [(str(n), str(n), Decimal(n), n >= 40) for n in range(100, -1, -1)]),
    "pass": ("зачёт/незачёт", [("зач", "зачтено", None, True), ("незач", "не зачтено", None, False)]),
}


def five_point_of(code: str, value: str) -> str | None:
    """The default conversion of a value into the 5-point system (special marks stay as they are)."""
    if not value.isdigit():
        return None
    if code == "ten":
        n = int(value)
        return "5" if n >= 9 else "4" if n >= 7 else "3" if n >= 4 else "2"
    if code == "hundred":
        n = int(value)
        return "5" if n >= 85 else "4" if n >= 65 else "3" if n >= 40 else "2"
    return None


# (name, short, weight, written)
WORK_KINDS: tuple[tuple[str, str, Decimal, bool], ...] = (
    ("Контрольная работа", "К/р", Decimal("2.0"), True),
    ("Диктант", "Дикт.", Decimal("2.0"), True),
    ("Самостоятельная работа", "С/р", Decimal("1.5"), True),
    ("Лабораторная работа", "Л/р", Decimal("1.5"), True),
    ("Практическая работа", "П/р", Decimal("1.5"), True),
    ("Проверочная работа", "Пров.", Decimal("1.5"), True),
    ("Сочинение", "Соч.", Decimal("2.0"), True),
    ("Устный ответ", "Уст.", Decimal("1.0"), False),
    ("Домашняя работа", "Д/з", Decimal("1.0"), False),
    ("Работа на уроке", "Ур.", Decimal("1.0"), False),
    ("Проект", "Проект", Decimal("2.0"), False),
)
