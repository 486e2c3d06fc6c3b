"""Extrajudicial collection costs (buitengerechtelijke incassokosten), BW 6:96 lid 2 sub c and lid 4-6,
with the scale of the Besluit vergoeding voor buitengerechtelijke incassokosten (Stb. 2012, 141)."""

from __future__ import annotations

from decimal import Decimal

from dunning.law.money import as_money, cents

# Besluit BIK art. 2 lid 1: the scale, over the principal (hoofdsom), never over interest.
# (size of the band or None for "the rest", rate)
SCALE: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)
MINIMUM = Decimal("40")  # Besluit BIK art. 2 lid 2; for businesses also BW 6:96 lid 4
MAXIMUM = Decimal("6775")  # Besluit BIK art. 2 lid 1
VAT_RATE = Decimal("0.21")  # Besluit BIK art. 2 lid 3: raised by the VAT the creditor cannot deduct


def _scale(principal: Decimal) -> Decimal:
    total, rest = Decimal(0), principal
    for band, rate in SCALE:
        part = rest if band is None else min(rest, band)
        total += part * rate
        rest -= part
        if rest <= 0:
            break
    return total


def collection_costs(principal: Decimal, *, consumer: bool, vat: bool = False) -> Decimal:
    """The costs a creditor may claim on `principal`, in cents.

    Consumers: the scale is mandatory (6:96 lid 5) and only due after a 14-dagenbrief's term expired
    (6:96 lid 6) - the caller decides whether that happened. Businesses: at least EUR 40 without any letter
    (6:96 lid 4); the scale is the default unless the contract says otherwise. `vat` adds 21% on top, only
    when the creditor cannot deduct VAT and declares so (Besluit BIK art. 2 lid 3). Nothing left to collect
    means no costs."""
    amount = as_money(principal, "principal")
    if amount < 0:
        raise ValueError("principal must not be negative")
    if amount == 0:
        return Decimal("0.00")
    # `consumer` does not change the default amount: the difference lies in when the costs are due and
    # whether a contract may vary them (6:96 lid 4-6). It is a parameter so callers state the kind.
    costs = min(max(cents(_scale(amount)), MINIMUM), MAXIMUM)
    if vat:
        costs += cents(costs * VAT_RATE)
    return cents(costs)


def combined_collection_costs(principals: list[Decimal], *, consumer: bool, vat: bool = False) -> list[Decimal]:
    """One demand covering several claims (one ingebrekestelling naming several invoices): the costs are computed
    over the principal sums added together (Besluit BIK art. 2: the scale runs over the hoofdsom of the demand),
    then shared out over the claims in proportion to their principal, to the cent, adding up to exactly the total
    (largest remainder: the cents left over go to the largest fractions, ties to the earlier claim)."""
    amounts = [as_money(p, "principal") for p in principals]
    if any(a < 0 for a in amounts):
        raise ValueError("principal must not be negative")
    whole = sum(amounts, Decimal(0))
    if whole == 0:
        return [Decimal("0.00") for _ in amounts]
    total = collection_costs(whole, consumer=consumer, vat=vat)
    exact = [total * a / whole for a in amounts]
    shares = [e.quantize(Decimal("0.01"), rounding="ROUND_DOWN") for e in exact]
    left = int((total - sum(shares, Decimal(0))) / Decimal("0.01"))
    by_fraction = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_fraction[:left]:
        shares[i] += Decimal("0.01")
    return shares
