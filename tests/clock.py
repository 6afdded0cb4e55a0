"""Scenario dates for tests that run `recon run`, relative to today.

`recon run` refuses cycles in the future (``check_buildable``) and the input checks flag events
dated after their delivery, so a scenario pinned to a calendar date passes or fails depending on
the machine's clock. Tests date their scenarios from here instead: the Monday four weeks back,
so every cycle is in the past on any machine, on any day.
"""
from __future__ import annotations

import datetime as dt


def past_monday(weeks_back: int = 4, today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday(), weeks=weeks_back)


def cycle(start: dt.date, index: int) -> str:
    """The ISO date of the ``index``-th cycle of a scenario starting on ``start``."""
    return (start + dt.timedelta(days=index)).isoformat()
