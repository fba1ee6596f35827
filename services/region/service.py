"""Onboarding rules for the region's registry: regions and their municipalities."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.region.models import Municipality, Region


async def add_region_with_municipality(
    session: AsyncSession, *, code: str, name: str, municipality: str
) -> tuple[Region, Municipality]:
    """A region with its first municipality, in the caller's transaction."""
    region = Region(code=code, name=name)
    session.add(region)
    await session.flush()
    return region, await add_municipality(session, region_id=region.id, name=municipality)


async def add_municipality(session: AsyncSession, *, region_id: int, name: str) -> Municipality:
    """A municipality (муниципальный орган управления образованием) of a region, in the caller's transaction."""
    found = Municipality(region_id=region_id, name=name)
    session.add(found)
    await session.flush()
    return found
