"""The teacher's pages: my day, a lesson, the journal grid with keyboard entry (R-JRN-1…3, R-JRN-7)."""

from __future__ import annotations

from litestar import Controller


class JournalPages(Controller):
    path = "/s/{school_slug:str}/journal"
