"""Importing invoices from CSV, on SQLite and PostgreSQL: all or nothing, and a re-import changes nothing."""

import csv
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from dunning.casework import dossier
from dunning.casework import invoices as invoices_
from dunning.casework.importer import COLUMNS, ImportResult, import_invoices
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, DebtorKind
from dunning.storage import db
from dunning.storage.models import Debtor, Invoice
from tests.support import cli

DUNNING = Path(sys.executable).parent / "dunning"

JAN = {
    "invoice_number": "F-2026-001",
    "debtor_number": "D-100",
    "debtor_name": "Jan de Vries",
    "debtor_kind": "consumer",
    "email": "jan@example.nl",
    "phone": "+31 6 12345678",
    "street": "Dorpsstraat 1",
    "postcode": "1234 AB",
    "city": "Utrecht",
    "country": "nl",
    "language": "nl",
    "issue_date": "2026-01-05",
    "due_date": "2026-02-04",
    "amount": "1234.50",
    "currency": "EUR",
}
JAN_AGAIN = {
    **JAN,
    "invoice_number": "F-2026-002",
    "amount": "0.10",
    "issue_date": "2026-01-20",
    "due_date": "2026-02-19",
}
BOUWBEDRIJF = {
    **JAN,
    "invoice_number": "F-2026-003",
    "debtor_number": "D-200",
    "debtor_name": "Bouwbedrijf Noord B.V.",
    "debtor_kind": "business",
    "email": "",
    "phone": "",
    "language": "",
    "currency": "",
    "amount": "999999999999.99",
}


