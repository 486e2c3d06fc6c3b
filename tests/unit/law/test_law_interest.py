"""Statutory interest: BW 6:119 (non-commercial), 6:119a (commercial), 6:120 (rate changes); actual/365."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import MissingRateError, Period, commercial_interest_start, compute_claim
from dunning.law.interest import anniversaries, period_interest

D = Decimal


def test_periods_split_at_a_rate_change_per_6_120():
    c = compute_claim(D("1000.00"), consumer=True, interest_from=date(2023, 1, 1), as_of=date(2024, 1, 1))
    assert c.periods == (
        # 1000 x 4% x 181/365 = 19.8356...
        Period(date(2023, 1, 1), date(2023, 7, 1), D("4.00"), D("1000.00"), D("19.84")),
        # 1000 x 6% x 184/365 = 30.2465...
        Period(date(2023, 7, 1), date(2024, 1, 1), D("6.00"), D("1000.00"), D("30.25")),
    )
    assert c.interest == D("50.09")


def test_interest_counts_each_day_from_interest_from_up_to_but_not_including_as_of():
    one_day = compute_claim(D("36500"), consumer=True, interest_from=date(2024, 3, 1), as_of=date(2024, 3, 2))
    assert one_day.interest == D("7.00")  # 36,500 x 7% / 365
    none = compute_claim(D("36500"), consumer=True, interest_from=date(2024, 3, 1), as_of=date(2024, 3, 1))
    assert none.interest == D("0.00") and none.periods == ()


def test_rows_that_repeat_the_same_rate_do_not_split_a_period():
    # The commercial table has 10.15% from 2025-07-01 and again from 2026-01-01.
    c = compute_claim(D("1000"), consumer=False, interest_from=date(2025, 7, 1), as_of=date(2026, 2, 1))
    assert [(p.start, p.end) for p in c.periods] == [(date(2025, 7, 1), date(2026, 2, 1))]


def test_capitalisation_after_each_full_year_over_several_years_including_a_leap_year():
    # 2% throughout (non-commercial rate from 2015-01-01 to 2022-12-31).
    c = compute_claim(D("2000.00"), consumer=True, interest_from=date(2015, 3, 1), as_of=date(2018, 3, 1))
    assert c.periods == (
        # year 1 holds 29 February 2016: 366 days, 2000 x 2% x 366/365 = 40.1095...
        Period(date(2015, 3, 1), date(2016, 3, 1), D("2.00"), D("2000.00"), D("40.11")),
        # 6:119 lid 2: the year's interest is added to the base: 2040.11 x 2% = 40.8022
        Period(date(2016, 3, 1), date(2017, 3, 1), D("2.00"), D("2040.11"), D("40.80")),
        Period(date(2017, 3, 1), date(2018, 3, 1), D("2.00"), D("2080.91"), D("41.62")),
    )
    assert c.interest == D("122.53")
    assert c.outstanding == D("2000.00") + D("122.53") + D("250.00") + D("50.00")  # principal, interest, costs


def test_capitalisation_counts_years_from_the_interest_start_not_the_calendar_year():
    c = compute_claim(D("1000.00"), consumer=False, interest_from=date(2023, 7, 1), as_of=date(2025, 1, 1))
    assert [(p.start, p.rate, p.base, p.interest) for p in c.periods] == [
        (date(2023, 7, 1), D("12.00"), D("1000.00"), D("60.49")),  # 184 days
        (date(2024, 1, 1), D("12.50"), D("1000.00"), D("62.33")),  # no capitalisation on 1 January
        # 6:119a lid 3: after the first year (on 2024-07-01) 60.49 + 62.33 joins the base
        (date(2024, 7, 1), D("12.25"), D("1122.82"), D("69.34")),
    ]


def test_a_leap_year_has_366_days_of_interest_at_actual_365():
    c = compute_claim(D("1000.00"), consumer=True, interest_from=date(2020, 1, 1), as_of=date(2021, 1, 1))
    assert c.interest == D("20.05")  # 1000 x 2% x 366/365 = 20.0548, not 20.00
    six_months = compute_claim(D("10000"), consumer=False, interest_from=date(2024, 1, 1), as_of=date(2024, 7, 1))
    assert six_months.periods[0].days == 182 and six_months.interest == D("623.29")  # x 12.5% x 182/365


def test_interest_years_from_29_february_start_again_on_1_march():
    assert anniversaries(date(2024, 2, 29), date(2028, 12, 31)) == [
        date(2025, 3, 1),
        date(2026, 3, 1),
        date(2027, 3, 1),
        date(2028, 2, 29),
    ]


def test_commercial_interest_starts_the_day_after_the_agreed_due_date_per_6_119a_lid_1():
    assert commercial_interest_start(date(2024, 3, 31), date(2024, 3, 1)) == date(2024, 4, 1)


def test_commercial_interest_without_agreed_date_starts_30_days_after_the_day_after_receipt():
    # 6:119a lid 2 sub a: "vanaf 30 dagen na de aanvang van de dag, volgende op die waarop de schuldenaar de
    # factuur heeft ontvangen": received 1 March, the day after starts 2 March, 30 days later is 1 April.
    assert commercial_interest_start(None, date(2024, 3, 1)) == date(2024, 4, 1)


def test_commercial_interest_counts_from_the_performance_when_the_invoice_came_first():
    # 6:119a lid 2 sub b
    assert commercial_interest_start(None, date(2024, 3, 1), performance_received=date(2024, 3, 10)) == date(
        2024, 4, 10
    )
    assert commercial_interest_start(None, None, performance_received=date(2024, 3, 10)) == date(2024, 4, 10)
    with pytest.raises(ValueError):
        commercial_interest_start(None, None)


def test_interest_before_the_first_rate_in_the_table_is_refused():
    with pytest.raises(MissingRateError, match="2011-01-01"):
        compute_claim(D("100"), consumer=False, interest_from=date(2011, 1, 1), as_of=date(2012, 6, 1))


def test_period_interest_rounds_half_up_only_at_the_end():
    # 73 x 5% x 1/365 = 0.01 exactly; 36.5 x 5% / 365 = 0.005 -> 0.01
    assert period_interest(D("73"), D("5"), 1) == D("0.01")
    assert period_interest(D("36.50"), D("5"), 1) == D("0.01")
    assert period_interest(D("36.49"), D("5"), 1) == D("0.00")


days = st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 12, 31))


@given(
    st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
    days,
    st.integers(min_value=0, max_value=3000),
    st.booleans(),
)
def test_periods_cover_every_day_once_and_add_up_to_the_interest(principal, start, length, consumer):
    end = start + timedelta(days=length)
    c = compute_claim(principal, consumer=consumer, interest_from=start, as_of=end)
    assert sum(p.days for p in c.periods) == length
    assert all(a.end == b.start for a, b in zip(c.periods, c.periods[1:], strict=False))
    assert not c.periods or (c.periods[0].start, c.periods[-1].end) == (start, end)
    assert c.interest == sum((p.interest for p in c.periods), D(0))
    # Without payments the base never shrinks, and grows only by capitalised interest.
    assert all(a.base <= b.base for a, b in zip(c.periods, c.periods[1:], strict=False))
    assert c.outstanding == c.principal + c.interest + c.collection_costs


@given(st.decimals(min_value=D("1"), max_value=D("100000"), places=2), days, st.integers(1, 360))
def test_within_the_first_year_interest_is_simple_interest_per_period(principal, start, length):
    end = start + timedelta(days=length)
    c = compute_claim(principal, consumer=True, interest_from=start, as_of=end)
    for p in c.periods:
        assert p.base == principal
        assert abs(p.interest - principal * p.rate * p.days / D(36500)) <= D("0.005")
