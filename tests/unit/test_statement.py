"""What the ingebrekestelling claims, from the invoice's facts and the law module."""

from datetime import date
from decimal import Decimal

from dunning.domain.statement import interest_start, state_claim


def consumer_claim(today, payments=(), term_deadline=date(2026, 3, 24)):
    return state_claim(
        consumer=True,
        amount=Decimal("3000.00"),
        due_date=date(2026, 1, 31),
        payments=payments,
        today=today,
        default_notice_deadline=date(2026, 2, 28),
        term_deadline=term_deadline,
    )


def test_business_interest_starts_the_day_after_the_due_date_and_consumer_interest_after_the_notice_term():
    assert interest_start(consumer=False, due_date=date(2026, 1, 31), default_notice_deadline=None) == date(2026, 2, 1)
    assert interest_start(consumer=True, due_date=date(2026, 1, 31), default_notice_deadline=None) is None
    assert interest_start(
        consumer=True, due_date=date(2026, 1, 31), default_notice_deadline=date(2026, 2, 28)
    ) == date(2026, 3, 1)


def test_consumer_letter_states_the_costs_that_follow_if_the_term_passes_unpaid():
    claim = consumer_claim(date(2026, 3, 10))
    # 15% of 2,500 + 10% of 500 = 425.00 (Besluit BIK art. 2)
    assert claim.costs == Decimal("425.00")
    assert claim.due_after_term == claim.due_now + Decimal("425.00")
    assert claim.interest_from == date(2026, 3, 1)


def test_consumer_costs_are_owed_once_the_term_has_passed():
    claim = consumer_claim(date(2026, 4, 1))
    assert claim.costs == Decimal("425.00")
    assert claim.due_now == claim.due_after_term == claim.principal + claim.interest + claim.costs


def test_a_partial_payment_within_the_term_lowers_the_costs():
    # HR 25-11-2016 (ECLI:NL:HR:2016:2704): costs over the balance left when the term ends
    claim = consumer_claim(date(2026, 4, 1), payments=[(date(2026, 3, 20), Decimal("1000.00"))])
    # By hand: interest runs from 1 March up to and including the day of payment, 20 March: 20 days at 4%
    # (non-commercial rate from 2026-01-01) on 3,000.00 = 3000 x 0.04 x 20/365 = 6.575 -> 6.58. The 1,000.00
    # pays that interest first (BW 6:44), then 993.42 principal: 2,006.58 left when the term ends (24 March).
    # Costs over that balance: 15% of 2,006.58 = 300.987 -> 300.99 (instead of 425.00 over 3,000.00).
    assert claim.principal == Decimal("2006.58")
    assert claim.costs == Decimal("300.99")


def test_no_consumer_interest_before_default():
    claim = state_claim(
        consumer=True,
        amount=Decimal("100.00"),
        due_date=date(2026, 1, 31),
        payments=[],
        today=date(2026, 2, 20),
        default_notice_deadline=None,
    )
    assert (claim.interest, claim.interest_from) == (Decimal("0.00"), None)
    assert claim.costs == Decimal("40.00"), "the BIK minimum"


def test_a_part_payment_after_the_ingebrekestelling_goes_to_costs_then_interest_then_the_invoice():
    # Business, EUR 1,210.00 due Monday 5 Jan 2026; EUR 300.00 paid on 20 Feb; stated on 10 Mar. Worked out by
    # hand, rate 10.15% a year (nl_rates_commercial.csv, 1 Jan 2026, unverified), actual/365, cents per step:
    #   interest 6 Jan up to and including the payment day 20 Feb: 26 + 20 = 46 days:
    #     1,210.00 x 10.15% x 46 / 365 = 5,649.49 / 365 = 15.478 -> 15.48
    #   the 300.00 per BW 6:44: costs 181.50 (15% of 1,210.00), interest 15.48, the invoice 300.00 - 181.50 -
    #     15.48 = 103.02, leaving 1,210.00 - 103.02 = 1,106.98
    #   interest 21 Feb up to 10 Mar: 8 + 9 = 17 days: 1,106.98 x 10.15% x 17 / 365 = 1,910.094 / 365 = 5.233
    #     -> 5.23; due now 1,106.98 + 5.23 = 1,112.21 (the costs are paid)
    statement = state_claim(consumer=False, amount=Decimal("1210.00"), due_date=date(2026, 1, 5),
                            payments=[(date(2026, 2, 20), Decimal("300.00"))], today=date(2026, 3, 10),
                            default_notice_deadline=None)
    [applied] = statement.payments
    assert (applied.to_costs, applied.to_interest, applied.to_principal) == (
        Decimal("181.50"), Decimal("15.48"), Decimal("103.02"))
    assert (statement.principal, statement.interest, statement.costs, statement.due_now) == (
        Decimal("1106.98"), Decimal("5.23"), Decimal("0.00"), Decimal("1112.21"))
    assert statement.as_data()["payments"] == [{"on": "2026-02-20", "amount": "300.00", "to_costs": "181.50",
                                                "to_interest": "15.48", "to_principal": "103.02"}]
