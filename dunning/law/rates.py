"""Statutory interest rate tables (BW 6:119 and 6:119a), read from data files a user can update."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from dunning.law.datafiles import DataFileError, file_rows, override_path, rows

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


# -- a person's confirmation of a row marked unverified -----------------------------------------------------

CONFIRMATIONS_FILE = "confirmed_rates.csv"  # in the installation's law directory (DUNNING_HOME/law/)
CONFIRMATIONS_HEADER = "table,effective_from,rate_percent,confirmed_by,confirmed_at"


@dataclass(frozen=True)
class Confirmation:
    """A person checked a rate row marked unverified against the official source: that row, at that percent."""

    kind: RateKind
    effective_from: date
    percent: Decimal
    by: str
    at: str  # when, as written (ISO 8601)


def load_confirmations(directory: Path | str | None) -> tuple[Confirmation, ...]:
    """The confirmations in the installation's `confirmed_rates.csv` (none without one; nothing is packaged:
    a confirmation is a person's, for their installation)."""
    path = override_path(CONFIRMATIONS_FILE, directory)
    if path is None:
        return ()
    found = []
    for where, row in file_rows(path):
        try:
            kind = rate_kind(row["table"])
            start = date.fromisoformat(row["effective_from"])
            percent = Decimal(row["rate_percent"])
        except (KeyError, ValueError, InvalidOperation):
            raise DataFileError(f"{where}: need {CONFIRMATIONS_HEADER}") from None
        if not row.get("confirmed_by"):
            raise DataFileError(f"{where}: confirmed_by must name the person who checked the row")
        found.append(Confirmation(kind, start, percent, row["confirmed_by"], row.get("confirmed_at", "")))
    return tuple(found)


def unconfirmed(kind: str, rates: Iterable[Rate], confirmations: Iterable[Confirmation]) -> tuple[Rate, ...]:
    """The rows among `rates` marked unverified that no person confirmed at their percent (a row changed after
    its confirmation needs a new one)."""
    k = rate_kind(kind)
    ok = {(c.kind, c.effective_from, c.percent) for c in confirmations}
    return tuple(r for r in rates if not r.verified and (k, r.effective_from, r.percent) not in ok)


def rows_in_force(rates: tuple[Rate, ...], start: date, end: date) -> tuple[Rate, ...]:
    """The rows that apply to some day from `start` to `end` inclusive (BW 6:120: each from its own date)."""
    ends = [r.effective_from for r in rates[1:]] + [date.max]
    return tuple(r for r, until in zip(rates, ends, strict=True) if r.effective_from <= end and until > start)


def rates_holding(
    kind: str,
    rates: tuple[Rate, ...],
    confirmations: Iterable[Confirmation],
    interest_from: date | None,
    today: date,
) -> tuple[Rate, ...]:
    """Whether a message may state its interest: the rows marked unverified, not confirmed by a person, that
    interest from `interest_from` up to `today` runs at. Not empty: the message waits until a person confirmed
    them (`dunning law confirm-rate`), it never states such a rate silently. No interest stated: nothing holds."""
    if interest_from is None or interest_from > today:
        return ()
    return unconfirmed(kind, rows_in_force(rates, interest_from, today), confirmations)


def describe_row(kind: str, rate: Rate) -> str:
    """How a message's hold and the warnings name a row: `commercial 2026-07-01 (10.40%)`."""
    return f"{rate_kind(kind)} {rate.effective_from.isoformat()} ({rate.percent}%)"


def rate_table_warnings(kind: str, today: date, directory: Path | str | None = None) -> list[str]:
    """Every problem of one table a person must look at: no row for the current half-year, and each row in
    force up to `today` that is marked unverified and that no person confirmed."""
    k = rate_kind(kind)
    found = [w for w in (missing_rate_warning(k, today, directory),) if w]
    rates = tuple(r for r in load_rates(k, directory) if r.effective_from <= today)
    for rate in unconfirmed(k, rates, load_confirmations(directory)):
        found.append(
            f"warning: the {k} statutory interest rate from {rate.effective_from.isoformat()} ({rate.percent}%) "
            f"is marked unverified and no person confirmed it; messages stating interest at it wait. Check it "
            f"against the official source, then: dunning law confirm-rate {k} {rate.effective_from.isoformat()}"
        )
    return found
