"""Statutory interest: when it starts, the yearly capitalisation and the interest of one period."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from dunning.law.limitation import add_years
from dunning.law.money import cents

DAYS_PER_YEAR = Decimal(365)  # actual/365: common practice, the law sets no day count
COMMERCIAL_PAYMENT_DAYS = 30  # BW 6:119a lid 2


class Period(NamedTuple):
    """Days start <= d < end at one rate on one base. Amounts in cents, rate in percent per year."""

    start: date
    end: date  # exclusive
    rate: Decimal
    base: Decimal
    interest: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def commercial_interest_start(
    agreed_due: date | None, invoice_received: date | None, *, performance_received: date | None = None
) -> date:
    """First day of statutory commercial interest (BW 6:119a).

    Lid 1: the day after the agreed last day of payment. Lid 2 (no agreed day): 30 days after the start of
    the day following receipt of the invoice, i.e. receipt + 31 days; from the performance instead when the
    invoice's receipt date is unknown or the invoice came before the performance (lid 2 sub b). The
    acceptance term of lid 2 sub c is left to the caller (pass its end as `performance_received`)."""
    if agreed_due is not None:
        return agreed_due + timedelta(days=1)
    received = invoice_received
    if performance_received is not None and (received is None or received < performance_received):
        received = performance_received
    if received is None:
        raise ValueError("need an agreed due date, an invoice receipt date or a performance date")
    return received + timedelta(days=1 + COMMERCIAL_PAYMENT_DAYS)


def anniversaries(start: date, until: date) -> list[date]:
    """The days that start a new interest year after `start`, before `until`: after each full year,
    counted from the start of the interest, the year's interest is added to the base (BW 6:119 lid 2,
    6:119a lid 3)."""
    found, n = [], 1
    while (d := add_years(start, n)) < until:
        found.append(d)
        n += 1
    return found


def period_interest(base: Decimal, rate: Decimal, days: int) -> Decimal:
    """Interest on `base` at `rate` percent per year for `days` days, actual/365, in cents (a reported
    figure). One division at the end keeps the result exact before rounding."""
    return cents(base * rate * days / (DAYS_PER_YEAR * 100))
