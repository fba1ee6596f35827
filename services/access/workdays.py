"""Ages for the access service's rule about adult students (R-DRY-4)."""

from __future__ import annotations

from datetime import date


def age_on(birth: date, on: date) -> int:
    """Full years of a person born on `birth` on the date `on`."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
