"""A statutory rate row marked unverified is never stated silently: a message whose interest runs at such a row
waits until a person confirms it (`dunning law confirm-rate`), and the overview and the sweep name every missing
or unverified row of both tables. Pure: rate rows by hand, files in a temporary law directory."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dunning.cli.law import run_confirm_rate
from dunning.domain.errors import UserError
from dunning.law import (
    Confirmation,
    DataFileError,
    Rate,
    load_confirmations,
    rate_table_warnings,
    rates_holding,
    unconfirmed,
)
from dunning.law.rates import rows_in_force

CHECKED = Rate(date(2025, 7, 1), Decimal("10.15"), verified=True, source="Staatscourant")
JANUARY = Rate(date(2026, 1, 1), Decimal("10.15"), verified=False, source="notes")
JULY = Rate(date(2026, 7, 1), Decimal("10.40"), verified=False, source="notes")
TABLE = (CHECKED, JANUARY, JULY)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))


def confirmed(row: Rate, percent: str | None = None) -> Confirmation:
    return Confirmation("commercial", row.effective_from, Decimal(percent or row.percent), "Anna Smit", "2026-11-23")


def test_the_rows_in_force_are_those_that_apply_to_some_day_of_the_interest():
    assert rows_in_force(TABLE, date(2025, 10, 1), date(2025, 12, 31)) == (CHECKED,)
    assert rows_in_force(TABLE, date(2025, 12, 31), date(2026, 1, 1)) == (CHECKED, JANUARY)
    assert rows_in_force(TABLE, date(2026, 2, 1), date(2026, 11, 23)) == (JANUARY, JULY)


def test_interest_at_checked_rows_only_holds_nothing():
    assert rates_holding("commercial", TABLE, (), date(2025, 8, 1), date(2025, 12, 31)) == ()


def test_interest_at_an_unverified_row_holds_the_message_until_a_person_confirms_that_row():
    assert rates_holding("commercial", TABLE, (), date(2025, 12, 1), date(2026, 3, 1)) == (JANUARY,)
    assert rates_holding("business", TABLE, [confirmed(JANUARY)], date(2025, 12, 1), date(2026, 3, 1)) == ()
    # a rate change during the interest: every unverified row it runs at needs its own confirmation
    assert rates_holding("commercial", TABLE, [confirmed(JANUARY)], date(2026, 2, 1), date(2026, 8, 1)) == (JULY,)


def test_a_confirmation_is_for_the_percent_that_was_checked():
    # the row was corrected after it was confirmed: the new figure needs a new confirmation
    assert unconfirmed("commercial", TABLE, [confirmed(JULY, "10.15")]) == (JANUARY, JULY)
    # a confirmation of the other table's row of the same date confirms nothing here
    other = Confirmation("non-commercial", JULY.effective_from, JULY.percent, "Anna Smit", "")
    assert unconfirmed("commercial", (JULY,), [other]) == (JULY,)


def test_no_interest_stated_holds_nothing():
    assert rates_holding("consumer", TABLE, (), None, date(2026, 11, 23)) == ()
    assert rates_holding("consumer", TABLE, (), date(2026, 12, 1), date(2026, 11, 23)) == ()


def test_the_warnings_name_a_missing_half_year_and_every_unconfirmed_unverified_row_of_each_table(tmp_path):
    # the packaged tables: commercial 2026-01-01 and 2026-07-01, non-commercial 2026-01-01 marked unverified, and
    # no non-commercial row for the half-year from 2026-07-01
    business = rate_table_warnings("commercial", date(2026, 11, 23), tmp_path)
    assert [w.split(" is marked")[0] for w in business] == [
        "warning: the commercial statutory interest rate from 2026-01-01 (10.15%)",
        "warning: the commercial statutory interest rate from 2026-07-01 (10.40%)",
    ]
    assert business[0].endswith("then: dunning law confirm-rate commercial 2026-01-01")
    consumer = rate_table_warnings("consumer", date(2026, 11, 23), tmp_path)
    assert "has no row for the half-year from 2026-07-01" in consumer[0]
    assert "non-commercial statutory interest rate from 2026-01-01 (4.00%) is marked unverified" in consumer[1]
    # a row from a later half-year is named once it applies
    assert len(rate_table_warnings("commercial", date(2026, 3, 1), tmp_path)) == 1


def test_confirm_rate_records_who_and_when_and_the_row_is_no_longer_named(tmp_path):
    said = run_confirm_rate("business", "2026-07-01", by="Anna Smit", law_dir=tmp_path, now=NOW)
    assert said.startswith("confirmed commercial 2026-07-01 (10.40%) by Anna Smit, 2026-11-23T09:30:00+01:00")
    assert load_confirmations(tmp_path) == (
        Confirmation("commercial", date(2026, 7, 1), Decimal("10.40"), "Anna Smit", "2026-11-23T09:30:00+01:00"),
    )
    assert run_confirm_rate("commercial", "2026-07-01", by="Piet", law_dir=tmp_path, now=NOW).endswith(
        "was confirmed already")
    run_confirm_rate("consumer", "2026-01-01", by="Piet de Boer", law_dir=tmp_path, now=NOW)
    assert len(load_confirmations(tmp_path)) == 2
    warnings = rate_table_warnings("commercial", date(2026, 11, 23), tmp_path)
    assert [w for w in warnings if "2026-07-01" in w] == []
    assert [w for w in rate_table_warnings("consumer", date(2026, 11, 23), tmp_path) if "unverified" in w] == []


@pytest.mark.parametrize(("table", "day", "message"), [
    ("commercial", "2026-02-01", "the commercial rate table has no row from 2026-02-01"),
    ("interest", "2026-07-01", "unknown kind 'interest'"),
    ("commercial", "1 juli", "DATE: not a date"),
])
def test_confirm_rate_refuses_a_row_that_is_not_there(tmp_path, table, day, message):
    with pytest.raises(UserError, match=message):
        run_confirm_rate(table, day, by="Anna", law_dir=tmp_path, now=NOW)


def test_a_checked_row_needs_no_confirmation_and_a_name_is_required(tmp_path):
    assert run_confirm_rate("commercial", "2025-07-01", by="Anna", law_dir=tmp_path, now=NOW).endswith(
        "nothing to confirm")
    with pytest.raises(UserError, match="--by"):
        run_confirm_rate("commercial", "2026-07-01", by="Smit, Anna", law_dir=tmp_path, now=NOW)


def test_a_confirmation_without_a_name_is_refused_with_its_line(tmp_path):
    (tmp_path / "confirmed_rates.csv").write_text(
        "table,effective_from,rate_percent,confirmed_by,confirmed_at\ncommercial,2026-07-01,10.40,,\n")
    with pytest.raises(DataFileError, match="confirmed_rates.csv:2: confirmed_by must name the person"):
        load_confirmations(tmp_path)
