"""The term of the 14-dagenbrief (BW 6:96 lid 6): when the letter is presumed delivered and the last day
the consumer may pay without collection costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dunning.law.holidays import is_atw_holiday, is_atw_rest_day

TERM_DAYS = 14  # BW 6:96 lid 6
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Term:
    posted: date
    presumed_delivery: date
    deadline: date  # the last day to pay; costs are due from the next day


def presumed_delivery(posted: date, *, email: bool = False, directory: Path | str | None = None) -> date:
    """Project rule (legal-nl.md, after HR 25-11-2016, ECLI:NL:HR:2016:2704, and practice guides): a posted
    letter arrives on the second day after posting, where Sundays, Mondays and Atw holidays (Good Friday
    included, Atw art. 3 lid 2) never count (no mail delivery). An e-mail arrives the day it is sent, if the
    consumer agreed to e-mail."""
    if email:
        return posted
    day, counted = posted, 0
    while counted < 2:
        day += _DAY
        if day.weekday() not in (0, 6) and not is_atw_holiday(day, directory):
            counted += 1
    return day


def next_term_day(day: date, directory: Path | str | None = None) -> date:
    """Atw art. 1 lid 1: a term ending on a Saturday, Sunday or Atw holiday (art. 3: lid 1, Good Friday by
    lid 2, declared days by lid 3) runs on to the next day that is none of these."""
    while is_atw_rest_day(day, directory):
        day += _DAY
    return day


def fourteen_day_term(posted: date, *, email: bool = False, directory: Path | str | None = None) -> Term:
    """The term of a 14-dagenbrief posted (or e-mailed) on `posted`."""
    delivered = presumed_delivery(posted, email=email, directory=directory)
    # BW 6:96 lid 6 (HR 25-11-2016): the fourteen days start the day after receipt, so the last one is
    # delivery + 14.
    return Term(posted, delivered, next_term_day(delivered + timedelta(days=TERM_DAYS), directory))


def term_expired(term: Term, today: date) -> bool:
    """True from the day after the deadline: only then may a consumer be charged collection costs."""
    return today > term.deadline
