"""The 14-dagenbrief term (BW 6:96 lid 6, HR 25-11-2016) and the Algemene termijnenwet."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import Term, fourteen_day_term, is_atw_holiday, is_atw_rest_day, term_expired
from dunning.law.datafiles import DATA_DIR
from dunning.law.terms import next_term_day


def test_a_letter_posted_on_monday_arrives_on_wednesday_and_the_term_ends_14_days_later():
    assert fourteen_day_term(date(2026, 3, 9)) == Term(date(2026, 3, 9), date(2026, 3, 11), date(2026, 3, 25))


def test_sundays_and_mondays_do_not_count_towards_delivery():
    # Friday: Saturday is day 1, Sunday and Monday do not count, Tuesday is day 2.
    assert fourteen_day_term(date(2026, 3, 13)).presumed_delivery == date(2026, 3, 17)


def test_an_email_arrives_the_day_it_is_sent():
    assert fourteen_day_term(date(2026, 3, 13), email=True) == Term(
        date(2026, 3, 13), date(2026, 3, 13), date(2026, 3, 27)
    )


def test_a_deadline_on_easter_monday_moves_to_tuesday():
    t = fourteen_day_term(date(2026, 3, 23), email=True)
    assert t.deadline == date(2026, 4, 7)  # 23 March + 14 = Easter Monday 6 April


def test_a_letter_posted_on_good_friday_arrives_after_easter_monday():
    # Saturday 4 April counts, Sunday and Easter Monday do not, Tuesday 7 April is day 2.
    assert fourteen_day_term(date(2026, 4, 3)).presumed_delivery == date(2026, 4, 7)


def test_a_term_ending_on_good_friday_moves_to_the_tuesday_after_easter():
    # Atw art. 3 lid 2. Posted Wednesday 18 March 2026: Thursday 19 is day 1, Friday 20 is day 2 (delivery);
    # 20 March + 14 = Friday 3 April, Good Friday; Saturday 4 and Sunday 5 are weekend, Monday 6 is Easter
    # Monday, so the term runs on to Tuesday 7 April.
    t = fourteen_day_term(date(2026, 3, 18))
    assert t == Term(date(2026, 3, 18), date(2026, 3, 20), date(2026, 4, 7))
    assert fourteen_day_term(date(2026, 3, 20), email=True).deadline == date(2026, 4, 7)


def test_a_term_ending_on_good_friday_2030_moves_to_tuesday_23_april():
    # Easter 2030 is Sunday 21 April: Good Friday 19 April, weekend 20-21, Easter Monday 22.
    assert next_term_day(date(2030, 4, 19)) == date(2030, 4, 23)
    # E-mailed Friday 5 April 2030: 5 April + 14 = 19 April.
    assert fourteen_day_term(date(2030, 4, 5), email=True).deadline == date(2030, 4, 23)


def test_presumed_delivery_skips_good_friday():
    # Posted Wednesday 1 April 2026: Thursday 2 is day 1, Good Friday 3 does not count, Saturday 4 is day 2.
    # Deadline: 4 April + 14 = Saturday 18 April, Sunday 19, so Monday 20 April.
    assert fourteen_day_term(date(2026, 4, 1)) == Term(date(2026, 4, 1), date(2026, 4, 4), date(2026, 4, 20))
    # Posted Thursday 2 April: Good Friday does not count, Saturday 4 is day 1, Sunday 5 and Easter Monday 6
    # do not count, Tuesday 7 is day 2; 7 April + 14 = Tuesday 21 April.
    assert fourteen_day_term(date(2026, 4, 2)) == Term(date(2026, 4, 2), date(2026, 4, 7), date(2026, 4, 21))


def test_kings_day_on_saturday_26_april_does_not_count_as_a_delivery_day():
    # 2025: the 27th is a Sunday, so King's Day is Saturday 26 April.
    t = fourteen_day_term(date(2025, 4, 24))
    assert t.presumed_delivery == date(2025, 4, 29)
    assert t.deadline == date(2025, 5, 13)


def test_a_deadline_on_kings_day_moves_to_the_next_working_day():
    assert fourteen_day_term(date(2026, 4, 13), email=True).deadline == date(2026, 4, 28)
    # 2028: King's Day Thursday 27 April, Friday 28 April declared equal (data file), then the weekend.
    t = fourteen_day_term(date(2028, 4, 11))
    assert t.presumed_delivery == date(2028, 4, 13) and t.deadline == date(2028, 5, 1)


def test_5_may_does_not_count_for_delivery_and_moves_a_deadline_in_a_non_lustrum_year():
    assert fourteen_day_term(date(2026, 5, 1)).presumed_delivery == date(2026, 5, 6)
    t = fourteen_day_term(date(2026, 4, 17))
    assert t.presumed_delivery == date(2026, 4, 21) and t.deadline == date(2026, 5, 6)


def test_a_deadline_on_ascension_day_moves_past_the_declared_friday():
    t = fourteen_day_term(date(2026, 4, 28))
    assert t.presumed_delivery == date(2026, 4, 30)
    assert t.deadline == date(2026, 5, 18)  # Thu 14 May Ascension, Fri 15 May declared equal, weekend


def test_a_deadline_on_ascension_day_without_a_declared_friday_moves_to_friday():
    # Posted Tuesday 14 May 2030: Wednesday 15 is day 1, Thursday 16 is day 2 (delivery). 16 May + 14 =
    # Thursday 30 May, Ascension 2030 (Easter 21 April + 39 days). No Besluit for 2030 is in the data yet, so
    # Friday 31 May is a working day. When a Besluit declares it, add the row and expect Monday 3 June here.
    assert "2030-05-31" not in (DATA_DIR / "nl_atw_extra_days.csv").read_text(encoding="utf-8")
    t = fourteen_day_term(date(2030, 5, 14))
    assert t.presumed_delivery == date(2030, 5, 16)
    assert t.deadline == date(2030, 5, 31)


def test_a_declared_friday_after_ascension_moves_the_deadline_to_monday(tmp_path):
    # The same letter as above with Friday 31 May 2030 declared in the override: Saturday 1 and Sunday 2
    # June follow, so Monday 3 June.
    (tmp_path / "nl_atw_extra_days.csv").write_text("date,name,verified,source\n2030-05-31,,no,test\n")
    assert fourteen_day_term(date(2030, 5, 14), directory=tmp_path).deadline == date(2030, 6, 3)


def test_christmas_delays_delivery_and_moves_the_deadline():
    assert fourteen_day_term(date(2026, 12, 23)).presumed_delivery == date(2026, 12, 29)
    t = fourteen_day_term(date(2026, 12, 9))
    assert t.presumed_delivery == date(2026, 12, 11) and t.deadline == date(2026, 12, 28)


def test_a_deadline_on_new_years_day_moves_to_monday():
    t = fourteen_day_term(date(2026, 12, 16))
    assert t.deadline == date(2027, 1, 4)  # Friday 1 January, then the weekend
    # 2026: New Year Thursday, Friday 2 January declared equal
    assert fourteen_day_term(date(2025, 12, 16)).deadline == date(2026, 1, 5)


def test_the_term_has_expired_only_from_the_day_after_the_deadline():
    t = fourteen_day_term(date(2026, 3, 9))
    assert not term_expired(t, date(2026, 3, 25))
    assert term_expired(t, date(2026, 3, 26))


@given(st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)), st.booleans())
def test_the_deadline_is_the_first_working_day_at_least_14_days_after_delivery(posted, email):
    t = fourteen_day_term(posted, email=email)
    if email:
        assert t.presumed_delivery == posted
    else:
        d = t.presumed_delivery
        assert posted < d <= posted + timedelta(days=10)
        assert d.weekday() not in (0, 6) and not is_atw_holiday(d)
    first = t.presumed_delivery + timedelta(days=14)
    assert t.deadline >= first and not is_atw_rest_day(t.deadline)
    for i in range((t.deadline - first).days):
        assert is_atw_rest_day(first + timedelta(days=i))


@pytest.mark.parametrize("weekday_offset", range(7))
def test_delivery_by_post_never_takes_more_than_a_plain_week(weekday_offset):
    posted = date(2026, 6, 1) + timedelta(days=weekday_offset)
    assert (fourteen_day_term(posted).presumed_delivery - posted).days <= 4
