"""Statutory interest rate tables (BW 6:119 and 6:119a), read from data files a user can update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from dunning.law.datafiles import DataFileError, rows

RateKind = Literal["commercial", "non-commercial"]

_FILES: dict[str, str] = {
    "commercial": "nl_rates_commercial.csv",  # BW 6:119a
    "non-commercial": "nl_rates_noncommercial.csv",  # BW 6:119
}
# The CLI speaks of the debtor ("consumer"); the law of the claim (6:119 covers every non-commercial claim).
_ALIASES = {"consumer": "non-commercial", "noncommercial": "non-commercial", "business": "commercial"}


class MissingRateError(LookupError):
    """The table has no rate for a day that needs one."""


@dataclass(frozen=True)
class Rate:
    effective_from: date
    percent: Decimal  # per year
    verified: bool
    source: str


def rate_kind(kind: str) -> RateKind:
    """'commercial' (alias 'business'), 'non-commercial' (alias 'consumer'); anything else is a ValueError."""
    k = _ALIASES.get(kind, kind)
    if k not in _FILES:
        raise ValueError(f"unknown kind {kind!r}: use consumer, non-commercial or commercial")
    return k  # type: ignore[return-value]


def load_rates(kind: str, directory: Path | str | None = None) -> tuple[Rate, ...]:
    """The rate table for `kind`, oldest first. Rows in `directory` (an installation's override, e.g.
    DUNNING_HOME/law/) replace packaged rows with the same date and add new ones."""
    by_date: dict[date, Rate] = {}
    for where, row in rows(_FILES[rate_kind(kind)], directory):
        try:
            start = date.fromisoformat(row["effective_from"])
            percent = Decimal(row["rate_percent"])
        except (KeyError, ValueError, InvalidOperation):
            raise DataFileError(f"{where}: need effective_from (YYYY-MM-DD) and rate_percent") from None
        if not percent.is_finite() or percent < 0:
            raise DataFileError(f"{where}: rate_percent must be a number >= 0")
        status = row.get("status", "")
        if status not in ("", "unverified"):
            raise DataFileError(f"{where}: status must be empty or 'unverified', not {status!r}")
        by_date[start] = Rate(start, percent, verified=status == "", source=row.get("source", ""))
    return tuple(by_date[d] for d in sorted(by_date))


def rate_on(rates: tuple[Rate, ...], day: date) -> Rate:
    """The row in force on `day` (BW 6:120: a new rate applies from its effective date)."""
    current = None
    for r in rates:
        if r.effective_from > day:
            break
        current = r
    if current is None:
        first = rates[0].effective_from.isoformat() if rates else "any date"
        raise MissingRateError(f"no statutory interest rate for {day.isoformat()} (table starts {first})")
    return current


def half_year_start(day: date) -> date:
    # Statutory rates change on 1 January and 1 July (6:119 lid 1 via AMvB; 6:120 lid 2).
    return date(day.year, 1 if day.month < 7 else 7, 1)


def missing_rate_warning(kind: str, today: date, directory: Path | str | None = None) -> str | None:
    """A one-line warning when the table has no row for the half-year `today` is in, else None.

    The table is kept with a row for every half-year (also when unchanged), so a missing row means nobody
    has checked the rate that now applies; the engine then carries the last known rate forward."""
    k = rate_kind(kind)
    rates = load_rates(k, directory)
    start = half_year_start(today)
    if rates and rates[-1].effective_from >= start:
        return None
    last = f"{rates[-1].percent}% from {rates[-1].effective_from.isoformat()}" if rates else "none"
    return (
        f"warning: the {k} statutory interest table has no row for the half-year from {start.isoformat()} "
        f"(latest: {last}); add it to {_FILES[k]}"
    )
