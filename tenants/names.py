"""Validated names: a school's slug (in URLs) and its schema name (in DDL)."""

from __future__ import annotations

import re

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
SCHEMA_RE = re.compile(r"^school_[1-9][0-9]{0,9}$")


class InvalidName(ValueError):
    pass


def check_slug(slug: str) -> str:
    """A slug is lower-case Latin letters, digits and inner hyphens, at most 63 characters."""
    if not SLUG_RE.fullmatch(slug):
        raise InvalidName(
            f"slug {slug!r} must be 1–63 lower-case Latin letters, digits or inner hyphens (e.g. 'sch-1543')"
        )
    return slug


def schema_for(school_id: int) -> str:
    return check_schema(f"school_{school_id}")


def check_schema(schema: str) -> str:
    """Only names we generate ever reach DDL or a translate map."""
    if not SCHEMA_RE.fullmatch(schema):
        raise InvalidName(f"{schema!r} is not a school schema name")
    return schema


def quoted(schema: str) -> str:
    return '"' + check_schema(schema) + '"' if schema.startswith("school_") else '"platform"'
