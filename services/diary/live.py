"""At once (R-DRY-2): an open diary page polls `…/diary/students/{id}/version?week=` every second — one
statement over the week's entries (`service.week_version`), answered with `Cache-Control: no-store` — and when the
fingerprint changes fetches the week fragment and swaps it in. Polling keeps no state on the server and survives
restarts and load balancers; the page stops polling while hidden and after a long time without the person's
activity, so an abandoned tab neither loads the server nor keeps the session alive for ever."""

from __future__ import annotations

from datetime import date

POLL_MS = 1000
IDLE_STOP_MS = 20 * 60 * 1000


def version_url(slug: str, student_id: int, monday: date) -> str:
    return f"/api/v1/schools/{slug}/diary/students/{student_id}/version?week={monday.isoformat()}"
