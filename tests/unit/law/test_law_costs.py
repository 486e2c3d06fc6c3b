"""Collection costs: Besluit vergoeding voor buitengerechtelijke incassokosten (Stb. 2012, 141), art. 2."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import collection_costs

D = Decimal
money = st.decimals(min_value=D("0.01"), max_value=D("5000000"), places=2)


# Worked checks from legal-nl.md ("Checks: 6,000 -> 675.00; 8,400 -> 795.00; 250,000 -> 3,025.00"), each
# following from the scale in art. 2 lid 1 of the Besluit (Stb. 2012, 141).
def test_costs_for_6000_are_675_per_besluit_example():
    # 15% of 2,500 + 10% of 2,500 + 5% of 1,000 = 375 + 250 + 50
    assert collection_costs(D("6000"), consumer=True) == D("675.00")


def test_costs_for_8400_are_795_per_besluit_example():
    # 375 + 250 + 5% of 3,400 (170)
    assert collection_costs(D("8400"), consumer=True) == D("795.00")


def test_costs_for_250000_are_3025_per_besluit_example():
    # 375 + 250 + 250 + 1% of 190,000 (1,900) + 0.5% of 50,000 (250)
    assert collection_costs(D("250000"), consumer=True) == D("3025.00")


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("2500", "375.00"),  # end of the 15% band
        ("2500.01", "375.00"),  # + 10% of a cent rounds away
        ("2510", "376.00"),  # 10% band
        ("5000", "625.00"),  # end of the 10% band
        ("5010", "625.50"),  # 5% band
        ("10000", "875.00"),  # end of the 5% band
        ("10100", "876.00"),  # 1% band
        ("200000", "2775.00"),  # end of the 1% band
        ("200100", "2775.50"),  # 0.5% band
        ("1000000", "6775.00"),  # the scale reaches the maximum exactly here
        ("1000000.01", "6775.00"),
        ("1000200", "6775.00"),  # capped
    ],
)
def test_costs_follow_the_scale_at_each_band_boundary(principal, costs):
    assert collection_costs(D(principal), consumer=True) == D(costs)


@pytest.mark.parametrize(("principal", "costs"), [("0.01", "40.00"), ("100", "40.00"), ("266.66", "40.00")])
def test_costs_are_at_least_40(principal, costs):
    assert collection_costs(D(principal), consumer=True) == D(costs)


def test_costs_leave_the_minimum_where_15_percent_passes_40():
    assert collection_costs(D("266.67"), consumer=True) == D("40.00")  # 40.0005 rounds half-up to 40.00
    assert collection_costs(D("266.74"), consumer=True) == D("40.01")


def test_costs_are_at_most_6775():
    assert collection_costs(D("50000000"), consumer=True) == D("6775.00")


def test_commercial_claims_get_at_least_40_per_6_96_lid_4():
    assert collection_costs(D("12.50"), consumer=False) == D("40.00")
    assert collection_costs(D("6000"), consumer=False) == D("675.00")  # the scale is the default


def test_vat_adds_21_percent_on_top_when_claimed():
    assert collection_costs(D("6000"), consumer=True, vat=True) == D("816.75")
    assert collection_costs(D("100"), consumer=True, vat=True) == D("48.40")  # on the minimum
    assert collection_costs(D("2000000"), consumer=False, vat=True) == D("8197.75")  # on the maximum


def test_nothing_left_to_collect_means_no_costs():
    assert collection_costs(D("0"), consumer=True) == D("0.00")


def test_negative_principal_is_refused():
    with pytest.raises(ValueError, match="negative"):
        collection_costs(D("-1"), consumer=True)


def test_float_principal_is_refused():
    with pytest.raises(TypeError):
        collection_costs(1500.0, consumer=True)  # type: ignore[arg-type]


@given(money)
def test_costs_stay_between_minimum_and_maximum_in_cents(p):
    c = collection_costs(p, consumer=True)
    assert D("40") <= c <= D("6775")
    assert c == c.quantize(D("0.01"))


@given(money, money)
def test_costs_never_fall_as_the_principal_grows_and_grow_at_most_15_percent(a, b):
    low, high = sorted((a, b))
    diff = collection_costs(high, consumer=True) - collection_costs(low, consumer=True)
    assert D(0) <= diff <= (high - low) * D("0.15") + D("0.01")


@given(money)
def test_vat_is_21_percent_of_the_costs_rounded_to_the_cent(p):
    c = collection_costs(p, consumer=True)
    assert collection_costs(p, consumer=True, vat=True) == (c * D("1.21")).quantize(D("0.01"), "ROUND_HALF_UP")


@given(money)
def test_consumer_and_commercial_default_amounts_are_the_same(p):
    assert collection_costs(p, consumer=True) == collection_costs(p, consumer=False)
