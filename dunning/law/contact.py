"""When a debtor may be called, messaged or visited. Wet kwaliteit incassodienstverlening (Wki, since
2024-04-01; binding on collection agencies dealing with consumers, good practice for everyone): not between
20:00 and 07:00, not on Sundays, not on the Atw holidays (Good Friday included, Atw art. 3 lid 2)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dunning.law.holidays import is_atw_holiday

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WINDOW_OPENS = time(7, 0)  # inclusive
WINDOW_CLOSES = time(20, 0)  # exclusive: 20:00 itself is outside


def _local(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a contact moment must be timezone-aware")
    return at.astimezone(AMSTERDAM)


def _open_day(local: datetime, directory: Path | str | None) -> bool:
    return local.weekday() != 6 and not is_atw_holiday(local.date(), directory)


def may_contact(at: datetime, directory: Path | str | None = None) -> bool:
    """Whether a call, message or visit may go out at `at` (local time in Amsterdam decides)."""
    local = _local(at)
    return _open_day(local, directory) and WINDOW_OPENS <= local.time() < WINDOW_CLOSES


def next_contact_moment(at: datetime, directory: Path | str | None = None) -> datetime:
    """`at` itself if contact is allowed then, else the next window's opening (07:00 Amsterdam time on the
    next day that is no Sunday or Atw holiday). Returned in the time zone of `at`."""
    if may_contact(at, directory):
        return at
    local = _local(at)
    day = local.date() if local.time() < WINDOW_OPENS else local.date() + timedelta(days=1)
    while True:
        # Built from the wall clock, so 07:00 stays 07:00 across DST changes.
        opening = datetime.combine(day, WINDOW_OPENS, tzinfo=AMSTERDAM)
        if _open_day(opening, directory):
            return opening.astimezone(at.tzinfo)
        day += timedelta(days=1)
