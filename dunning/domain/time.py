"""Time for people: moments are stored in UTC and shown, and decided on, in Europe/Amsterdam."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(at: datetime) -> datetime:
    """For people: Europe/Amsterdam."""
    return at.astimezone(AMSTERDAM)
