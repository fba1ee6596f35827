"""The catalogue of roles and permissions, and the defaults a new school starts with (R-ROLE-1…3).

Which role holds which permission is school data (`role_permission` in the school's schema), edited by the
school's administrator; this module only names what exists and what a school starts with.
"""

from __future__ import annotations

# School roles (R-ROLE-1), with the Russian names people see.
SCHOOL_ROLES: dict[str, str] = {
    "administrator": "Администратор журнала",
    "director": "Директор",
    "deputy_head": "Заместитель директора (завуч)",
    "teacher": "Учитель",
    "class_teacher": "Классный руководитель",
    "student": "Ученик",
    "parent": "Родитель (законный представитель)",
    "secretary": "Секретарь",
    "social_pedagogue": "Социальный педагог",
    "psychologist": "Педагог-психолог",
    "nurse": "Медицинский работник",
    "librarian": "Библиотекарь",
    "parent_committee": "Член родительского комитета",
}

# Platform roles (R-ROLE-2), held on the account rather than in a school.
PLATFORM_ROLES: dict[str, str] = {
    "platform_operator": "Оператор платформы",
    "municipal_operator": "Оператор муниципалитета",
    "regional_monitor": "Региональный наблюдатель",
}

# Roles that are never staff: nothing they hold may ever write to the journal (R-ROLE-4).
FAMILY_ROLES = frozenset({"student", "parent", "parent_committee"})

PERMISSIONS: dict[str, str] = {
    "school.view": "Вход в электронный журнал школы",
    "structure.read": "Просмотр классов, групп и сотрудников",
    "people.read": "Просмотр персональных данных учеников и родителей",
    "journal.read_own": "Просмотр журналов своей нагрузки",
    "journal.read_class": "Просмотр всего журнала своего класса",
    "journal.read_all": "Просмотр всех журналов школы",
    "journal.write": "Ведение журнала (в пределах нагрузки и замен)",
    "journal.correct_closed": "Исправления в закрытом периоде",
    "diary.read_own": "Просмотр своего дневника или дневника своих детей",
    "structure.manage": "Настройка учебного года, оценивания, классов, групп, нагрузки и расписания",
    "users.manage": "Управление пользователями",
    "roles.manage": "Настройка ролей и прав",
    "invites.manage": "Выдача пригласительных кодов",
    "audit.read": "Просмотр журнала изменений",
    "compromise.manage": "Обработка компрометации учётных данных",
    "messages.read": "Школьная почта: чтение своих сообщений",
    "messages.to_staff": "Школьная почта: писать сотрудникам школы",
    "messages.to_families": "Школьная почта: писать ученикам и родителям",
    "messages.announce": "Объявления родителям своего класса (классный руководитель)",
    "messages.announce_all": "Объявления родителям любого класса",
    "surveys.answer": "Участие в опросах",
    "surveys.manage": "Создание опросов и просмотр результатов",
    "access.manage": "Заявления родителей на доступ, согласия на обработку персональных данных",
    "support.manage": "Обращения в поддержку и запросы на восстановление пароля",
}

# Permissions a family role may never be given, whatever the school's administrator edits (R-ROLE-4).
STAFF_ONLY = frozenset({
    "people.read", "structure.manage", "journal.read_own", "journal.read_class", "journal.read_all", "journal.write",
    "journal.correct_closed", "users.manage", "roles.manage", "invites.manage", "audit.read", "compromise.manage",
    "messages.to_families", "messages.announce", "messages.announce_all", "surveys.manage", "access.manage",
    "support.manage",
})

_STAFF_BASE = ("school.view", "structure.read", "messages.read", "messages.to_staff", "messages.to_families",
               "surveys.answer")
_FAMILY_BASE = ("school.view", "messages.read", "messages.to_staff", "surveys.answer")

DEFAULT_ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "administrator": (*_STAFF_BASE, "people.read", "journal.read_all", "users.manage", "roles.manage",
                      "invites.manage", "audit.read", "compromise.manage", "structure.manage", "messages.announce",
                      "messages.announce_all", "surveys.manage", "access.manage", "support.manage"),
    "director": (*_STAFF_BASE, "people.read", "journal.read_all", "audit.read", "messages.announce",
                 "messages.announce_all", "surveys.manage"),
    "deputy_head": (*_STAFF_BASE, "people.read", "journal.read_all", "journal.correct_closed", "audit.read",
                    "structure.manage", "messages.announce", "messages.announce_all", "surveys.manage"),
    "teacher": (*_STAFF_BASE, "journal.read_own", "journal.write", "surveys.manage"),
    "class_teacher": (*_STAFF_BASE, "people.read", "journal.read_class", "messages.announce"),
    "secretary": (*_STAFF_BASE, "people.read", "invites.manage", "access.manage"),
    "social_pedagogue": (*_STAFF_BASE, "people.read"),
    "psychologist": (*_STAFF_BASE, "people.read"),
    "nurse": (*_STAFF_BASE,),
    "librarian": (*_STAFF_BASE,),
    "student": (*_FAMILY_BASE, "diary.read_own"),
    "parent": (*_FAMILY_BASE, "diary.read_own"),
    "parent_committee": _FAMILY_BASE,
}


def default_rows() -> list[dict[str, str]]:
    """The `role_permission` rows a new school starts with."""
    return [{"role": role, "permission": p} for role, perms in DEFAULT_ROLE_PERMISSIONS.items() for p in perms]
