"""When things go out, in the school's time zone: quiet hours and digest moments. Pure functions of `now`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DIGEST_AT = time(18, 0)
"""Daily digests go at 18:00 school time, weekly ones on Sunday at 18:00."""
SUNDAY = 6


def in_quiet_hours(moment: time, quiet_from: time | None, quiet_to: time | None) -> bool:
    """Whether a local wall time is inside [from, to); the span may cross midnight (22:00–07:00)."""
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return False
    if quiet_from < quiet_to:
        return quiet_from <= moment < quiet_to
    return moment >= quiet_from or moment < quiet_to


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone).astimezone(UTC)


def mail_due_at(now: datetime, time_zone: str, quiet_from: time | None, quiet_to: time | None) -> datetime:
    """`now`, or the end of the quiet hours `now` falls in (UTC)."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), quiet_from, quiet_to):
        return now.astimezone(UTC)
    assert quiet_to is not None
    end = _local(local.date(), quiet_to, zone)
    return end if end > now else _local(local.date() + timedelta(days=1), quiet_to, zone)


def digest_moment(created: datetime, time_zone: str, mode: str) -> datetime:
    """The first digest time after `created`: that day's 18:00 (daily) or that week's Sunday 18:00 (weekly)."""
    zone = ZoneInfo(time_zone)
    local = created.astimezone(zone)
    day = local.date()
    if mode == "weekly":
        day += timedelta(days=(SUNDAY - day.weekday()) % 7)
        moment = _local(day, DIGEST_AT, zone)
        return moment if moment > created else _local(day + timedelta(days=7), DIGEST_AT, zone)
    moment = _local(day, DIGEST_AT, zone)
    return moment if moment > created else _local(day + timedelta(days=1), DIGEST_AT, zone)
