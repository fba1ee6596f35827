"""Reading the tables schools have: CSV as Excel writes it in Russia (`;`, UTF-8 with or without BOM, or
Windows-1251) and XLSX. Rows come back as dicts keyed by our field names, each with its line number, and every
problem names its line and column, so a dry run can list all of them before anything is written (R-STR-7)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from openpyxl import load_workbook

MAX_ROWS = 20_000
MAX_UPLOAD = 5 * 1024 * 1024
TOO_LARGE = "Файл больше 5 МБ."


async def read_upload(upload: object) -> tuple[bytes, str] | None:
    """The uploaded file's bytes and name, or None when it is larger than MAX_UPLOAD (nothing more is read)."""
    read = getattr(upload, "read", None)
    if read is None:
        return b"", ""
    content: bytes = await read(MAX_UPLOAD + 1)
    return None if len(content) > MAX_UPLOAD else (content, getattr(upload, "filename", "") or "")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Строка {self.line}, столбец «{self.column}»: {self.message}" if self.line else self.message


@dataclass(slots=True)
class Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("undecodable")


def _cells(data: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        return [["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 1)]
    text = _decode(data)
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t") if text.strip() else csv.excel
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def read_table(data: bytes, filename: str, columns: Mapping[str, tuple[str, ...]],
               required: tuple[str, ...]) -> Table:
    """Rows of the first sheet (or the CSV) as {field: text}; `columns` maps a field to the headers it may have."""
    table = Table()
    try:
        cells = _cells(data, filename)
    except Exception:
        table.problems.append(Problem(0, "", "Файл не читается: нужен CSV (UTF-8 или Windows-1251) или XLSX."))
        return table
    cells = [row for row in cells if any(row)]
    if not cells:
        table.problems.append(Problem(0, "", "Файл пуст."))
        return table
    header = [h.strip().lower().rstrip(".") for h in cells[0]]
    where: dict[str, int] = {}
    for name, titles in columns.items():
        for title in titles:
            if title.lower() in header:
                where[name] = header.index(title.lower())
                break
    missing = [columns[name][0] for name in required if name not in where]
    if missing:
        table.problems.append(Problem(1, ", ".join(missing), "нет такого столбца в первой строке файла."))
        return table
    if len(cells) - 1 > MAX_ROWS:
        table.problems.append(Problem(0, "", f"Слишком много строк: не больше {MAX_ROWS}."))
        return table
    for line, row in enumerate(cells[1:], start=2):
        values = {name: (row[i] if i < len(row) else "") for name, i in where.items()}
        for name in required:
            if not values[name]:
                table.problems.append(Problem(line, columns[name][0], "не заполнено."))
        table.rows.append((line, values))
    return table
