"""What a teacher types into a cell of the journal grid, as in the paper journal: «5», «4», «2/5» (two marks),
«н» (absent), «б» (ill), «у» (excused), «оп» (late), or nothing. Parsing only; the values are checked against
the subject's grading system by the service."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.errors import RuleError

ABSENCE_CODES: dict[str, tuple[str, str | None]] = {
    "н": ("absent", "unexcused"),
    "б": ("absent", "illness"),
    "у": ("absent", "excused"),
    "оп": ("late", None),
}
CODE_OF: dict[tuple[str, str | None], str] = {v: k for k, v in ABSENCE_CODES.items()}
MAX_MARKS_PER_CELL = 4
_SEPARATORS = re.compile(r"[\s/,;]+")
# Latin look-alikes people type on a keyboard in the wrong layout.
_LOOKALIKES = str.maketrans({"h": "н", "y": "у", "n": "н"})


class CellError(RuleError):
    """The text of a cell cannot be read."""

    problem_type = "/problems/journal"


@dataclass(frozen=True, slots=True)
class Cell:
    marks: tuple[str, ...]
    absence: tuple[str, str | None] | None

    def text(self) -> str:
        parts = list(self.marks)
        if self.absence is not None:
            parts.insert(0, CODE_OF[self.absence])
        return "/".join(parts)


def parse_cell(text: str) -> Cell:
    """Split a cell into marks and at most one absence code; raises CellError with a Russian message."""
    tokens = [t for t in _SEPARATORS.split(text.strip().lower()) if t]
    marks: list[str] = []
    absence: tuple[str, str | None] | None = None
    for token in tokens:
        code = token.translate(_LOOKALIKES) if token.isascii() and token.isalpha() else token
        if code in ABSENCE_CODES:
            if absence is not None:
                raise CellError("В клетке может быть только одна отметка о пропуске или опоздании.")
            absence = ABSENCE_CODES[code]
        else:
            marks.append(token)
    if len(marks) > MAX_MARKS_PER_CELL:
        raise CellError(f"В одной клетке — не больше {MAX_MARKS_PER_CELL} отметок.")
    return Cell(tuple(marks), absence)
