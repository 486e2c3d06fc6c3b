"""Contact windows (Wet kwaliteit incassodienstverlening): not 20:00-07:00 Amsterdam time, not on Sundays or
Atw holidays."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import may_contact, next_contact_moment

AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_saturday_2130_waits_until_monday_0700():
    at = ams(2026, 11, 21, 21, 30)
    assert not may_contact(at)
    assert next_contact_moment(at) == ams(2026, 11, 23, 7, 0)


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (ams(2026, 11, 20, 6, 59), False),
        (ams(2026, 11, 20, 7, 0), True),
        (ams(2026, 11, 20, 19, 59, 59), True),
        (ams(2026, 11, 20, 20, 0), False),
        (ams(2026, 11, 21, 12, 0), True),  # Saturday daytime is allowed
        (ams(2026, 11, 22, 12, 0), False),  # Sunday
        (ams(2026, 4, 6, 10, 0), False),  # Easter Monday
        (ams(2026, 4, 27, 10, 0), False),  # King's Day
        (ams(2026, 5, 5, 10, 0), False),  # 5 May
        (ams(2026, 12, 25, 10, 0), False),  # Christmas
        (ams(2026, 4, 3, 10, 0), False),  # Good Friday (Atw art. 3 lid 2)
        (ams(2026, 4, 4, 10, 0), True),  # Holy Saturday: a Saturday, not a holiday
    ],
)
def test_may_contact_inside_the_window_only(at, allowed):
    assert may_contact(at) is allowed


def test_an_allowed_moment_is_its_own_next_contact_moment():
    at = ams(2026, 11, 20, 10, 15)
    assert next_contact_moment(at) is at


def test_early_morning_waits_until_0700_the_same_day():
    assert next_contact_moment(ams(2026, 11, 20, 5, 0)) == ams(2026, 11, 20, 7, 0)


def test_the_evening_before_good_friday_waits_until_saturday_morning():
    # Thursday 2 April 2026 21:00; Friday 3 April is Good Friday; Saturday 4 April is allowed.
    assert next_contact_moment(ams(2026, 4, 2, 21, 0)) == ams(2026, 4, 4, 7, 0)


def test_the_night_before_easter_waits_until_tuesday():
    assert next_contact_moment(ams(2026, 4, 4, 21, 0)) == ams(2026, 4, 7, 7, 0)


def test_the_window_follows_amsterdam_time_not_utc():
    # 05:30 UTC is 07:30 in summer (CEST, allowed) but 06:30 in winter (CET, not allowed).
    assert may_contact(datetime(2026, 7, 7, 5, 30, tzinfo=UTC))
    assert not may_contact(datetime(2026, 1, 6, 5, 30, tzinfo=UTC))
    assert next_contact_moment(datetime(2026, 1, 6, 5, 30, tzinfo=UTC)) == datetime(2026, 1, 6, 6, 0, tzinfo=UTC)


def test_the_next_window_after_the_spring_dst_change_opens_at_0700_summer_time():
    at = datetime(2026, 3, 28, 20, 30, tzinfo=UTC)  # Saturday 21:30 CET; clocks go forward on Sunday
    nxt = next_contact_moment(at)
    assert nxt == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)  # Monday 07:00 CEST
    assert nxt.tzinfo is UTC  # returned in the caller's time zone
    assert nxt.astimezone(AMS).hour == 7


def test_the_next_window_after_the_autumn_dst_change_opens_at_0700_winter_time():
    at = datetime(2026, 10, 24, 18, 30, tzinfo=UTC)  # Saturday 20:30 CEST; clocks go back on Sunday
    assert next_contact_moment(at) == datetime(2026, 10, 26, 6, 0, tzinfo=UTC)  # Monday 07:00 CET


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        may_contact(datetime(2026, 11, 20, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_contact_moment(datetime(2026, 11, 20, 22, 0))


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_the_next_contact_moment_is_the_first_allowed_moment(at):
    nxt = next_contact_moment(at)
    assert may_contact(nxt) and nxt >= at
    if nxt != at:
        assert nxt.astimezone(AMS).time().isoformat() == "07:00:00"
        step = at
        while step < nxt:  # nothing allowed in between, checked every 20 minutes
            assert not may_contact(step)
            step += timedelta(minutes=20)