def write_csv(path: Path, *rows: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")  # as spreadsheets export
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(installation, path: Path) -> ImportResult:
    with db.transaction(installation) as s:
        return import_invoices(s, path)


def database_contents(installation) -> dict[str, list[tuple]]:
    """Every stored debtor and invoice, to show that nothing changed."""
    with db.transaction(installation) as s:
        debtors = [
            (d.id, d.number, d.name, d.kind, d.email, d.phone, d.street, d.postcode, d.city, d.country, d.language,
             d.preferred_channel)
            for d in s.scalars(select(Debtor).order_by(Debtor.id))
        ]
        invoices = [
            (i.id, i.number, i.debtor_id, i.issue_date, i.due_date, i.amount, i.currency, i.wake_at, i.closed_reason)
            for i in s.scalars(select(Invoice).order_by(Invoice.id))
        ]
    return {"debtors": debtors, "invoices": invoices}


def test_valid_file_imports_invoices_and_debtors(installation, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", JAN, JAN_AGAIN, BOUWBEDRIJF)

    assert run_import(installation, path) == ImportResult(
        invoices_added=3, invoices_unchanged=0, debtors_added=2, debtors_updated=0
    )

    with db.transaction(installation) as s:
        invoices = {i.number: i for i in s.scalars(select(Invoice))}
        assert set(invoices) == {"F-2026-001", "F-2026-002", "F-2026-003"}
        first = invoices["F-2026-001"]
        assert type(first.amount) is Decimal and first.amount == Decimal("1234.50")
        assert type(invoices["F-2026-002"].amount) is Decimal and str(invoices["F-2026-002"].amount) == "0.10"
        assert invoices["F-2026-003"].amount == Decimal("999999999999.99")
        assert (first.issue_date, first.due_date, first.currency) == (date(2026, 1, 5), date(2026, 2, 4), "EUR")
        assert invoices["F-2026-002"].debtor is first.debtor
        jan = first.debtor
        assert (jan.number, jan.name, jan.kind, jan.email) == ("D-100", "Jan de Vries", DebtorKind.consumer,
                                                              "jan@example.nl")
        assert (jan.country, jan.language, jan.preferred_channel) == ("NL", "nl", Channel.email)
        business = invoices["F-2026-003"].debtor
        assert business.kind is DebtorKind.business
        # Empty optional fields: no e-mail address means letters; defaults for language and currency.
        assert (business.email, business.phone, business.preferred_channel) == (None, None, Channel.letter)
        assert (business.language, invoices["F-2026-003"].currency) == ("nl", "EUR")


def test_reimporting_the_same_file_changes_nothing(installation, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", JAN, JAN_AGAIN, BOUWBEDRIJF)
    run_import(installation, path)
    before = database_contents(installation)

    assert run_import(installation, path) == ImportResult(
        invoices_added=0, invoices_unchanged=3, debtors_added=0, debtors_updated=0
    )

    after = database_contents(installation)
    assert after == before
    assert (len(after["debtors"]), len(after["invoices"])) == (2, 3)


def test_a_newer_export_updates_the_debtors_contact_data(installation, tmp_path):
    run_import(installation, write_csv(tmp_path / "old.csv", JAN))
    moved = {**JAN, "street": "Kerkstraat 9", "email": "jan@example.com"}

    assert run_import(installation, write_csv(tmp_path / "new.csv", moved)) == ImportResult(0, 1, 0, 1)
    with db.transaction(installation) as s:
        jan = s.scalars(select(Debtor)).one()
        assert (jan.street, jan.email) == ("Kerkstraat 9", "jan@example.com")


BAD_ROWS = {
    "missing amount": ("amount", "", "missing value"),
    "missing debtor name": ("debtor_name", "", "missing value"),
    "missing due date": ("due_date", "", "missing value"),
    "impossible date": ("due_date", "2026-02-30", "not a date (YYYY-MM-DD): '2026-02-30'"),
    "day-first date": ("issue_date", "05-01-2026", "not a date (YYYY-MM-DD): '05-01-2026'"),
    "zero amount": ("amount", "0.00", "amount must not be zero (a credit note has a negative amount): '0.00'"),
    "decimal comma": ("amount", "12,50", "not an amount (use a dot for decimals): '12,50'"),
    "words for an amount": ("amount", "twelve", "not an amount (use a dot for decimals): 'twelve'"),
    "not a number": ("amount", "NaN", "not an amount (use a dot for decimals): 'NaN'"),
    "infinite amount": ("amount", "Infinity", "not an amount (use a dot for decimals): 'Infinity'"),
    "more than two decimals": ("amount", "10.005", "more than two decimals: '10.005'"),
    "amount beyond the column": ("amount", "1000000000000.00", "amount too large"),
    "amount beyond decimal precision": ("amount", "1e30", "not an amount (use a dot for decimals): '1e30'"),
    "unknown kind": ("debtor_kind", "company", "unknown kind 'company' (consumer or business)"),
    "e-mail without domain": ("email", "jan@", "not a valid e-mail address: 'jan@'"),
    "e-mail with a space": ("email", "jan de vries@example.nl", "not a valid e-mail address"),
    "two addresses": ("email", "jan@example.nl,piet@example.nl", "not a valid e-mail address"),
    "line feed in a field": ("debtor_name", "Jan\nde Vries", "line breaks and other control characters"),
    "carriage return and line feed in a field": ("street", "Dorpsstraat 1\r\nBcc: x@example.nl",
                                                 "line breaks and other control characters"),
    "carriage return in a field": ("city", "Utrecht\rX", "line breaks and other control characters"),
    "unicode line separator in a field": ("debtor_name", "Jan\u2028de Vries",
                                          "line breaks and other control characters"),
    # The templates refuse these too: refused here, once, for e-mail and letter alike.
    "tab in a field": ("debtor_name", "Jan\tde Vries", "line breaks and other control characters"),
    "control character in a field": ("street", "Dorpsstraat\x01 1", "line breaks and other control characters"),
    "field longer than the column": ("invoice_number", "F" * 51, "longer than 50 characters"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_row_rejects_the_whole_file_and_leaves_the_database_unchanged(installation, tmp_path, case):
    column, value, reason = BAD_ROWS[case]
    run_import(installation, write_csv(tmp_path / "earlier.csv", JAN))
    before = database_contents(installation)
    # A good new row first: it must not be written either.
    path = write_csv(tmp_path / "invoices.csv", JAN_AGAIN, {**BOUWBEDRIJF, column: value})

    with pytest.raises(UserError) as e:
        run_import(installation, path)

    assert str(e.value).startswith(f"{path}:3:{column}: {reason}")
    assert "\n" not in str(e.value) and "\r" not in str(e.value)
    assert database_contents(installation) == before


def csv_line(row: dict[str, str]) -> str:
    return ",".join(f'"{v}"' if "\n" in v else v for v in row.values())


def test_row_numbers_are_line_numbers_in_the_file(installation, tmp_path):
    path = tmp_path / "invoices.csv"
    header = ",".join(COLUMNS)
    broken_name = csv_line({**JAN_AGAIN, "debtor_name": "Jan\nde Vries"})  # lines 4 and 5
    negative = csv_line({**BOUWBEDRIJF, "amount": "twelve"})
    path.write_text("\n".join([header, "", csv_line(JAN), broken_name, "", negative, ""]), encoding="utf-8")

    with pytest.raises(UserError, match=rf"^{path}:4:debtor_name: line breaks and other control characters"):
        run_import(installation, path)

    path.write_text("\n".join([header, "", csv_line(JAN), csv_line(JAN_AGAIN), "", negative, ""]), encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}:6:amount: not an amount"):
        run_import(installation, path)


def test_a_bare_carriage_return_outside_quotes_still_rejects_the_file(installation, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(",".join(COLUMNS) + "\n" + csv_line({**JAN, "city": "Utrecht\rX"}) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}:2:"):
        run_import(installation, path)
    assert database_contents(installation) == {"debtors": [], "invoices": []}


def test_an_invoice_the_books_changed_is_corrected_with_a_dossier_entry(installation, tmp_path):
    run_import(installation, write_csv(tmp_path / "first.csv", JAN))
    raised = write_csv(tmp_path / "second.csv", {**JAN, "amount": "1300.00", "due_date": "2026-02-18"})
    assert run_import(installation, raised).invoices_corrected == 1
    lowered = write_csv(tmp_path / "third.csv", {**JAN, "amount": "1200.00", "due_date": "2026-02-18"})
    assert run_import(installation, lowered).invoices_corrected == 1
    assert run_import(installation, lowered).invoices_unchanged == 1, "the same file again changes nothing"
    with db.transaction(installation) as s:
        invoice = s.scalars(select(Invoice).where(Invoice.number == "F-2026-001")).one()
        assert invoice.due_date == date(2026, 2, 18)
        assert invoice.amount == Decimal("1300.00"), "the higher amount is the invoice's; the lower one a credit"
        assert invoices_.open_amount(s, invoice) == Decimal("1200.00")
        notes = [e.summary for e in dossier.entries(s, invoice) if e.summary.startswith("corrected by import")]
    assert notes == [
        f"corrected by import ({raised}): due date 2026-02-04 -> 2026-02-18; amount 1234.50 -> 1300.00",
        f"corrected by import ({lowered}): amount 1300.00 -> 1200.00",
    ]


def test_an_invoice_moved_to_another_debtor_is_refused_and_nothing_changes(installation, tmp_path):
    run_import(installation, write_csv(tmp_path / "first.csv", JAN))
    before = database_contents(installation)
    path = write_csv(tmp_path / "second.csv", {**JAN, "debtor_number": "D-999"})
    expected = rf"^{path}:2:debtor_number: invoice F-2026-001 belongs to debtor D-100, not D-999"
    with pytest.raises(UserError, match=expected):
        run_import(installation, path)
    assert database_contents(installation) == before


def test_a_move_found_after_rows_were_written_leaves_the_database_as_it_was(installation, tmp_path, monkeypatch):
    # The file is checked and written in one pass, a chunk at a time: what the earlier chunks wrote is taken back.
    from dunning.casework import books

    monkeypatch.setattr(books, "BULK", 1)
    run_import(installation, write_csv(tmp_path / "first.csv", JAN))
    before = database_contents(installation)
    fresh = {**JAN, "invoice_number": "F-2026-777", "debtor_number": "D-777", "debtor_name": "Nieuw BV"}
    path = write_csv(tmp_path / "second.csv", fresh, {**JAN, "debtor_number": "D-999"})
    with pytest.raises(UserError, match=rf"^{path}:3:debtor_number: invoice F-2026-001 belongs to debtor D-100"):
        run_import(installation, path)
    assert database_contents(installation) == before


def test_a_bad_row_anywhere_is_named_before_a_move_found_earlier(installation, tmp_path, monkeypatch):
    from dunning.casework import books

    monkeypatch.setattr(books, "BULK", 1)
    run_import(installation, write_csv(tmp_path / "first.csv", JAN))
    bad_date = {**JAN, "invoice_number": "F-2026-778", "due_date": "2026-13-01"}
    path = write_csv(tmp_path / "second.csv", {**JAN, "debtor_number": "D-999"}, bad_date)
    with pytest.raises(UserError, match=rf"^{path}:3:due_date: not a date"):
        run_import(installation, path)


def test_a_column_without_a_name_is_left_alone_while_empty_and_refused_with_a_value(installation, tmp_path):
    header = ",".join(COLUMNS)
    line = csv_line(JAN)
    path = tmp_path / "trailing.csv"
    path.write_text(f"{header},\n{line},\n", encoding="utf-8")  # an export that ends every line with a delimiter
    assert run_import(installation, path).invoices_added == 1
    path = tmp_path / "spacer.csv"
    path.write_text(f"{header},\n{line},kept?\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}:2: a value \('kept\?'\) in column {len(COLUMNS) + 1}, which has "
                       "no name in the header"):
        run_import(installation, path)


def test_missing_column_names_the_column(installation, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_number,debtor_number\nF-1,D-1\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"^{path}:1:debtor_name: missing column"):
        run_import(installation, path)


# --- through the CLI --------------------------------------------------------------------------------------


def dunning(installation, *args: str) -> subprocess.CompletedProcess[str]:
    """`dunning ARGS` on this installation, in this process (tests/support/cli.py): exit code, stdout, stderr."""
    env = {"DUNNING_HOME": str(installation.home), "DUNNING_DATABASE_URL": installation.database_url}
    return cli.run(*args, env=env)


def dunning_process(installation, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `dunning` executable: for what only a process shows (the entry point, its exit code)."""
    env = {**os.environ, "DUNNING_HOME": str(installation.home), "DUNNING_DATABASE_URL": installation.database_url}
    return subprocess.run([str(DUNNING), *args], env=env, capture_output=True, text=True, timeout=60)


def test_cli_imports_a_good_file_and_prints_a_summary(installation, tmp_path):
    path = write_csv(tmp_path / "invoices.csv", JAN, JAN_AGAIN, BOUWBEDRIJF)

    done = dunning(installation, "import", "invoices", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: 3 invoices added, 0 unchanged; 2 debtors added, 0 updated\n"
    assert len(database_contents(installation)["invoices"]) == 3
    again = dunning(installation, "import", "invoices", str(path))
    assert again.stdout == f"{path}: 0 invoices added, 3 unchanged; 0 debtors added, 0 updated\n"


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", "0.00"), ("issue_date", "2026-13-01"), ("debtor_kind", "alien"), ("email", "no-at-sign"),
     ("debtor_name", "Jan\r\nde Vries")],
)
def test_cli_rejects_a_bad_file_with_one_line_and_exit_code_2(installation, tmp_path, column, value):
    run_import(installation, write_csv(tmp_path / "earlier.csv", JAN))
    before = database_contents(installation)
    path = write_csv(tmp_path / "invoices.csv", JAN_AGAIN, {**BOUWBEDRIJF, column: value})

    done = dunning(installation, "import", "invoices", str(path))

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"dunning: error: {path}:3:{column}: ")
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert database_contents(installation) == before


def test_cli_reports_a_missing_file_in_one_line(installation, tmp_path):
    done = dunning_process(installation, "import", "invoices", str(tmp_path / "nope.csv"))  # the real executable
    assert (done.returncode, done.stderr) == (2, f"dunning: error: {tmp_path / 'nope.csv'}: no such file\n")


def test_optional_preferred_channel_column_sets_and_validates_the_debtors_channel(installation, tmp_path):
    header = ",".join(COLUMNS) + ",preferred_channel"
    row = "F-9,D-9,Jan,consumer,jan@example.com,,Kerkstraat 1,1017 GA,Amsterdam,NL,nl,2026-01-01,2026-01-31,10.00,EUR"
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\n{row},letter\n", encoding="utf-8")
    with db.transaction(installation) as s:
        import_invoices(s, good)
        assert s.scalars(select(Debtor)).one().preferred_channel is Channel.letter
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{row},pigeon\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.csv:2:preferred_channel: unknown channel 'pigeon'"):
        with db.transaction(installation) as s:
            import_invoices(s, bad)


def test_optional_call_times_column_says_when_to_call_and_refuses_a_line_break(installation, tmp_path):
    header = ",".join(COLUMNS) + ",call_times"
    row = "F-9,D-9,Jan,consumer,jan@example.com,,Kerkstraat 1,1017 GA,Amsterdam,NL,nl,2026-01-01,2026-01-31,10.00,EUR"
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\n{row},weekdays after 14:00\n", encoding="utf-8")
    with db.transaction(installation) as s:
        import_invoices(s, good)
        assert s.scalars(select(Debtor)).one().call_times == "weekdays after 14:00"
    bad = tmp_path / "bad.csv"
    bad.write_text(f'{header}\n{row},"mornings\nonly"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.csv:2:call_times: line breaks and other control characters"):
        with db.transaction(installation) as s:
            import_invoices(s, bad)


def test_the_contact_person_and_how_to_greet_them_reach_the_letters(installation, tmp_path):
    from datetime import UTC, datetime

    from dunning.domain.policy import DEFAULT
    from dunning.domain.steps import Step
    from dunning.messaging import compose

    header = ",".join(COLUMNS) + ",contact_name,contact_salutation"
    row = ("F-9,D-9,Café De Markt,business,markt@example.com,,Markt 1,1017 GA,Amsterdam,NL,nl,2026-01-01,2026-01-31,"
           "10.00,EUR")
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\n{row},Zoë de Wit,mevrouw\n", encoding="utf-8")
    with db.transaction(installation) as s:
        import_invoices(s, good)
        invoice = invoices_.get(s, "F-9")
        assert (invoice.debtor.contact_name, invoice.debtor.contact_salutation) == ("Zoë de Wit", "mevrouw")
        text = compose.preview_email(s, installation, invoice, Step.parse("herinnering"),
                                     datetime(2026, 2, 9, 9, 0, tzinfo=UTC), DEFAULT)[1]
    assert text.startswith("Geachte mevrouw De Wit,")
