"""Money is Decimal; it is rounded half-up to cents only where a figure is reported or capitalised."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def as_money(value: Decimal | int | str, what: str = "amount") -> Decimal:
    """Accept Decimal, int or a decimal string; refuse float, which cannot hold cents exactly."""
    if isinstance(value, float | bool):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"{what} is not a decimal amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not a finite amount: {value!r}")
    return amount
