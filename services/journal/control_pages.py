"""The deputy head's pages: period marks sheet, a cell's history, timeliness control, substitution grants and
correction permits (R-JRN-4…6, R-REP-2)."""

from __future__ import annotations

from litestar import Controller


class JournalControlPages(Controller):
    path = "/s/{school_slug:str}/journal-control"
