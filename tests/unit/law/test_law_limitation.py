"""Limitation (verjaring): BW 3:307, 7:28, stuiting 3:317 and renewal 3:319."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dunning.law import limitation_date


def test_a_claim_is_barred_five_years_after_the_day_after_it_fell_due_per_3_307():
    # Due 15 March 2020: the period starts 16 March 2020 and ends at the start of 16 March 2025.
    assert limitation_date(date(2020, 3, 15)) == date(2025, 3, 16)


def test_the_price_in_a_consumer_purchase_of_goods_is_barred_after_two_years_per_7_28():
    assert limitation_date(date(2020, 3, 15), consumer_goods=True) == date(2022, 3, 16)


def test_a_letter_that_reached_the_debtor_starts_a_new_period_the_next_day_per_3_319():
    assert limitation_date(date(2020, 3, 15), letters_received=[date(2024, 6, 10)]) == date(2029, 6, 11)


def test_the_renewed_period_equals_the_old_one_for_consumer_goods():
    renewed = limitation_date(date(2020, 3, 15), consumer_goods=True, letters_received=[date(2021, 5, 1)])
    assert renewed == date(2023, 5, 2)


def test_a_letter_on_the_last_day_still_renews_the_claim():
    assert limitation_date(date(2020, 3, 15), letters_received=[date(2025, 3, 15)]) == date(2030, 3, 16)


def test_a_letter_after_the_claim_is_barred_renews_nothing():
    assert limitation_date(date(2020, 3, 15), letters_received=[date(2025, 3, 16)]) == date(2025, 3, 16)


def test_each_letter_in_time_renews_again():
    letters = [date(2021, 1, 10), date(2022, 12, 1), date(2024, 11, 30)]
    assert limitation_date(date(2020, 3, 15), consumer_goods=True, letters_received=letters) == date(2026, 12, 1)


def test_a_period_starting_on_29_february_ends_on_1_march():
    assert limitation_date(date(2024, 2, 28)) == date(2029, 3, 1)
    assert limitation_date(date(2024, 2, 27)) == date(2029, 2, 28)


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@given(dates, st.lists(st.integers(min_value=0, max_value=4000), max_size=4), st.booleans())
def test_letters_never_shorten_the_period(due, offsets, goods):
    letters = [due + timedelta(days=o) for o in offsets]
    plain = limitation_date(due, consumer_goods=goods)
    assert limitation_date(due, consumer_goods=goods, letters_received=letters) >= plain > due
