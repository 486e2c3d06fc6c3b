"""Algemene termijnenwet art. 3: its own holiday list, not a general calendar."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.law import DataFileError, atw_holidays, easter_sunday, is_atw_holiday


@pytest.mark.parametrize(
    "easter",
    [
        date(2011, 4, 24),
        date(2016, 3, 27),
        date(2019, 4, 21),
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2038, 4, 25),  # latest possible
        date(2285, 3, 22),  # earliest possible
    ],
)
def test_easter_sunday_matches_published_dates(easter):
    assert easter_sunday(easter.year) == easter


@given(st.integers(min_value=1900, max_value=2400))
def test_easter_agrees_with_dateutil(year):
    easter = pytest.importorskip("dateutil.easter")
    assert easter_sunday(year) == easter.easter(year)


@given(st.integers(min_value=1900, max_value=2400))
def test_easter_is_a_sunday_between_22_march_and_25_april(year):
    e = easter_sunday(year)
    assert e.weekday() == 6 and date(year, 3, 22) <= e <= date(year, 4, 25)


def test_the_statutory_holidays_of_2026():
    statutory = {
        date(2026, 1, 1),  # Nieuwjaarsdag
        date(2026, 4, 3),  # Goede Vrijdag (Atw art. 3 lid 2): Easter is Sunday 5 April
        date(2026, 4, 6),  # Tweede Paasdag
        date(2026, 4, 27),  # Koningsdag
        date(2026, 5, 5),  # 5 mei, also outside lustrum years
        date(2026, 5, 14),  # Hemelvaartsdag
        date(2026, 5, 25),  # Tweede Pinksterdag
        date(2026, 12, 25),
        date(2026, 12, 26),
    }
    declared = {date(2026, 1, 2), date(2026, 5, 15)}  # data file, Atw art. 3 lid 3
    assert set(atw_holidays(2026)) == statutory | declared


@pytest.mark.parametrize("year", [2026, 2027, 2028, 2029, 2031])
def test_5_may_counts_every_year_not_only_in_lustrum_years(year):
    assert is_atw_holiday(date(year, 5, 5))


@pytest.mark.parametrize(
    "good_friday",
    [
        # Two days before the published Easter Sundays above, counted back on a calendar.
        date(2024, 3, 29),  # Easter 31 March
        date(2025, 4, 18),  # Easter 20 April
        date(2026, 4, 3),  # Easter 5 April
        date(2027, 3, 26),  # Easter 28 March
        date(2030, 4, 19),  # Easter 21 April
        date(2038, 4, 23),  # Easter 25 April, the latest possible
        date(2285, 3, 20),  # Easter 22 March, the earliest possible
    ],
)
def test_good_friday_is_an_atw_holiday_every_year_per_atw_art_3_lid_2(good_friday):
    assert good_friday.weekday() == 4
    assert is_atw_holiday(good_friday)
    assert atw_holidays(good_friday.year)[good_friday] == "Goede Vrijdag"


def test_the_days_around_good_friday_are_no_holidays():
    assert not is_atw_holiday(date(2026, 4, 2))  # Maundy Thursday
    assert not is_atw_holiday(date(2026, 4, 4))  # Holy Saturday: a Saturday, not a holiday


def test_kings_day_is_26_april_when_the_27th_is_a_sunday():
    assert date(2025, 4, 27).weekday() == 6
    assert is_atw_holiday(date(2025, 4, 26)) and not is_atw_holiday(date(2025, 4, 27))
    assert is_atw_holiday(date(2026, 4, 27)) and not is_atw_holiday(date(2026, 4, 26))


def test_queens_day_was_30_april_before_2014():
    assert is_atw_holiday(date(2013, 4, 30)) and not is_atw_holiday(date(2013, 4, 27))
    assert is_atw_holiday(date(2014, 4, 26))  # first King's Day: the 27th was a Sunday


def test_days_declared_equal_come_from_the_data_file():
    # legal-nl.md: "e.g. 10 May 2024 and 27 December 2024"
    assert is_atw_holiday(date(2024, 5, 10)) and is_atw_holiday(date(2024, 12, 27))
    assert not is_atw_holiday(date(2024, 5, 13))


def test_an_override_directory_adds_declared_days(tmp_path):
    (tmp_path / "nl_atw_extra_days.csv").write_text(
        "# local addition\ndate,status,name,source\n2030-05-31,unverified,vrijdag na Hemelvaart,test\n"
    )
    assert not is_atw_holiday(date(2030, 5, 31))
    assert is_atw_holiday(date(2030, 5, 31), tmp_path)
    assert is_atw_holiday(date(2024, 5, 10), tmp_path)  # the packaged days still count


def test_a_broken_override_file_names_the_file_and_line(tmp_path):
    (tmp_path / "nl_atw_extra_days.csv").write_text("date,status,name,source\n31-05-2030,,x,y\n")
    with pytest.raises(DataFileError, match=r"nl_atw_extra_days.csv:2"):
        is_atw_holiday(date(2030, 5, 31), tmp_path)
