"""`tenants audit-verify`: recompute the hash chain of a school's audit log (R-SEC-2).

Wired into `tenants` by `add_commands` and `run_audit_command`; also runnable on its own:
`python -m tenants.audit_cli audit-verify <slug>` or `… audit-verify --all`.
Exit codes as for `tenants`: 0 intact; 1 some school's log was tampered with (or could not be read);
2 the request was refused (unknown school, bad configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from services.audit import verify_chain
from services.db import Database
from services.region.models import School
from tenants.names import InvalidName, check_slug
from tenants.provisioning import ProvisioningError

COMMANDS = frozenset({"audit-verify"})
_PARALLEL = 4  # schools verified at once, each on its own connection
_SHOWN_IDS = 50
_UNDEFINED_TABLE = "42P01"


def add_commands(subparsers: Any) -> None:
    """Add the audit commands to the `tenants` parser's subcommands."""
    p = subparsers.add_parser("audit-verify", help="check that a school's audit log was not tampered with")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("slug", nargs="?", help="the school to check")
    which.add_argument("--all", action="store_true", help="every active school")


async def run_audit_command(db: Database, args: argparse.Namespace) -> int:
    """Run an audit command parsed by `add_commands`; the exit code."""
    if args.command != "audit-verify":
        raise ValueError(f"not an audit command: {args.command}")
    schools = await _schools(db, None if args.all else args.slug)
    semaphore = asyncio.Semaphore(_PARALLEL)

    async def one(slug: str, schema: str) -> bool:
        async with semaphore:
            return await _verify_school(db, slug, schema)

    results = await asyncio.gather(*(one(slug, schema) for slug, schema in schools))
    tampered = results.count(False)
    print(f"{len(schools)} schools checked, {tampered} with a broken audit log")
    return 1 if tampered else 0


async def _schools(db: Database, slug: str | None) -> list[tuple[str, str]]:
    which = School.status == "active" if slug is None else School.slug == check_slug(slug)
    query = select(School.slug, School.schema_name).where(which, School.schema_name.is_not(None)).order_by(School.id)
    async with db.platform_session() as session:
        rows = [(s, schema) for s, schema in (await session.execute(query)).tuples() if schema is not None]
    if slug is not None and not rows:
        raise ProvisioningError(f"no school with slug {slug!r}")
    return rows


async def _verify_school(db: Database, slug: str, schema: str) -> bool:
    started = time.perf_counter()
    try:
        async with db.school_session(schema) as session, session.begin():
            report = await verify_chain(session)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _UNDEFINED_TABLE:
            print(f"FAILED {slug} ({schema}): could not read the audit log ({type(exc).__name__})", file=sys.stderr)
            return False
        print(f"skipped {slug} ({schema}): no audit log yet, run `tenants migrate`")
        return True
    except Exception as exc:  # one unreadable school must not hide the others' results
        print(f"FAILED {slug} ({schema}): could not read the audit log ({type(exc).__name__})", file=sys.stderr)
        return False
    seconds = time.perf_counter() - started
    if report.broken:
        shown = ", ".join(map(str, report.broken[:_SHOWN_IDS]))
        more = f" and {len(report.broken) - _SHOWN_IDS} more" if len(report.broken) > _SHOWN_IDS else ""
        print(f"TAMPERED {slug} ({schema}): {len(report.broken)} of {report.checked} entries fail: {shown}{more}")
        return False
    print(f"intact {slug} ({schema}): {report.checked} entries, head {report.head_id} {report.head_hash} "
          f"({seconds:.2f} s)")
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenants", description="Audit log checks of the journal's schools.")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    from services.config import ConfigError, load_settings
    from tenants.cli import _db, _with_embedded_database

    args = build_parser().parse_args(argv)
    try:
        settings = _with_embedded_database(load_settings())

        async def run() -> int:
            db = _db(settings)
            try:
                return await run_audit_command(db, args)
            finally:
                await db.dispose()

        return asyncio.run(run())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (ProvisioningError, InvalidName) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
