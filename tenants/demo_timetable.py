"""What a demo school teaches and when: curriculum per grade, staff with their load, a weekly timetable, КТП titles.

Pure and deterministic (no database): `plan_school` decides, for a list of classes, which teachers the school
needs (one per subject group, filled up to a weekly cap), who teaches what in which class (English split into
two subgroups from grade 5, each half with its own teacher), who is class teacher, and a weekly timetable that
is conflict-free by construction: slots are filled day by day, lesson by lesson (at each slot the class with
the fewest choices first), a lesson only goes where its class and every teacher of it are free, and a last
pass moves a day's last lesson into an earlier gap where its teachers are free. Whole-class lessons sit in
the class's home room; English halves and PE sit in their teacher's own room, so rooms never clash either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["SUBJECTS", "YEAR_WEEKS", "ClassPlan", "LoadPlan", "SchoolPlan", "Slot", "TeacherPlan", "check_work",
           "curriculum", "homework_text", "plan_school", "topic_titles"]

YEAR_WEEKS = 34
WEEKDAYS = 5
MAX_SLOT = 7
_FALLBACK_MAX_SLOT = 8
_TEACHER_CAP = 26  # hours a week before the next teacher of the group is hired

# (full name, short name)
SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Русский язык", "Рус. яз."), ("Литературное чтение", "Лит. чт."), ("Литература", "Лит-ра"),
    ("Математика", "Матем."), ("Алгебра", "Алгебра"), ("Геометрия", "Геометрия"),
    ("Вероятность и статистика", "Вер. и стат."), ("Информатика", "Информ."),
    ("Иностранный язык (английский)", "Англ. яз."), ("Окружающий мир", "Окр. мир"), ("История", "История"),
    ("Обществознание", "Общество"), ("География", "География"), ("Биология", "Биология"), ("Физика", "Физика"),
    ("Химия", "Химия"), ("Музыка", "Музыка"), ("Изобразительное искусство", "ИЗО"),
    ("Труд (технология)", "Труд"), ("Физическая культура", "Физ-ра"),
    ("Основы безопасности и защиты Родины", "ОБЗР"),
)
ENGLISH = "Иностранный язык (английский)"
_RUS, _LIT, _MATH, _ALG, _GEOM, _PROB, _INF = (
    "Русский язык", "Литература", "Математика", "Алгебра", "Геометрия", "Вероятность и статистика", "Информатика")
_HIST, _SOC, _GEO, _BIO, _PHYS, _CHEM = ("История", "Обществознание", "География", "Биология", "Физика", "Химия")
_MUS, _ART, _TECH, _PE, _OBZR = (
    "Музыка", "Изобразительное искусство", "Труд (технология)", "Физическая культура",
    "Основы безопасности и защиты Родины")


def curriculum(grade: int) -> list[tuple[str, int]]:
    """(subject, hours a week) of a grade: a small, realistic учебный план."""
    if grade <= 4:
        plan = [(_RUS, 5), ("Литературное чтение", 4), (_MATH, 4), ("Окружающий мир", 2)]
        if grade >= 2:
            plan.append((ENGLISH, 2))
        return [*plan, (_MUS, 1), (_ART, 1), (_TECH, 1), (_PE, 2)]
    if grade <= 6:
        return [(_RUS, 5 if grade == 5 else 6), (_LIT, 3), (ENGLISH, 3), (_MATH, 5), (_HIST, 2),
                *([(_SOC, 1)] if grade == 6 else []), (_GEO, 1), (_BIO, 1), (_MUS, 1), (_ART, 1), (_TECH, 2),
                (_PE, 2)]
    if grade <= 9:
        plan = [(_RUS, {7: 4, 8: 3, 9: 3}[grade]), (_LIT, 3 if grade == 9 else 2), (ENGLISH, 3), (_ALG, 3),
                (_GEOM, 2), (_PROB, 1), (_INF, 1), (_HIST, 2), (_SOC, 1), (_GEO, 2), (_BIO, 1 if grade == 7 else 2),
                (_PHYS, 3 if grade == 9 else 2)]
        if grade >= 8:
            plan.append((_CHEM, 2))
        if grade <= 8:
            plan.append((_MUS, 1))
        if grade == 7:
            plan.append((_ART, 1))
        plan.append((_TECH, 2 if grade == 7 else 1))
        if grade >= 8:
            plan.append((_OBZR, 1))
        return [*plan, (_PE, 2)]
    return [(_RUS, 2), (_LIT, 3), (ENGLISH, 3), (_ALG, 3), (_GEOM, 2), (_PROB, 1), (_INF, 1), (_HIST, 2),
            (_SOC, 2), (_GEO, 1), (_BIO, 1), (_PHYS, 2), (_CHEM, 1), (_OBZR, 1), (_PE, 2)]


# Subject groups: one kind of teacher each; some teach two or more subjects.
_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "primary": ("учитель начальных классов", ()),
    "rus": ("учитель русского языка и литературы", (_RUS, _LIT)),
    "math": ("учитель математики", (_MATH, _ALG, _GEOM, _PROB)),
    "eng": ("учитель английского языка", (ENGLISH,)),
    "hist": ("учитель истории и обществознания", (_HIST, _SOC)),
    "geo": ("учитель географии", (_GEO,)),
    "bio": ("учитель биологии и химии", (_BIO, _CHEM)),
    "phys": ("учитель физики и информатики", (_PHYS, _INF)),
    "art": ("учитель музыки и ИЗО", (_MUS, _ART)),
    "tech": ("учитель труда (технологии)", (_TECH,)),
    "pe": ("учитель физкультуры и ОБЗР", (_PE, _OBZR)),
}
_GROUP_OF = {subject: key for key, (_, subjects) in _GROUPS.items() for subject in subjects}
_PRIMARY_SUBJECTS = {_RUS, "Литературное чтение", _MATH, "Окружающий мир", _ART, _TECH}
# Class teachers of grades 5–11 come from these groups first.
_CLASS_TEACHER_PREFERENCE = ("rus", "math", "hist", "eng", "bio", "geo", "phys", "art", "tech", "pe")


@dataclass(slots=True)
class TeacherPlan:
    group: str
    hours: int = 0

    @property
    def title(self) -> str:
        return _GROUPS[self.group][0]


@dataclass(frozen=True, slots=True)
class ClassPlan:
    grade: int
    letter: str
    room: str

    @property
    def name(self) -> str:
        return f"{self.grade}{self.letter}"


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """A teaching-load item: a whole class, or half `subgroup` (1 or 2) of it."""

    class_index: int
    subject: str
    teacher: int  # index into SchoolPlan.teachers
    hours: int
    subgroup: int | None = None
    room: str | None = None  # the teacher's own room; None: the class's home room


@dataclass(frozen=True, slots=True)
class Slot:
    load: int  # index into SchoolPlan.loads
    weekday: int
    lesson_number: int
    room: str


@dataclass(slots=True)
class SchoolPlan:
    classes: list[ClassPlan]
    teachers: list[TeacherPlan] = field(default_factory=list)
    loads: list[LoadPlan] = field(default_factory=list)
    class_teachers: list[int] = field(default_factory=list)  # per class: index into teachers
    slots: list[Slot] = field(default_factory=list)
    teacher_rooms: dict[int, str] = field(default_factory=dict)


def _rooms(classes: list[tuple[int, str]]) -> list[ClassPlan]:
    """Home rooms: the first floor for grades 1–4, the second for 5–8, the third for 9–11."""
    counters: dict[int, int] = {}
    result = []
    for grade, letter in classes:
        floor = 1 if grade <= 4 else 2 if grade <= 8 else 3
        counters[floor] = counters.get(floor, 0) + 1
        result.append(ClassPlan(grade, letter, f"{floor}{counters[floor]:02d}"))
    return result


class _Staffing:
    def __init__(self, plan: SchoolPlan) -> None:
        self.plan = plan
        self.by_group: dict[str, list[int]] = {}

    def hire(self, group: str) -> int:
        self.plan.teachers.append(TeacherPlan(group))
        index = len(self.plan.teachers) - 1
        self.by_group.setdefault(group, []).append(index)
        if group == "eng":
            self.plan.teacher_rooms[index] = f"4{len(self.by_group[group]):02d}"
        elif group == "pe":
            n = len(self.by_group[group])
            self.plan.teacher_rooms[index] = "Спортзал" if n == 1 else f"Спортзал {n}"
        return index

    def with_room(self, group: str, hours: int, *, exclude: int | None = None) -> int:
        for index in self.by_group.get(group, []):
            if index != exclude and self.plan.teachers[index].hours + hours <= _TEACHER_CAP:
                return index
        return self.hire(group)

    def give(self, class_index: int, subject: str, teacher: int, hours: int, subgroup: int | None = None) -> None:
        self.plan.teachers[teacher].hours += hours
        self.plan.loads.append(LoadPlan(class_index, subject, teacher, hours, subgroup,
                                        self.plan.teacher_rooms.get(teacher)))


def _staff(plan: SchoolPlan) -> None:
    staffing = _Staffing(plan)
    for class_index, unit in enumerate(plan.classes):
        subjects = curriculum(unit.grade)
        primary = staffing.hire("primary") if unit.grade <= 4 else None
        by_group: dict[str, list[tuple[str, int]]] = {}
        for subject, hours in subjects:
            if primary is not None and subject in _PRIMARY_SUBJECTS:
                staffing.give(class_index, subject, primary, hours)
            else:
                by_group.setdefault(_GROUP_OF[subject], []).append((subject, hours))
        for group, items in by_group.items():
            total = sum(hours for _, hours in items)
            if group == "eng" and unit.grade >= 5:
                (subject, hours), = items
                first = staffing.with_room(group, hours)
                second = staffing.with_room(group, hours, exclude=first)
                staffing.give(class_index, subject, first, hours, 1)
                staffing.give(class_index, subject, second, hours, 2)
                continue
            teacher = staffing.with_room(group, total)
            for subject, hours in items:
                staffing.give(class_index, subject, teacher, hours)
        if primary is not None:
            plan.class_teachers.append(primary)
        else:
            plan.class_teachers.append(-1)
    # Class teachers of grades 5–11: a teacher of the class, one class each, by the preferred groups.
    taken = set(plan.class_teachers)
    for class_index, current in enumerate(plan.class_teachers):
        if current >= 0:
            continue
        teaching = {load.teacher for load in plan.loads if load.class_index == class_index}
        candidates = sorted((t for t in teaching if t not in taken),
                            key=lambda t: (_CLASS_TEACHER_PREFERENCE.index(plan.teachers[t].group), t))
        chosen = candidates[0] if candidates else staffing.hire("rus")  # never needed with these curricula
        plan.class_teachers[class_index] = chosen
        taken.add(chosen)


# --- the weekly timetable ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    """What takes one slot of a class: a whole-class lesson, or both English halves at once."""

    subject: str
    loads: tuple[int, ...]
    teachers: tuple[int, ...]
    remaining: int
    per_day: dict[int, int] = field(default_factory=dict)


def _daily_targets(hours: int) -> list[int]:
    base, extra = divmod(hours, WEEKDAYS)
    return [base + (1 if day < extra else 0) for day in range(WEEKDAYS)]


def _timetable(plan: SchoolPlan) -> None:
    units: list[list[_Unit]] = [[] for _ in plan.classes]
    for index, load in enumerate(plan.loads):
        mine = units[load.class_index]
        if load.subgroup == 2:
            first = next(u for u in mine if u.subject == load.subject)
            first.loads += (index,)
            first.teachers += (load.teacher,)
            continue
        mine.append(_Unit(load.subject, (index,), (load.teacher,), load.hours))
    busy: set[tuple[int, int, int]] = set()  # (teacher, weekday, lesson)
    taken: set[tuple[int, int, int]] = set()  # (class, weekday, lesson)
    teacher_left = [t.hours for t in plan.teachers]
    targets = [_daily_targets(sum(u.remaining for u in mine)) for mine in units]
    placed = [[0] * WEEKDAYS for _ in plan.classes]

    placements: list[tuple[int, _Unit, int, int]] = []  # (class, unit, weekday, lesson)

    def put(class_index: int, unit: _Unit, weekday: int, lesson: int) -> None:
        unit.remaining -= 1
        unit.per_day[weekday] = unit.per_day.get(weekday, 0) + 1
        placed[class_index][weekday - 1] += 1
        taken.add((class_index, weekday, lesson))
        busy.update((teacher, weekday, lesson) for teacher in unit.teachers)
        for teacher in unit.teachers:
            teacher_left[teacher] -= 1
        placements.append((class_index, unit, weekday, lesson))

    def free(unit: _Unit, weekday: int, lesson: int) -> bool:
        return all((t, weekday, lesson) not in busy for t in unit.teachers)

    def candidates(class_index: int, weekday: int, lesson: int) -> list[_Unit]:
        return [u for u in units[class_index]
                if u.remaining > 0 and free(u, weekday, lesson)
                and (u.per_day.get(weekday, 0) == 0 or u.remaining > WEEKDAYS - weekday)]

    for weekday in range(1, WEEKDAYS + 1):
        for lesson in range(1, MAX_SLOT + 1):
            waiting = [c for c in range(len(plan.classes)) if placed[c][weekday - 1] < targets[c][weekday - 1]]
            while waiting:
                # The class with the fewest choices goes first; its busiest teachers' lessons before others.
                options = {c: candidates(c, weekday, lesson) for c in waiting}
                class_index = min(waiting, key=lambda c: (len(options[c]) or 99, c))
                waiting.remove(class_index)
                if not options[class_index]:
                    continue
                best = max(options[class_index], key=lambda u: (u.remaining - 10 * u.per_day.get(weekday, 0),
                                                                max(teacher_left[t] for t in u.teachers)))
                put(class_index, best, weekday, lesson)
    # Whatever did not fit: the lightest day of the class where it and the teachers are free.
    for class_index, mine in enumerate(units):
        for unit in mine:
            while unit.remaining > 0:
                spare = [(placed[class_index][d - 1], lesson, d)
                           for d in range(1, WEEKDAYS + 1) for lesson in range(1, _FALLBACK_MAX_SLOT + 1)
                           if (class_index, d, lesson) not in taken and free(unit, d, lesson)]
                if not spare:
                    raise RuntimeError(f"no slot for {unit.subject} in {plan.classes[class_index].name}")
                _, lesson, weekday = min(spare)
                put(class_index, unit, weekday, lesson)
    _close_gaps(placements, taken, busy)
    for class_index, unit, weekday, lesson in sorted(placements, key=lambda p: (p[0], p[2], p[3])):
        for load_index in unit.loads:
            room = plan.loads[load_index].room or plan.classes[class_index].room
            plan.slots.append(Slot(load_index, weekday, lesson, room))


def _close_gaps(placements: list[tuple[int, _Unit, int, int]], taken: set[tuple[int, int, int]],
                busy: set[tuple[int, int, int]]) -> None:
    """Move the last lesson of a class's day into the first gap of that day where its teachers are free."""
    moved = True
    while moved:
        moved = False
        last: dict[tuple[int, int], int] = {}
        for i, (class_index, _, weekday, lesson) in enumerate(placements):
            key = (class_index, weekday)
            if key not in last or placements[last[key]][3] < lesson:
                last[key] = i
        for (class_index, weekday), i in last.items():
            _, unit, _, lesson = placements[i]
            for gap in range(1, lesson):
                if (class_index, weekday, gap) in taken or any((t, weekday, gap) in busy for t in unit.teachers):
                    continue
                taken.discard((class_index, weekday, lesson))
                taken.add((class_index, weekday, gap))
                busy.difference_update((t, weekday, lesson) for t in unit.teachers)
                busy.update((t, weekday, gap) for t in unit.teachers)
                placements[i] = (class_index, unit, weekday, gap)
                moved = True
                break


