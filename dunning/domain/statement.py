"""What the ingebrekestelling claims: principal, statutory interest to date and collection costs, computed by
the law module from the invoice, its payments and the ladder's own dates. Pure: the caller passes the facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from dunning.domain.policy import BUSINESS_COSTS
from dunning.law import CostShare, compute_claim, costs_over, missing_rate_warning

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Applied:
    """One payment as BW 6:44 applies it: first to the costs, then to the interest, then to the invoice."""

    on: date
    amount: Decimal
    to_costs: Decimal
    to_interest: Decimal
    to_principal: Decimal


@dataclass(frozen=True)
class Statement:
    consumer: bool
    principal: Decimal  # the part of the invoice still open after BW 6:44
    interest: Decimal  # statutory interest owed today
    interest_from: date | None  # first day of interest; None while none runs yet
    costs: Decimal  # owed now when due_now == due_after_term; else charged only if the term passes unpaid
    costs_vat: bool
    due_now: Decimal  # what settles the claim today
    due_after_term: Decimal  # due_now plus the costs announced (consumer; business_costs = "announce"), else due_now
    warnings: tuple[str, ...] = ()
    payments: tuple[Applied, ...] = ()  # what was paid, and how the law applied it (BW 6:44)

    def as_data(self) -> dict[str, object]:
        """The figures as they were stated, kept with the message as evidence."""
        return {
            "principal": str(self.principal),
            "interest": str(self.interest),
            "interest_from": self.interest_from.isoformat() if self.interest_from else None,
            "collection_costs": str(self.costs),
            "collection_costs_vat": self.costs_vat,
            "due_now": str(self.due_now),
            "due_after_term": str(self.due_after_term),
            "payments": [
                {"on": a.on.isoformat(), "amount": str(a.amount), "to_costs": str(a.to_costs),
                 "to_interest": str(a.to_interest), "to_principal": str(a.to_principal)}
                for a in self.payments
            ],
        }


def _business_costs_from(business_costs: str, term_deadline: date | None, today: date) -> date:
    """The day a business's costs fall due under a deferring setting: the day after the term of the letter that
    announced them (not before tomorrow while none was given), or never."""
    if business_costs == "never":
        return date.max
    return (term_deadline or today) + timedelta(days=1)


def interest_start(*, consumer: bool, due_date: date, default_notice_deadline: date | None) -> date | None:
    """First day of statutory interest.

    Business: the day after the agreed payment date (BW 6:119a lid 1). Consumer: interest runs only while the
    debtor is in default (6:119), which the engine counts from the day after the term of its aanmaning, the
    notice of default under 6:82; an invoice's due date alone is not treated as a strict deadline (6:83 a)."""
    if not consumer:
        return due_date + timedelta(days=1)
    return default_notice_deadline + timedelta(days=1) if default_notice_deadline else None


def state_claim(
    *,
    consumer: bool,
    amount: Decimal,
    due_date: date,
    payments: Iterable[tuple[date, Decimal]],
    today: date,
    default_notice_deadline: date | None,
    term_deadline: date | None = None,
    vat_on_costs: bool = False,
    law_dir: Path | None = None,
    business_costs: str = "charge",
    cost_share: CostShare | None = None,
) -> Statement:
    """The claim as of `today`. `business_costs` (the policy's setting; consumers are unaffected): "charge" claims
    a business's costs at once (BW 6:96 lid 4); "announce" states them as what follows if `term_deadline` passes
    unpaid, and claims them from the day after it; "never" claims none. `cost_share`: this invoice was one of
    several one demand covered; its costs are its share of the costs over their total."""
    if business_costs not in BUSINESS_COSTS:
        raise ValueError(f"business_costs must be one of {', '.join(BUSINESS_COSTS)}, not {business_costs!r}")
    deferred = not consumer and business_costs != "charge"
    paid = [(on, value) for on, value in payments if on <= today]
    start = interest_start(consumer=consumer, due_date=due_date, default_notice_deadline=default_notice_deadline)
    interest_from = start if start is not None and start <= today else None
    claim = compute_claim(
        amount,
        consumer=consumer,
        interest_from=interest_from or today,
        as_of=today,
        payments=paid,
        vat=vat_on_costs,
        rates_dir=law_dir,
        # A consumer owes costs only after the 14-dagenbrief's term (6:96 lid 6): never on the letter's own day.
        term_deadline=(term_deadline or today) if consumer else None,
        costs_from=_business_costs_from(business_costs, term_deadline, today) if deferred else None,
        cost_share=cost_share,
    )
    if (consumer or business_costs == "announce") and claim.collection_costs == 0:
        # Before the term has run: the 14-dagenbrief (6:96 lid 6), or a business letter under "announce", states
        # the exact costs that will be charged, over the principal left.
        costs = costs_over(claim.outstanding_principal, consumer=consumer, vat=vat_on_costs, share=cost_share)
        due_now = claim.outstanding
        due_after = due_now + costs
    else:
        costs = claim.outstanding_costs
        due_now = due_after = claim.outstanding
    warnings = [
        w
        for w in (missing_rate_warning("non-commercial" if consumer else "commercial", today, law_dir),)
        if w is not None
    ]
    if claim.unverified_rates:
        dates = ", ".join(d.isoformat() for d in claim.unverified_rates)
        warnings.append(f"warning: interest uses rate rows marked unverified (from {dates})")
    return Statement(
        consumer=consumer,
        principal=claim.outstanding_principal,
        interest=claim.outstanding_interest if interest_from else _ZERO,
        interest_from=interest_from,
        costs=costs,
        costs_vat=vat_on_costs,
        due_now=due_now,
        due_after_term=due_after,
        warnings=tuple(warnings),
        payments=tuple(Applied(a.on, a.amount, a.to_costs, a.to_interest, a.to_principal) for a in claim.payments),
    )


def together(statements: list[Statement]) -> Statement:
    """The claims one demand covers, stated as one: every figure added up (each claim's costs are its share of
    the costs over the total principal), interest from the earliest day any of it runs."""
    first = statements[0]
    starts = [s.interest_from for s in statements if s.interest_from is not None]
    warnings = dict.fromkeys(w for s in statements for w in s.warnings)
    return Statement(
        consumer=first.consumer,
        principal=sum((s.principal for s in statements), _ZERO),
        interest=sum((s.interest for s in statements), _ZERO),
        interest_from=min(starts) if starts else None,
        costs=sum((s.costs for s in statements), _ZERO),
        costs_vat=first.costs_vat,
        due_now=sum((s.due_now for s in statements), _ZERO),
        due_after_term=sum((s.due_after_term for s in statements), _ZERO),
        warnings=tuple(warnings),
        payments=tuple(a for s in statements for a in s.payments),
    )
