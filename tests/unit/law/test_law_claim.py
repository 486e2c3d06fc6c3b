"""A whole claim: payments applied per BW 6:44, collection costs per 6:96 and HR 25-11-2016."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import Payment, compute_claim

D = Decimal


def test_a_payment_goes_to_costs_then_interest_then_principal_per_6_44():
    c = compute_claim(
        D("1000.00"),
        consumer=False,
        interest_from=date(2024, 1, 1),
        as_of=date(2024, 3, 1),
        payments=[Payment(date(2024, 2, 1), D("200.00"))],
    )
    (applied,) = c.payments
    # costs 150.00 (15% of 1000); interest 1 Jan up to and including the day of payment (6:119a lid 1):
    # 32 days x 12.5% x 1000 / 365 = 10.9589
    assert (applied.to_costs, applied.to_interest, applied.to_principal) == (D("150.00"), D("10.96"), D("39.04"))
    assert c.periods[1].start == date(2024, 2, 2) and c.periods[1].base == D("960.96")
    assert c.outstanding_costs == D("0.00") and c.outstanding_principal == D("960.96")


def test_a_payment_smaller_than_the_costs_leaves_interest_and_principal_untouched():
    c = compute_claim(
        D("1000"),
        consumer=False,
        interest_from=date(2024, 1, 1),
        as_of=date(2024, 3, 1),
        payments=[(date(2024, 1, 10), D("100"))],
    )
    assert c.payments[0].to_costs == D("100.00") and c.outstanding_costs == D("50.00")
    assert all(p.base == D("1000.00") for p in c.periods)


def test_capitalised_interest_is_paid_before_this_years_interest_and_lowers_the_base():
    c = compute_claim(
        D("1000"),
        consumer=True,
        interest_from=date(2015, 1, 1),
        as_of=date(2016, 6, 1),
        payments=[(date(2016, 2, 29), D("170.00"))],
    )
    # year 2015: 1000 x 2% = 20.00 capitalised on 2016-01-01; payment: costs 150, then 20.00 of old interest
    assert c.periods[1].base == D("1020.00")
    assert c.payments[0].to_interest == D("20.00") and c.payments[0].to_principal == D("0.00")
    assert c.periods[2].base == D("1000.00")


def test_overpayment_is_reported_as_unapplied_and_nothing_stays_outstanding():
    c = compute_claim(
        D("100"),
        consumer=False,
        interest_from=date(2024, 1, 1),
        as_of=date(2024, 2, 1),
        payments=[(date(2024, 1, 1), D("500"))],
    )
    assert c.outstanding == D("0.00")
    # 500.00 - costs 40.00 (the minimum) - interest 0.03 (100 x 12.5% x 1/365 = 0.0342) - principal 100.00
    assert c.payments[0].unapplied == D("359.97")


def test_a_partial_payment_within_the_14_day_term_lowers_the_costs_per_hr_25_11_2016():
    # ECLI:NL:HR:2016:2704: costs are recomputed over the principal left after the term.
    c = compute_claim(
        D("1000.00"),
        consumer=True,
        interest_from=date(2024, 2, 1),
        as_of=date(2024, 4, 1),
        payments=[(date(2024, 3, 10), D("600.00"))],
        term_deadline=date(2024, 3, 15),
    )
    # Within the term no costs are due, so the 600 goes to interest (2024-02-01..03-10, 39 days at 7%:
    # 7.48) and then principal, leaving 407.48; costs: 15% of 407.48 = 61.12 (not 150.00).
    assert c.payments[0].to_costs == D("0.00") and c.payments[0].to_interest == D("7.48")
    assert c.collection_costs == D("61.12")


def test_full_payment_within_the_14_day_term_means_no_costs_per_6_96_lid_6():
    c = compute_claim(
        D("1000.00"),
        consumer=True,
        interest_from=date(2024, 2, 1),
        as_of=date(2024, 4, 1),
        payments=[(date(2024, 3, 15), D("1010.00"))],  # paid on the last day of the term
        term_deadline=date(2024, 3, 15),
    )
    assert c.collection_costs == D("0.00") and c.outstanding == D("0.00")


def test_a_payment_after_the_14_day_term_goes_to_the_full_costs_first():
    c = compute_claim(
        D("1000.00"),
        consumer=True,
        interest_from=date(2024, 2, 1),
        as_of=date(2024, 4, 1),
        payments=[(date(2024, 3, 16), D("600.00"))],
        term_deadline=date(2024, 3, 15),
    )
    assert c.collection_costs == D("150.00") and c.payments[0].to_costs == D("150.00")


def test_consumer_costs_are_not_owed_while_the_14_day_term_runs():
    c = compute_claim(
        D("1000.00"),
        consumer=True,
        interest_from=date(2024, 2, 1),
        as_of=date(2024, 3, 15),
        term_deadline=date(2024, 3, 15),
    )
    assert c.collection_costs == D("0.00")
    after = compute_claim(
        D("1000.00"),
        consumer=True,
        interest_from=date(2024, 2, 1),
        as_of=date(2024, 3, 16),
        term_deadline=date(2024, 3, 15),
    )
    assert after.collection_costs == D("150.00")


def test_vat_on_the_costs_is_part_of_the_claim_when_declared():
    c = compute_claim(D("1500"), consumer=True, interest_from=date(2024, 1, 1), as_of=date(2024, 1, 1), vat=True)
    assert c.collection_costs == D("272.25") and c.outstanding == D("1772.25")


def test_a_claim_reports_periods_with_rates_marked_unverified_in_the_table():
    c = compute_claim(D("1000"), consumer=True, interest_from=date(2025, 12, 1), as_of=date(2026, 2, 1))
    assert c.unverified_rates == (date(2026, 1, 1),)
    assert [p.start for p in c.unverified_periods] == [date(2026, 1, 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": D("-1")}, "negative"),
        ({"as_of": date(2023, 12, 31)}, "before"),
        ({"payments": [(date(2024, 3, 1), D("10"))]}, "after the as-of"),
        ({"payments": [(date(2024, 1, 10), D("0"))]}, "more than zero"),
    ],
)
def test_bad_input_is_refused_with_a_reason(kwargs, message):
    args = {"principal": D("100"), "consumer": True, "interest_from": date(2024, 1, 1), "as_of": date(2024, 2, 1)}
    with pytest.raises(ValueError, match=message):
        compute_claim(**(args | kwargs))


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        compute_claim(100.0, consumer=True, interest_from=date(2024, 1, 1), as_of=date(2024, 2, 1))  # type: ignore[arg-type]


payment = st.tuples(
    st.integers(min_value=0, max_value=1200), st.decimals(min_value=D("0.01"), max_value=D("3000"), places=2)
)


@given(
    st.decimals(min_value=D("0"), max_value=D("50000"), places=2),
    st.lists(payment, max_size=5),
    st.booleans(),
    st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
)
def test_everything_paid_is_applied_or_reported_unapplied_and_the_books_balance(principal, pays, consumer, term):
    start = date(2023, 3, 1)
    end = start + timedelta(days=1200)
    c = compute_claim(
        principal,
        consumer=consumer,
        interest_from=start,
        as_of=end,
        payments=[(start + timedelta(days=d), a) for d, a in pays],
        term_deadline=start + timedelta(days=term) if term is not None else None,
    )
    unapplied = sum((a.unapplied for a in c.payments), D(0))
    for a in c.payments:
        assert a.to_costs + a.to_interest + a.to_principal + a.unapplied == a.amount
    assert c.principal + c.interest + c.collection_costs - (c.paid - unapplied) == c.outstanding
    assert c.outstanding == c.outstanding_costs + c.outstanding_interest + c.outstanding_principal
    assert min(c.outstanding_costs, c.outstanding_interest, c.outstanding_principal) >= 0
    assert not unapplied or c.outstanding == 0