def plan_school(classes: list[tuple[int, str]]) -> SchoolPlan:
    """Staff, load and weekly timetable for a school with these (grade, letter) classes."""
    plan = SchoolPlan(_rooms(classes))
    _staff(plan)
    _timetable(plan)
    return plan


# --- КТП ----------------------------------------------------------------------------------------------------------

_TOPICS: dict[str, tuple[str, ...]] = {
    _RUS: ("Повторение изученного", "Звуки и буквы", "Состав слова", "Имя существительное", "Имя прилагательное",
           "Глагол", "Местоимение", "Синтаксис и пунктуация", "Развитие речи", "Правописание"),
    "Литературное чтение": ("Устное народное творчество", "Сказки", "Басни", "Стихи о природе",
                            "Рассказы о детях", "Произведения о животных"),
    _LIT: ("Фольклор", "Древнерусская литература", "Литература XVIII века", "А. С. Пушкин", "М. Ю. Лермонтов",
           "Н. В. Гоголь", "Л. Н. Толстой", "Литература XX века"),
    _MATH: ("Натуральные числа", "Сложение и вычитание", "Умножение и деление", "Дроби", "Десятичные дроби",
            "Проценты", "Задачи на движение", "Геометрические фигуры"),
    _ALG: ("Выражения", "Линейные уравнения", "Функции", "Степени", "Многочлены", "Квадратные уравнения",
           "Неравенства", "Системы уравнений"),
    _GEOM: ("Начальные понятия", "Треугольники", "Параллельные прямые", "Четырёхугольники", "Площади",
            "Подобие", "Окружность", "Векторы"),
    ENGLISH: ("Знакомство", "Моя семья", "Школа", "Мой дом", "Еда", "Путешествия", "Спорт", "Грамматика"),
    _HIST: ("Древний мир", "Средние века", "Новое время", "История России", "Культура эпохи", "Повторение"),
    _PHYS: ("Механическое движение", "Силы", "Давление", "Работа и энергия", "Тепловые явления",
            "Электричество", "Оптика"),
}
_GENERIC = ("Введение", "Изучение нового материала", "Практическая работа", "Закрепление", "Повторение",
            "Контрольная работа")


