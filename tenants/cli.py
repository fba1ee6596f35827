"""`tenants`: the operator's command line for regions, municipalities and schools, and for migrating them all.

Exit codes: 0 done; 1 some school failed to migrate; 2 the request was refused (bad input, unknown school,
invalid configuration).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from services import (
    all_models,  # noqa: F401 - every table known before the first flush
    audit,
)
from services.config import ConfigError, Settings, host_allowed, load_settings
from services.db import Database, create_engine
from services.identity.models import OidcProvider
from services.region.models import Region, School
from services.region.service import add_municipality
from tenants import audit_cli
from tenants.migrate import migrate_everything
from tenants.names import InvalidName
from tenants.provisioning import ProvisioningError, create_school, set_status

ACTOR = f"cli:{os.environ.get('USER', 'operator')}"


def _with_embedded_database(settings: Settings) -> Settings:
    """Without DATABASE_URL, use (start if needed) the embedded PostgreSQL of the data folder, as `run` does."""
    if settings.database.url:
        return settings
    from infra.local.embedded import quiet_platformdirs, start_postgres

    with quiet_platformdirs():
        url = start_postgres(Path(settings.data_dir).resolve() / "postgres").create_database()
    return dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))


def _db(settings: Settings) -> Database:
    return Database(create_engine(dataclasses.replace(settings, redis=dataclasses.replace(
        settings.redis, url=settings.redis.url or "redis://unused")), application_name="tenants-cli"))


async def _add_region(db: Database, args: argparse.Namespace) -> int:
    async with db.transaction() as session:
        region = Region(code=args.code, name=args.name)
        session.add(region)
        await session.flush()
        print(f"region {region.id} {region.code}")
    return 0


async def _add_municipality(db: Database, args: argparse.Namespace) -> int:
    async with db.transaction() as session:
        region_id = await session.scalar(select(Region.id).where(Region.code == args.region))
        if region_id is None:
            raise ProvisioningError(f"no region with code {args.region!r}")
        municipality = await add_municipality(session, region_id=region_id, name=args.name)
        print(f"municipality {municipality.id}")
    return 0


async def _add_oidc(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    """Register an OpenID Connect provider for a region or one school; refuse one outside residency."""
    host = urlsplit(args.issuer).hostname or ""
    if not host_allowed(host, settings.residency.allowed_hosts):
        raise ProvisioningError(f"issuer host {host!r} is not in RESIDENCY_ALLOWED_HOSTS (R-SEC-6)")
    async with db.transaction() as session:
        region_id = school_id = None
        if args.region:
            region_id = await session.scalar(select(Region.id).where(Region.code == args.region))
            if region_id is None:
                raise ProvisioningError(f"no region with code {args.region!r}")
        else:
            school_id = await session.scalar(select(School.id).where(School.slug == args.school))
            if school_id is None:
                raise ProvisioningError(f"no school with slug {args.school!r}")
        provider = OidcProvider(region_id=region_id, school_id=school_id, name=args.name, issuer=args.issuer,
                                client_id=args.client_id, client_secret=os.environ.get("OIDC_CLIENT_SECRET"))
        session.add(provider)
        await session.flush()
        print(f"oidc provider {provider.id}; redirect URI to register at the provider: "
              f"{settings.public_url.rstrip('/')}/login/oidc/callback")
    return 0


async def _create(db: Database, args: argparse.Namespace) -> int:
    school = await create_school(
        db, municipality_id=args.municipality, slug=args.slug, name=args.name, time_zone=args.tz, actor=ACTOR
    )
    print(f"school {school.id} {school.slug} schema={school.schema}")
    print(f"administrator invite code (single use, 14 days): {school.admin_invite_code}")
    return 0


async def _list(db: Database, args: argparse.Namespace) -> int:
    async with db.platform_session() as session:
        query = select(School).order_by(School.id)
        if args.status:
            query = query.where(School.status == args.status)
        schools = (await session.execute(query)).scalars().all()
    print(f"{'id':>6}  {'slug':<24} {'status':<12} {'revision':<10} {'time zone':<22} name")
    for s in schools:
        print(f"{s.id:>6}  {s.slug:<24} {s.status:<12} {s.schema_revision or '-':<10} {s.time_zone:<22} {s.name}")
    print(f"{len(schools)} schools")
    return 0


def _status_command(status: str) -> Callable[[Database, argparse.Namespace], Awaitable[int]]:
    async def run(db: Database, args: argparse.Namespace) -> int:
        previous = await set_status(db, args.slug, status, actor=ACTOR, reason=getattr(args, "reason", "") or "")
        print(f"{args.slug}: {previous} -> {status} (the API notices within SCHOOL_REGISTRY_TTL_S seconds)")
        return 0

    return run


async def _migrate(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    report = await migrate_everything(db, jobs=args.jobs, progress=not args.no_progress, settings=settings)
    print(
        f"platform at {report.platform_revision}; schools: {report.migrated} migrated to {report.target}, "
        f"{report.up_to_date} already there, {len(report.failed)} failed; {report.seconds:.1f} s"
    )
    for failure in report.failed:
        print(f"  FAILED {failure.slug} ({failure.schema}): {failure.error}", file=sys.stderr)
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenants", description="Regions, municipalities and schools of the journal.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("add-region", help="register a region")
    p.add_argument("--code", required=True)
    p.add_argument("--name", required=True)
    p = sub.add_parser("add-municipality", help="register a municipality of a region")
    p.add_argument("--region", required=True, help="region code")
    p.add_argument("--name", required=True)
    p = sub.add_parser("add-oidc", help="register an OpenID Connect provider (secret from OIDC_CLIENT_SECRET)")
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--region", help="region code: the provider serves all its schools")
    scope.add_argument("--school", help="school slug: the provider serves this school")
    p.add_argument("--name", required=True, help="what the login button says, e.g. «Госуслуги»")
    p.add_argument("--issuer", required=True)
    p.add_argument("--client-id", required=True)
    p = sub.add_parser("create", help="create a school: schema, tables, reference data, administrator invite")
    p.add_argument("--municipality", type=int, required=True, help="municipality id")
    p.add_argument("--slug", required=True, help="address part: /s/<slug>/")
    p.add_argument("--name", required=True)
    p.add_argument("--tz", default=None, help="IANA time zone (default JOURNAL_DEFAULT_TIME_ZONE)")
    p = sub.add_parser("list", help="list schools")
    p.add_argument("--status", choices=["provisioning", "active", "suspended", "archived"])
    for name, help_text in (("suspend", "stop work in a school"), ("archive", "close a school for good")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("slug")
        p.add_argument("--reason", default="")
    p = sub.add_parser("resume", help="resume a suspended school")
    p.add_argument("slug")
    audit_cli.add_commands(sub)
    p = sub.add_parser("migrate", help="upgrade platform, then every school not at head")
    p.add_argument("--jobs", type=int, default=4, help="schools migrated at once (worker processes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> int:
    audit.install()
    db = _db(settings)
    try:
        if args.command in audit_cli.COMMANDS:
            return await audit_cli.run_audit_command(db, args)
        if args.command == "migrate":
            return await _migrate(db, args, settings)
        if args.command == "add-oidc":
            return await _add_oidc(db, args, settings)
        if args.command == "create" and args.tz is None:
            args.tz = settings.default_time_zone
        handlers: dict[str, Callable[[Database, argparse.Namespace], Awaitable[int]]] = {
            "add-region": _add_region,
            "add-municipality": _add_municipality,
            "create": _create,
            "list": _list,
            "suspend": _status_command("suspended"),
            "resume": _status_command("active"),
            "archive": _status_command("archived"),
        }
        return await handlers[args.command](db, args)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _with_embedded_database(load_settings())
        started = time.perf_counter()
        code = asyncio.run(run(args, settings))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (ProvisioningError, InvalidName) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    if args.command in ("create", "migrate"):
        print(f"took {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
