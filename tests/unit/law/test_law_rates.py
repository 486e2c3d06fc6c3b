"""Rate tables as data (BW 6:119, 6:119a): loading, overriding, and the missing half-year warning."""

from datetime import date
from decimal import Decimal

import pytest

from dunning.law import DataFileError, load_rates, missing_rate_warning
from dunning.law.datafiles import DATA_DIR

D = Decimal


def test_the_commercial_table_holds_the_rates_of_legal_nl_oldest_first():
    rates = load_rates("commercial")
    assert (rates[0].effective_from, rates[0].percent) == (date(2012, 1, 1), D("8.00"))
    assert (date(2013, 3, 16), D("8.75")) in [(r.effective_from, r.percent) for r in rates]
    assert [r.effective_from for r in rates] == sorted(r.effective_from for r in rates)
    assert all(r.source for r in rates)


def test_rows_marked_unverified_in_legal_nl_are_unverified_in_the_data():
    unverified = {(r.effective_from, r.percent) for r in load_rates("commercial") if not r.verified}
    assert unverified == {(date(2026, 1, 1), D("10.15")), (date(2026, 7, 1), D("10.40"))}
    assert [r.effective_from for r in load_rates("non-commercial") if not r.verified] == [date(2026, 1, 1)]


def test_consumer_is_an_alias_for_the_non_commercial_table():
    assert load_rates("consumer") == load_rates("non-commercial")


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        load_rates("belgian")


def test_an_override_directory_corrects_and_adds_rows(tmp_path):
    (tmp_path / "nl_rates_commercial.csv").write_text(
        "effective_from,rate_percent,status,source\n2026-07-01,10.50,,checked\n2027-01-01,10.25,,checked\n"
    )
    rates = {r.effective_from: r for r in load_rates("commercial", tmp_path)}
    assert rates[date(2026, 7, 1)].percent == D("10.50") and rates[date(2026, 7, 1)].verified
    assert rates[date(2027, 1, 1)].percent == D("10.25")
    assert rates[date(2012, 1, 1)].percent == D("8.00")  # packaged rows stay


def test_a_broken_rate_row_names_the_file_and_line(tmp_path):
    (tmp_path / "nl_rates_commercial.csv").write_text("effective_from,rate_percent,status,source\n2027-01-01,ten,,x\n")
    with pytest.raises(DataFileError, match="nl_rates_commercial.csv:2"):
        load_rates("commercial", tmp_path)


def test_no_warning_when_the_current_half_year_has_a_row():
    assert missing_rate_warning("commercial", date(2026, 11, 22)) is None
    assert missing_rate_warning("consumer", date(2026, 3, 1)) is None


def test_a_warning_when_the_current_half_year_has_no_row():
    warning = missing_rate_warning("consumer", date(2026, 11, 22))
    assert warning is not None and "2026-07-01" in warning and "\n" not in warning
    assert missing_rate_warning("commercial", date(2027, 1, 1)) is not None


def test_the_warning_goes_away_once_the_row_is_added_in_the_override(tmp_path):
    (tmp_path / "nl_rates_noncommercial.csv").write_text("effective_from,rate_percent,status,source\n2026-07-01,4,,x\n")
    assert missing_rate_warning("consumer", date(2026, 11, 22), tmp_path) is None


def test_every_data_file_has_a_header_comment_naming_its_source():
    for name in ("nl_rates_commercial.csv", "nl_rates_noncommercial.csv", "nl_atw_extra_days.csv"):
        text = (DATA_DIR / name).read_text()
        assert text.startswith("#") and "source" in text
