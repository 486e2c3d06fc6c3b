"""One demand covering several claims: the collection costs over their principal sums added together (Besluit BIK
art. 2), shared out to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dunning.domain.statement import state_claim, together
from dunning.law import CostShare, collection_costs, combined_collection_costs, costs_over

D = Decimal


def test_two_invoices_in_one_demand_cost_the_scale_over_their_total_not_two_minimums():
    # EUR 1,250 + EUR 95: alone 187.50 + 40.00 (the minimum) = 227.50; together 15% of 1,345 = 201.75.
    shares = combined_collection_costs([D("1250.00"), D("95.00")], consumer=True)
    assert shares == [D("187.50"), D("14.25")] and sum(shares) == collection_costs(D("1345.00"), consumer=True)


@pytest.mark.parametrize("principals", [
    ["100.00", "100.00", "100.00"],  # the minimum of 40 over the total, shared three ways
    ["1000.00", "2000.00", "3000.01"],  # across the bands of the scale
    ["0.01", "0.01", "999.99"],
    ["12345.67", "0.00"],
])
def test_the_shares_add_up_to_exactly_the_costs_over_the_total(principals):
    amounts = [D(p) for p in principals]
    for vat in (False, True):
        shares = combined_collection_costs(amounts, consumer=False, vat=vat)
        assert sum(shares) == collection_costs(sum(amounts), consumer=False, vat=vat)
        assert all(s >= 0 and s == s.quantize(D("0.01")) for s in shares)


def test_a_part_paid_within_the_term_lowers_that_invoices_share_in_proportion():
    share = CostShare(D("30.00"), D("200.00"))
    assert costs_over(D("200.00"), consumer=True, vat=False, share=share) == D("30.00")
    assert costs_over(D("100.00"), consumer=True, vat=False, share=share) == D("15.00")
    assert costs_over(D("0.00"), consumer=True, vat=False, share=share) == D("0.00")


def test_a_consumers_14_dagenbrief_for_several_invoices_states_each_share_and_their_sum():
    from datetime import date

    def claim(amount: str, share: CostShare):
        return state_claim(consumer=True, amount=D(amount), due_date=date(2026, 1, 5), payments=[],
                           today=date(2026, 2, 10), default_notice_deadline=None, cost_share=share)

    shares = combined_collection_costs([D("1210.00"), D("200.00"), D("145.00")], consumer=True)
    claims = [claim(a, CostShare(s, D(a))) for a, s in zip(("1210.00", "200.00", "145.00"), shares, strict=True)]
    whole = together(claims)
    assert [c.costs for c in claims] == [D("181.50"), D("30.00"), D("21.75")]
    assert (whole.principal, whole.costs, whole.due_after_term) == (D("1555.00"), D("233.25"), D("1788.25"))
