"""The reports' arithmetic over plain values: aging buckets, month ends, the DSO count-back, what became of a
promise, what a call came to, which step preceded a payment."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dunning.desk.reports import (
    BUCKETS,
    answered_with_another,
    bucket_bounds,
    bucket_of,
    call_outcomes,
    count_back,
    month_ends,
    promise_verdict,
    rate,
    step_before,
    window_start,
)

D = Decimal


@pytest.mark.parametrize(("days", "bucket"), [
    (-10, "not_due"), (0, "not_due"),  # on the due date itself nothing is overdue yet
    (1, "1-30"), (30, "1-30"),
    (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"),
    (91, "90+"), (400, "90+"),
])
def test_days_overdue_fall_in_their_bucket(days, bucket):
    assert bucket_of(days) == bucket


def test_the_bucket_bounds_the_database_compares_with_sort_every_due_date_as_bucket_of_does():
    as_of = date(2026, 3, 31)
    bounds = bucket_bounds(as_of)
    assert [name for name, _ in bounds] == list(BUCKETS)
    for days in range(-40, 200):
        due = as_of - timedelta(days)
        found = next(name for name, first in bounds if first is None or due >= first)
        assert found == bucket_of(days), days


def test_month_ends_are_the_last_twelve_up_to_as_of():
    ends = month_ends(date(2026, 3, 15))
    assert len(ends) == 12
    assert ends[0] == date(2025, 3, 31) and ends[-1] == date(2026, 2, 28)  # March 2026 has not ended yet
    assert month_ends(date(2026, 3, 31))[-1] == date(2026, 3, 31)  # as_of is a month end itself
    assert month_ends(date(2024, 3, 1), 2) == [date(2024, 1, 31), date(2024, 2, 29)]  # a leap year


def test_the_window_is_twelve_calendar_months_with_as_ofs():
    assert window_start(date(2026, 3, 31)) == date(2025, 4, 1)
    assert window_start(date(2026, 12, 5)) == date(2026, 1, 1)
    assert window_start(date(2026, 1, 1)) == date(2025, 2, 1)


def test_count_back_the_docstrings_example():
    # 150,000 open on 31 March. March's 100,000 is used up wholly: 31 days, 50,000 left. February (28 days,
    # 80,000): 50,000 / 80,000 x 28 = 17.5 days. DSO 31 + 17.5 = 48.5.
    assert count_back(D("150000.00"), [(31, D("100000.00")), (28, D("80000.00"))]) == (D("48.5"), True)


def test_count_back_within_the_first_month_and_exactly_at_its_sales():
    # 1,000 open against March's 3,100: 1,000 / 3,100 x 31 = 10.0 days.
    assert count_back(D("1000.00"), [(31, D("3100.00"))]) == (D("10.0"), True)
    # All of March's sales open: 31 days exactly, February is not touched.
    assert count_back(D("3100.00"), [(31, D("3100.00")), (28, D("1.00"))]) == (D("31.0"), True)


def test_count_back_a_month_without_sales_adds_its_days_and_uses_up_nothing():
    # 500 open; March sold nothing (31 days), February 1,000: 500 / 1,000 x 28 = 14. DSO 31 + 14 = 45.0.
    assert count_back(D("500.00"), [(31, D("0.00")), (28, D("1000.00"))]) == (D("45.0"), True)
    # A month that credited more than it invoiced counts as one without sales.
    assert count_back(D("500.00"), [(31, D("-200.00")), (28, D("1000.00"))]) == (D("45.0"), True)


def test_count_back_rounds_to_a_tenth_and_says_when_the_sales_ran_out():
    # 4,800 open on 28 February: February's 2,800 wholly (28 days), 2,000 of January's 3,000:
    # 2,000 / 3,000 x 31 = 20.67. DSO 48.67 -> 48.7.
    assert count_back(D("4800.00"), [(28, D("2800.00")), (31, D("3000.00"))]) == (D("48.7"), True)
    # More open than was ever invoiced in the months given: every month's days, a lower bound.
    assert count_back(D("9000.00"), [(28, D("2800.00")), (31, D("3000.00"))]) == (D("59.0"), False)
    assert count_back(D("0.00"), [(31, D("100.00"))]) == (D("0.0"), True)


def test_rates_are_percentages_to_a_tenth_and_none_without_a_whole():
    assert rate(2, 3) == D("66.7")
    assert rate(0, 4) == D("0.0")
    assert rate(0, 0) is None


AS_OF = date(2026, 3, 31)


def test_a_promise_is_kept_once_all_that_was_open_is_paid():
    assert promise_verdict(date(2026, 3, 20), None, D("500.00"), D("0.00"), False, AS_OF) == "kept"
    # Kept counts even when it came in after the date: the sheet's rule asks only whether it was paid.
    assert promise_verdict(date(2026, 3, 1), None, None, D("0.00"), True, AS_OF) == "kept"


def test_a_promise_of_part_is_kept_once_that_part_came_in():
    # 400 open at the call, 100 promised: kept once at most 300 is open.
    assert promise_verdict(date(2026, 3, 20), D("100.00"), D("400.00"), D("300.00"), False, AS_OF) == "kept"
    assert promise_verdict(date(2026, 3, 20), D("100.00"), D("400.00"), D("300.01"), False, AS_OF) == "kept_in_part"


def test_a_promise_past_its_date_is_broken_or_kept_in_part():
    # 600 open at the call, all promised by 10 March; 200 came in: kept in part. Nothing came in: broken.
    assert promise_verdict(date(2026, 3, 10), None, D("600.00"), D("400.00"), False, AS_OF) == "kept_in_part"
    assert promise_verdict(date(2026, 3, 10), None, D("600.00"), D("600.00"), False, AS_OF) == "broken"
    # An older outcome without the open amount at the call: nothing to compare with, broken.
    assert promise_verdict(date(2026, 3, 10), None, None, D("400.00"), False, AS_OF) == "broken"


def test_a_promise_is_running_until_its_date_unless_a_note_says_it_is_broken():
    assert promise_verdict(date(2026, 4, 5), None, D("800.00"), D("800.00"), False, AS_OF) == "running"
    assert promise_verdict(AS_OF, None, D("800.00"), D("800.00"), False, AS_OF) == "running"  # due today
    assert promise_verdict(date(2026, 4, 5), None, D("800.00"), D("800.00"), True, AS_OF) == "broken"


def test_what_a_call_came_to():
    assert call_outcomes({"reached": False, "promised_on": None}) == ["not reached"]
    assert call_outcomes({"reached": True, "promised_on": "2026-03-20"}) == ["promise"]
    assert call_outcomes({"reached": True, "dispute": "wrong price", "plan_requested": True}) == [
        "dispute", "plan requested"]
    assert call_outcomes({"reached": True, "send_copy": True}) == ["copy requested"]
    assert call_outcomes({"reached": True, "dispute": "", "excuse": "Cannot pay now"}) == ["no agreement"]


def test_a_call_answered_with_another_invoices_call_is_not_a_call_of_its_own():
    assert answered_with_another({"note": "(one call with invoice Q-1)"})
    assert answered_with_another({"note": "will pay Friday (one call with invoice 2026-001)"})
    assert not answered_with_another({"note": "asked about invoice Q-1"})
    assert not answered_with_another({"note": None})


def test_the_step_before_a_payment_is_the_last_taken_on_an_earlier_day():
    taken = [(date(2026, 1, 10), "herinnering"), (date(2026, 1, 20), "aanmaning")]
    assert step_before(date(2026, 1, 10), taken) == "none"  # the herinnering went out that very day
    assert step_before(date(2026, 1, 20), taken) == "herinnering"
    assert step_before(date(2026, 2, 5), taken) == "aanmaning"
    # A call after the herinnering: the call came last.
    assert step_before(date(2026, 3, 12), [*taken, (date(2026, 3, 2), "call")]) == "call"
    # Two on one day: the one further along the ladder.
    assert step_before(date(2026, 3, 12), [(date(2026, 3, 2), "aanmaning"), (date(2026, 3, 2), "call")]) == "aanmaning"