def topic_titles(subject: str, count: int) -> list[str]:
    """`count` topic titles for a КТП of `subject`: «Тема 1. …», «Тема 2. …»."""
    names = _TOPICS.get(subject, _GENERIC)
    return [f"Тема {n}. {names[(n - 1) * len(names) // count]}: урок {n}" for n in range(1, count + 1)]


# --- the journal of the past weeks ------------------------------------------------------------------------------

_NO_HOMEWORK = frozenset({_PE, _MUS, _ART, _TECH, _OBZR})
_EXERCISES = frozenset({_RUS, ENGLISH, _MATH, _ALG, _GEOM, _PROB})
_DICTATION = frozenset({_RUS})
_TESTS = frozenset({_MATH, _ALG, _GEOM, _PHYS, _CHEM})
_PRACTICE = frozenset({_PE, _TECH, _ART, _MUS, _INF})


def homework_text(subject: str, ordinal: int) -> str | None:
    """The class's homework after the `ordinal`-th lesson of a subject; None means «Без задания»."""
    if subject in _NO_HOMEWORK:
        return None
    paragraph, page = 1 + ordinal // 3, 8 + 3 * ordinal
    if subject in _EXERCISES:
        number = 40 + 4 * ordinal
        if subject == ENGLISH:
            return f"Учебник, стр. {page}, упр. {1 + ordinal % 6}; выучить новые слова"
        if subject == _RUS:
            return f"Упр. {number}; правило на стр. {page} выучить"
        return f"§ {paragraph}, № {number}, {number + 1}, {number + 3}"
    if subject in {"Литературное чтение", _LIT}:
        return f"Прочитать стр. {page}–{page + 6}, ответить на вопросы 1–{3 + ordinal % 3}"
    return f"§ {paragraph}, вопросы на стр. {page}"


def check_work(subject: str, ordinal: int) -> str | None:
    """The kind of work checked in the whole class at the `ordinal`-th lesson (a work kind's name), or None for an
    ordinary lesson where only a few answer."""
    if ordinal % 8:
        return None
    if subject in _PRACTICE:
        return "Практическая работа"
    if subject in _DICTATION and ordinal % 16 == 0:
        return "Диктант"
    if subject in _TESTS and ordinal % 16 == 0:
        return "Контрольная работа"
    return "Самостоятельная работа"
