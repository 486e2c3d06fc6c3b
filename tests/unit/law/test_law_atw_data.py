"""The days declared equal to a holiday (Atw art. 3 lid 3) as data: source, verification and the loader."""

import os
import re
from datetime import date

import pytest

from dunning.law import DataFileError, declared_days, is_atw_holiday, unverified_declared_days
from dunning.law.datafiles import DATA_DIR

FILE = "nl_atw_extra_days.csv"

# The Besluit van 24 oktober 2016, nr. 2016001827 (wetten.overheid.nl BWBR0038666), art. 1, as read there:
# "28 april en 26 mei 2017, 11 mei en 24 en 31 december 2018 en 31 mei en 27 december 2019".
BESLUIT_2016 = {
    date(2017, 4, 28),
    date(2017, 5, 26),
    date(2018, 5, 11),
    date(2018, 12, 24),
    date(2018, 12, 31),
    date(2019, 5, 31),
    date(2019, 12, 27),
}
# legal-nl.md, lid 3; only the titles of these Besluiten were found, not their official text.
LEGAL_NL_2023_2028 = {
    date(2023, 4, 28),
    date(2023, 5, 19),
    date(2024, 5, 10),
    date(2024, 12, 27),
    date(2025, 5, 30),
    date(2026, 1, 2),
    date(2026, 5, 15),
    date(2027, 5, 7),
    date(2028, 4, 28),
    date(2028, 5, 26),
}


def write(tmp_path, text: str):
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    return tmp_path / FILE


def test_the_packaged_file_holds_the_days_of_the_2016_besluit_and_of_legal_nl():
    assert set(declared_days()) == BESLUIT_2016 | LEGAL_NL_2023_2028


def test_only_the_days_checked_against_the_official_besluit_are_marked_verified():
    days = declared_days()
    assert {d for d, row in days.items() if row.verified} == BESLUIT_2016
    assert all("Besluit van 24 oktober 2016, nr. 2016001827" in days[d].source for d in BESLUIT_2016)


def test_every_packaged_row_names_the_besluit_it_comes_from_and_is_not_user_supplied():
    for row in declared_days().values():
        assert "Besluit" in row.source and "gelijkstelling" in row.source
        assert not row.user_supplied


def test_the_packaged_file_uses_the_verified_column_and_no_good_friday():
    text = (DATA_DIR / FILE).read_text(encoding="utf-8")
    assert "date,name,verified,source" in text
    # Good Friday is Atw art. 3 lid 2, computed in code: 2026-04-03 and 2028-04-14 must not be data.
    assert "2026-04-03" not in text and "2028-04-14" not in text


def test_unverified_declared_days_in_a_span_are_listed_for_a_warning():
    in_2026 = unverified_declared_days(date(2026, 1, 1), date(2026, 12, 31))
    assert [d.day for d in in_2026] == [date(2026, 1, 2), date(2026, 5, 15)]
    assert unverified_declared_days(date(2017, 1, 1), date(2019, 12, 31)) == ()  # all verified


def test_an_override_in_the_current_format_is_read_with_its_verification(tmp_path):
    write(
        tmp_path,
        "date,name,verified,source\n"
        "2029-05-11,vrijdag na Hemelvaartsdag,no,announced\n"
        "2029-12-24,maandag voor Kerstmis,YES,Besluit gelijkstelling (Stcrt.)\n",
    )
    days = declared_days(tmp_path)
    assert (days[date(2029, 5, 11)].verified, days[date(2029, 12, 24)].verified) == (False, True)
    assert days[date(2029, 5, 11)].user_supplied and days[date(2029, 5, 11)].name == "vrijdag na Hemelvaartsdag"
    assert is_atw_holiday(date(2029, 12, 24), tmp_path)


def test_an_override_in_the_earlier_format_still_loads_and_counts_as_unverified(tmp_path):
    write(
        tmp_path,
        "# my own days\ndate,status,name,source\n2030-05-31,,vrijdag na Hemelvaart,own\n2030-12-27,unverified,,\n",
    )
    days = declared_days(tmp_path)
    first, second = days[date(2030, 5, 31)], days[date(2030, 12, 27)]
    assert (first.verified, first.user_supplied, first.source) == (False, True, "own")
    assert (second.verified, second.name) == (False, "gelijkgestelde dag")
    assert is_atw_holiday(date(2030, 5, 31), tmp_path) and is_atw_holiday(date(2030, 12, 27), tmp_path)


def test_an_override_with_only_a_date_column_loads(tmp_path):
    write(tmp_path, "date\n2031-05-23\n")
    assert not declared_days(tmp_path)[date(2031, 5, 23)].verified


def test_an_override_row_replaces_the_packaged_row_for_the_same_date(tmp_path):
    write(tmp_path, "date,name,verified,source\n2026-01-02,vrijdag na Nieuwjaarsdag,yes,Stcrt. (checked)\n")
    row = declared_days(tmp_path)[date(2026, 1, 2)]
    assert (row.verified, row.user_supplied, row.source) == (True, True, "Stcrt. (checked)")
    assert not declared_days()[date(2026, 1, 2)].verified  # the packaged data itself is unchanged


def test_an_edited_override_file_is_read_again(tmp_path):
    path = write(tmp_path, "date,name,verified,source\n2032-05-07,,no,x\n")
    assert is_atw_holiday(date(2032, 5, 7), tmp_path)
    write(tmp_path, "date,name,verified,source\n2032-05-14,,no,x\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not is_atw_holiday(date(2032, 5, 7), tmp_path) and is_atw_holiday(date(2032, 5, 14), tmp_path)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("date,name,verified,source\n31-05-2030,x,no,y\n", "date"),
        ("date,name,verified,source\n2030-02-30,x,no,y\n", "date"),
        ("date,name,verified,source\n20300531,x,no,y\n", "date"),
        ("date,name,verified,source\n,x,no,y\n", "date"),
        ("day,name,verified,source\n2030-05-31,x,no,y\n", "date"),
        ("date,name,verified,source\n2030-05-31,x,maybe,y\n", "verified"),
        ("date,name,verified,source\n2030-05-31,x,,y\n", "verified"),
        ("date,name,verified,source\n2030-05-31,x,yes,\n", "source"),
        ("date,name,verified\n2030-05-31,x,yes\n", "source"),
        ("date,status,name,source\n2030-05-31,checked,x,y\n", "status"),
    ],
)
def test_a_bad_row_is_refused_naming_the_file_the_line_and_the_field(tmp_path, text, field):
    path = write(tmp_path, "# a comment line and a blank one first\n\n" + text)
    with pytest.raises(DataFileError, match=re.escape(f"{path}:4: field '{field}'")):
        declared_days(tmp_path)


def test_a_file_with_both_a_verified_and_a_status_column_is_refused(tmp_path):
    path = write(tmp_path, "date,status,name,verified,source\n2030-05-31,,x,no,y\n")
    with pytest.raises(DataFileError, match=re.escape(f"{path}:2") + ".*'verified' or a 'status' column"):
        is_atw_holiday(date(2030, 5, 31), tmp_path)
