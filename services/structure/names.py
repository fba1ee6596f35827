"""How people's names are written on pages, slips and files: «Иванова Мария Петровна», «Иванова М.»."""

from __future__ import annotations


def full_name(last: str, first: str, middle: str | None = None) -> str:
    return " ".join(x for x in (last, first, middle) if x)


def short_name(last: str, first: str) -> str:
    return f"{last} {first[:1]}." if first else last
