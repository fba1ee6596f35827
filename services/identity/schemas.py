"""What the identity API sends and receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class LoginIn(msgspec.Struct, frozen=True):
    login: str
    password: str


class MembershipOut(msgspec.Struct, frozen=True):
    school: str
    name: str
    roles: list[str]


class MeOut(msgspec.Struct, frozen=True):
    account_id: int
    login: str
    must_change_password: bool
    platform_roles: list[str]
    schools: list[MembershipOut]


class RolePermissionsIn(msgspec.Struct, frozen=True):
    permissions: list[str]


class SessionSettings(msgspec.Struct, frozen=True):
    idle_minutes: int | None
    """Minutes of inactivity after which a session ends in this school; null: the deployment default."""


class TemporaryPasswordOut(msgspec.Struct, frozen=True):
    temporary_password: str
    must_change_password: bool = True


class StudentOut(msgspec.Struct, frozen=True):
    id: int
    last_name: str
    first_name: str
    middle_name: str | None


class CompromisedIn(msgspec.Struct, frozen=True):
    since: datetime
    """From this moment on, what the account did is suspect (ISO 8601 with a time zone)."""


class ChangeOut(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    action: str
    entity: str
    entity_key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reverted_by: int | None


class RevertOut(msgspec.Struct, frozen=True):
    revert_id: int


class RevertConflictOut(msgspec.Struct, frozen=True):
    id: int
    message: str


class RevertAllOut(msgspec.Struct, frozen=True):
    reverted: list[int]
    conflicts: list[RevertConflictOut]
    skipped: list[int]
