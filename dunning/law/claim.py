"""A whole claim as of a day: principal, statutory interest per period, collection costs, payments applied
per BW 6:44 and what is still outstanding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from dunning.law.costs import collection_costs
from dunning.law.interest import Period, anniversaries, period_interest
from dunning.law.money import as_money, cents
from dunning.law.rates import Rate, load_rates, rate_on

_ZERO = Decimal("0.00")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Payment:
    on: date
    amount: Decimal


@dataclass(frozen=True)
class AppliedPayment:
    """How one payment was applied (BW 6:44: costs, then interest, then principal)."""

    on: date
    amount: Decimal
    to_costs: Decimal
    to_interest: Decimal
    to_principal: Decimal
    unapplied: Decimal  # paid more than was owed


@dataclass(frozen=True)
class Claim:
    principal: Decimal
    interest: Decimal  # all statutory interest for the days interest_from <= d < as_of
    collection_costs: Decimal  # owed as of as_of (incl. VAT when claimed); 0 while not yet due
    paid: Decimal
    outstanding: Decimal  # costs + interest + principal still owed
    periods: tuple[Period, ...]
    payments: tuple[AppliedPayment, ...] = ()
    outstanding_costs: Decimal = _ZERO
    outstanding_interest: Decimal = _ZERO
    outstanding_principal: Decimal = _ZERO
    unverified_rates: tuple[date, ...] = ()  # effective dates of rate rows used but marked unverified
    unverified_periods: tuple[Period, ...] = ()  # periods whose rate comes from such a row


@dataclass(frozen=True)
class CostShare:
    """This claim's part of the costs of a demand that covered several claims (computed over their principal sums
    added together, `combined_collection_costs`): `amount` for a principal of `principal`."""

    amount: Decimal
    principal: Decimal


def costs_over(principal: Decimal, *, consumer: bool, vat: bool, share: CostShare | None = None) -> Decimal:
    """The costs on `principal`: the scale's, or this claim's share of a combined demand's costs, lowered in
    proportion when less principal is left than the demand stated (a part paid within its term, HR 25-11-2016)."""
    if share is None:
        return collection_costs(principal, consumer=consumer, vat=vat)
    if principal <= 0 or share.principal <= 0:
        return _ZERO
    return cents(share.amount * min(principal, share.principal) / share.principal)


class _Ledger:
    """What is owed while walking through time. All amounts in cents."""

    def __init__(
        self, principal: Decimal, costs_from: date, cost_rule: tuple[bool, bool], share: CostShare | None = None
    ) -> None:
        self.principal = principal
        self.capitalised = _ZERO  # earlier years' interest, now bearing interest (6:119 lid 2, 6:119a lid 3)
        self.accrued = _ZERO  # this interest year's interest
        self.costs: Decimal | None = None  # fixed when they fall due
        self.costs_left = _ZERO
        self.costs_from = costs_from
        self.cost_rule = cost_rule  # (consumer, vat)
        self.share = share
        self.applied: list[AppliedPayment] = []

    @property
    def base(self) -> Decimal:
        return self.principal + self.capitalised

    def costs_due_on(self, day: date) -> None:
        # The costs are computed over the principal left when they fall due: a partial payment within the
        # 14-day term lowers them (HR 25-11-2016, ECLI:NL:HR:2016:2704).
        if self.costs is None and day >= self.costs_from:
            consumer, vat = self.cost_rule
            self.costs = self.costs_left = costs_over(self.principal, consumer=consumer, vat=vat, share=self.share)

    def capitalise(self) -> None:
        self.capitalised += self.accrued
        self.accrued = _ZERO

    def pay(self, p: Payment) -> None:
        self.costs_due_on(p.on)
        rest = p.amount
        # BW 6:44 lid 1: first the costs, then the interest, then the principal. Among the interest, the
        # oldest (capitalised) first, as BW 6:43 lid 2 does between debts.
        to_costs = min(rest, self.costs_left)
        self.costs_left -= to_costs
        rest -= to_costs
        from_capitalised = min(rest, self.capitalised)
        self.capitalised -= from_capitalised
        rest -= from_capitalised
        from_accrued = min(rest, self.accrued)
        self.accrued -= from_accrued
        rest -= from_accrued
        to_principal = min(rest, self.principal)
        self.principal -= to_principal
        rest -= to_principal
        self.applied.append(
            AppliedPayment(p.on, p.amount, to_costs, from_capitalised + from_accrued, to_principal, rest)
        )


def _payments(payments: Iterable[Payment | tuple[date, Decimal]], as_of: date) -> list[Payment]:
    found = []
    for p in payments:
        on, amount = (p.on, p.amount) if isinstance(p, Payment) else p
        amount = as_money(amount, "payment")
        if amount <= 0:
            raise ValueError(f"payment on {on.isoformat()} must be more than zero")
        if on > as_of:
            raise ValueError(f"payment on {on.isoformat()} is after the as-of date {as_of.isoformat()}")
        found.append(Payment(on, cents(amount)))
    return sorted(found, key=lambda p: p.on)


def _unverified(rates: tuple[Rate, ...], periods: list[Period]) -> tuple[tuple[date, ...], tuple[Period, ...]]:
    """(dates of unverified rate rows in force during some period, the periods they touch)."""
    ends = [r.effective_from for r in rates[1:]] + [date.max]
    spans = [(r.effective_from, until) for r, until in zip(rates, ends, strict=True) if not r.verified]
    touched = [p for p in periods if any(start < p.end and until > p.start for start, until in spans)]
    used = [start for start, until in spans if any(start < p.end and until > p.start for p in touched)]
    return tuple(used), tuple(touched)


def compute_claim(
    principal: Decimal,
    *,
    consumer: bool,
    interest_from: date,
    as_of: date,
    payments: Iterable[Payment | tuple[date, Decimal]] = (),
    vat: bool = False,
    rates_dir: Path | str | None = None,
    term_deadline: date | None = None,
    costs_from: date | None = None,
    cost_share: CostShare | None = None,
) -> Claim:
    """The claim as of the start of `as_of`: interest for each day interest_from <= d < as_of, payments made
    on or before `as_of`.

    Consumers get the non-commercial rate (BW 6:119), businesses the commercial one (6:119a). Collection
    costs fall due at `interest_from` (businesses: 6:96 lid 4, the day after the payment deadline) or, for a
    consumer whose 14-dagenbrief term is given as `term_deadline`, the day after that deadline (6:96 lid 6);
    before that they are 0 and payments go to interest and principal only. `costs_from` sets that day for a
    business whose creditor claims them later than the law allows (or never: `date.max`); the law sets a
    minimum claim, not a duty to claim (6:96 lid 4). `cost_share`: the claim was one of several one demand
    covered, whose costs were computed over their total; this claim bears its share."""
    amount = as_money(principal, "principal")
    if amount < 0:
        raise ValueError("principal must not be negative")
    if as_of < interest_from:
        raise ValueError(f"as-of date {as_of.isoformat()} is before interest-from {interest_from.isoformat()}")
    pays = _payments(payments, as_of)
    if consumer and term_deadline is not None:
        costs_from = term_deadline + _DAY
    elif not consumer and costs_from is not None:
        costs_from = max(costs_from, interest_from)
    else:
        costs_from = interest_from
    ledger = _Ledger(cents(amount), costs_from, (consumer, vat), cost_share)
    rates = load_rates("non-commercial" if consumer else "commercial", rates_dir)

    years = set(anniversaries(interest_from, as_of))
    # A period ends where the rate or the base changes: a rate change (6:120), an interest year (6:119
    # lid 2), a payment. Interest runs up to and including the day of payment (6:119a lid 1), so a payment
    # changes the base from the next day.
    changes = {r.effective_from for prev, r in zip(rates, rates[1:], strict=False) if r.percent != prev.percent}
    edges = {interest_from, as_of} | years | changes | {p.on + _DAY for p in pays}
    cuts = sorted(d for d in edges if interest_from <= d <= as_of)
    periods: list[Period] = []
    waiting = list(pays)
    for start, end in zip(cuts, cuts[1:], strict=False):
        while waiting and waiting[0].on < start:
            ledger.pay(waiting.pop(0))
        if start in years:
            ledger.capitalise()
        if ledger.base <= 0:
            continue
        rate = rate_on(rates, start).percent
        interest = period_interest(ledger.base, rate, (end - start).days)
        ledger.accrued += interest
        periods.append(Period(start, end, rate, ledger.base, interest))
    for p in waiting:
        ledger.pay(p)
    ledger.costs_due_on(as_of)

    unverified_rates, unverified_periods = _unverified(rates, periods)
    costs = ledger.costs if ledger.costs is not None else _ZERO
    interest_left = ledger.capitalised + ledger.accrued
    return Claim(
        principal=cents(amount),
        interest=sum((p.interest for p in periods), _ZERO),
        collection_costs=costs,
        paid=sum((p.amount for p in pays), _ZERO),
        outstanding=ledger.costs_left + interest_left + ledger.principal,
        periods=tuple(periods),
        payments=tuple(ledger.applied),
        outstanding_costs=ledger.costs_left,
        outstanding_interest=interest_left,
        outstanding_principal=ledger.principal,
        unverified_rates=unverified_rates,
        unverified_periods=unverified_periods,
    )
