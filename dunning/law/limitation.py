"""Limitation of a claim (verjaring) and its renewal by a written demand (stuiting)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

FIVE_YEARS = 5  # BW 3:307 lid 1: claims from a contract to give or do
CONSUMER_GOODS_YEARS = 2  # BW 7:28: the price in a consumer's purchase of goods (consumentenkoop)
MAX_RENEWED_YEARS = 5  # BW 3:319 lid 1: a new period equals the old one, at most five years


def add_years(d: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 1 March (the year runs out on the 28th)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


def limitation_date(due: date, *, consumer_goods: bool = False, letters_received: Iterable[date] = ()) -> date:
    """The first day on which the claim is time-barred; a letter must reach the debtor before it.

    `due` is the day the claim fell due (opeisbaar). BW 3:307: the period starts at the beginning of the
    next day. A written demand or acknowledgment that reached the debtor (`letters_received`, BW 3:317,
    3:37 lid 3) while the claim was alive starts a new period at the beginning of the day after receipt
    (BW 3:319 lid 1), as long as the old one but at most five years. A letter that arrives once the claim
    is barred renews nothing."""
    years = CONSUMER_GOODS_YEARS if consumer_goods else FIVE_YEARS
    barred_from = add_years(due + timedelta(days=1), years)
    for received in sorted(letters_received):
        if received >= barred_from:
            break
        renewed = add_years(received + timedelta(days=1), min(years, MAX_RENEWED_YEARS))
        barred_from = max(barred_from, renewed)
    return barred_from
