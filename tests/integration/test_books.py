"""The books as the accounting package keeps them, through the `dunning` command on SQLite and PostgreSQL: UBL
e-invoices and credit notes (the public samples, and documents written here), corrections that follow the books,
the open-items list settling what the ledger no longer has open, and broken files that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dunning.storage import db
from dunning.storage.models import Debtor, DossierEntry, Invoice
from tests.conftest import SAMPLES
from tests.integration.test_letters import pdf_text
from tests.support import cli
from tests.unit.documents.test_ubl import CONSUMER, PDF, attachment, ubl


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def invoices() -> dict[str, dict]:
    return {r["invoice"]: r for r in json.loads(ok(cli.run("invoices", "--json")).stdout)}


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def counts(inst) -> tuple[int, int, int]:
    with db.transaction(inst) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Invoice, Debtor, DossierEntry))


@pytest.fixture
def home(installation):
    ok(cli.run("clock", "set", "2026-03-05T09:00"))
    return installation


# --- e-invoices -------------------------------------------------------------------------------------------------

def test_an_e_invoice_brings_its_buyer_and_its_pdf_and_a_credit_note_lowers_what_is_open(home, tmp_path):
    out = ok(cli.run("import", "invoices", str(write(tmp_path, "inv.xml", ubl(attachments=attachment(PDF))))))
    assert "1 invoices added" in out.stdout
    row = invoices()["2026-0042"]
    assert (row["debtor"], row["amount"], row["open"], row["due_date"]) == ("D-1042", "1250.00", "1250.00",
                                                                           "2026-04-01")
    assert home.invoice_copy("2026-0042").read_bytes() == PDF, "kept where 'send a copy' finds it"
    with db.transaction(home) as s:
        debtor = s.scalars(select(Debtor).where(Debtor.number == "D-1042")).one()
        assert (debtor.kind.value, debtor.contact_name, debtor.company_id, debtor.vat_id, debtor.email) == (
            "business", "Anna de Vries", "69599084", "NL001234567B01", "administratie@demarkt.nl")

    credit = ubl(root="CreditNote", number="CN-7", amount="250.00", due=None, references=("2026-0042",))
    out = ok(cli.run("import", "invoices", str(write(tmp_path, "cn.xml", credit))))
    assert "1 credit notes" in out.stdout
    row = invoices()["2026-0042"]
    assert (row["credited"], row["open"]) == ("250.00", "1000.00")
    again = ok(cli.run("import", "invoices", str(tmp_path / "cn.xml")))
    assert "credit notes" not in again.stdout
    assert invoices()["2026-0042"]["open"] == "1000.00", "the same credit note twice credits once"


def test_a_credit_note_for_the_whole_amount_pays_nothing_more_and_one_without_reference_is_a_credit(home, tmp_path):
    ok(cli.run("import", "invoices", str(write(tmp_path, "inv.xml", ubl()))))
    whole = ubl(root="CreditNote", number="CN-1", amount="1250.00", due=None, references=("2026-0042",))
    ok(cli.run("import", "invoices", str(write(tmp_path, "cn1.xml", whole))))
    assert (invoices()["2026-0042"]["open"], invoices()["2026-0042"]["status"]) == ("0.00", "credited")
    loose = ubl(root="CreditNote", number="CN-2", amount="40.00", due=None)
    ok(cli.run("import", "invoices", str(write(tmp_path, "cn2.xml", loose))))
    [credit] = json.loads(ok(cli.run("credits", "--json")).stdout)
    assert (credit["debtor"], credit["amount"]) == ("D-1042", "40.00")


def test_a_buyer_without_registration_takes_the_installations_default_kind_or_the_one_given(home, tmp_path):
    ok(cli.run("import", "invoices", str(write(tmp_path, "a.xml", ubl(number="C-1", buyer=CONSUMER)))))
    ok(cli.run("import", "invoices", "--kind", "consumer",
               str(write(tmp_path, "b.xml", ubl(number="C-2", buyer=CONSUMER.replace("J. Jansen", "K. Klaas"))))))
    with db.transaction(home) as s:
        kinds = {d.name: d.kind.value for d in s.scalars(select(Debtor))}
    assert kinds == {"J. Jansen": "business", "K. Klaas": "consumer"}


@pytest.mark.parametrize("name", sorted(p.name for p in (SAMPLES / "ubl").glob("*.xml")) or ["(no samples)"])
def test_every_public_ubl_sample_imports_once(home, tmp_path, name):
    if not (SAMPLES / "ubl" / name).is_file():
        pytest.skip(f"no public samples at {SAMPLES / 'ubl'}")
    sample = SAMPLES / "ubl" / name
    if "creditnote" in name:  # one crediting an invoice we do not have is refused; without a reference, a credit
        result = cli.run("import", "invoices", str(sample))
        assert result.returncode in (0, 2), result.stderr
        if result.returncode == 2:
            assert "which is not in the books here" in result.stderr
        return
    first = ok(cli.run("import", "invoices", str(sample))).stdout
    assert "1 invoices added" in first
    assert "0 invoices added, 1 unchanged" in ok(cli.run("import", "invoices", str(sample))).stdout


def test_a_broken_e_invoice_is_refused_naming_the_element_and_nothing_changes(home, tmp_path):
    ok(cli.run("import", "invoices", str(write(tmp_path, "good.xml", ubl()))))
    before = counts(home)
    for name, data, what in (
        ("truncated.xml", ubl()[:-60], "not well-formed XML"),
        ("no-date.xml", ubl(number="X-1", issue=""), "cbc:IssueDate"),
        ("comma.xml", ubl(number="X-2", amount="1250,00"), "cbc:PayableAmount"),
        ("unknown.xml", ubl(root="CreditNote", number="CN-9", due=None, references=("NOPE",)), "NOPE"),
    ):
        result = cli.run("import", "invoices", str(write(tmp_path, name, data)))
        assert result.returncode == 2 and what in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert counts(home) == before


# --- corrections ------------------------------------------------------------------------------------------------

def test_a_lower_amount_and_a_later_due_date_from_the_books_correct_the_invoice_and_the_next_message(home, tmp_path):
    ok(cli.run("import", "invoices", str(write(tmp_path, "v1.xml", ubl(buyer=CONSUMER)))))
    corrected = ubl(buyer=CONSUMER, amount="1100.00", due="2026-04-15")
    out = ok(cli.run("import", "invoices", str(write(tmp_path, "v2.xml", corrected)))).stdout
    assert "1 corrected" in out
    row = invoices()["2026-0042"]
    assert (row["amount"], row["credited"], row["open"], row["due_date"]) == ("1250.00", "150.00", "1100.00",
                                                                             "2026-04-15")
    notes = [e["summary"] for e in json.loads(ok(cli.run("dossier", "2026-0042", "--json")).stdout)]
    assert any(n.startswith("corrected by import (") and "due date 2026-04-01 -> 2026-04-15; amount 1250.00 -> "
               "1100.00" in n for n in notes), notes
    ok(cli.run("preview", "2026-0042", "--step", "herinnering", "--channel", "letter", "--out", str(tmp_path / "p")))
    [letter] = list((tmp_path / "p").glob("*.pdf"))
    assert "Nog te betalen EUR 1.100,00" in pdf_text(letter.read_bytes())


def test_the_contact_person_is_addressed_in_the_letter(home, tmp_path):
    ok(cli.run("import", "invoices", str(write(tmp_path, "inv.xml", ubl()))))
    ok(cli.run("preview", "2026-0042", "--step", "herinnering", "--channel", "letter", "--out", str(tmp_path / "p")))
    [letter] = list((tmp_path / "p").glob("*.pdf"))
    text = pdf_text(letter.read_bytes())
    assert "Grand Café De Markt B.V. t.a.v. Anna de Vries Markt 12a" in text
    assert "Geachte heer, mevrouw," in text  # formal, the contact's title not known


# --- open items ---------------------------------------------------------------------------------------------------

def _three(tmp_path: Path) -> None:
    for number in ("OI-1", "OI-2", "OI-3"):
        ok(cli.run("import", "invoices", str(write(tmp_path, f"{number}.xml", ubl(number=number, amount="100.00")))))


def test_the_ledgers_open_items_settle_what_it_no_longer_has_open(home, tmp_path):
    _three(tmp_path)
    ok(cli.run("import", "invoices", str(write(tmp_path, "OI-4.xml", ubl(number="OI-4", amount="100.00")))))
    items = write(tmp_path, "open-items.csv", "invoice_number;open_amount\nOI-2;60,00\nOI-3;100,00\nOI-4;100,00\n")
    dry = ok(cli.run("import", "open-items", str(items), "--as-of", "2026-03-04", "--dry-run")).stdout
    assert dry.startswith("would be: ") and invoices()["OI-1"]["open"] == "100.00"
    out = ok(cli.run("import", "open-items", str(items), "--as-of", "2026-03-04")).stdout
    assert "1 settled in the ledger, 1 part paid, 2 unchanged" in out
    rows = invoices()
    assert (rows["OI-1"]["open"], rows["OI-1"]["status"]) == ("0.00", "settled")
    assert rows["OI-2"]["open"] == "60.00"
    summaries = [e["summary"] for e in json.loads(ok(cli.run("dossier", "OI-1", "--json")).stdout)]
    assert any("settled in the ledger" in s and "2026-03-04" in s for s in summaries)
    older = cli.run("import", "open-items", str(items), "--as-of", "2026-03-01")
    assert older.returncode == 2 and "before the last open-items sync of 2026-03-04" in older.stderr


def test_an_empty_list_or_one_settling_most_open_invoices_is_refused_unless_forced(home, tmp_path):
    _three(tmp_path)
    empty = cli.run("import", "open-items", str(write(tmp_path, "e.csv", "invoice_number,open_amount\n")),
                    "--as-of", "2026-03-04")
    assert empty.returncode == 2
    most = write(tmp_path, "m.csv", "invoice_number,open_amount\nOI-3,100.00\n")
    refused = cli.run("import", "open-items", str(most), "--as-of", "2026-03-04")
    assert refused.returncode == 2 and "would settle 2 of 3 open invoices" in refused.stderr
    assert invoices()["OI-1"]["open"] == "100.00"
    ok(cli.run("import", "open-items", str(most), "--as-of", "2026-03-04", "--force"))
    assert invoices()["OI-1"]["status"] == "settled"


# --- spreadsheet exports -------------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_readme_example_export_imports_with_its_mapping_file_credit_note_included(home):
    out = ok(cli.run("import", "invoices", str(EXAMPLES / "exact-export.csv"),
                     "--columns", str(EXAMPLES / "exact-export-mapping.toml"))).stdout
    assert "3 invoices added" in out and "1 credit notes" in out
    rows = invoices()
    assert (rows["2026-0117"]["amount"], rows["2026-0117"]["credited"], rows["2026-0117"]["open"]) == (
        "1250.00", "250.00", "1000.00")
    assert rows["2026-0131"]["amount"] == "18400.50"
    with db.transaction(home) as s:
        debtor = s.scalars(select(Debtor).where(Debtor.number == "10042")).one()
        assert (debtor.name, debtor.contact_name, debtor.kind.value) == ("Grand Café De Markt B.V.", "Zoë Jansen",
                                                                          "business")


def test_a_semicolon_export_with_decimal_commas_in_windows_1252_imports_as_it_is(home, tmp_path):
    lines = ["invoice_number;debtor_number;debtor_name;debtor_kind;contact_name;email;issue_date;due_date;amount",
             "W-1;D-7;Café Zoë;consumer;;zoe@example.nl;2026-01-05;2026-02-04;1.234,56",
             "W-2;D-7;Café Zoë;consumer;;zoe@example.nl;2026-01-06;2026-02-05;-34,56"]
    path = write(tmp_path, "export.csv", ("\r\n".join(lines) + "\r\n").encode("cp1252"))
    ok(cli.run("import", "invoices", str(path)))
    rows = invoices()
    assert rows["W-1"]["amount"] == "1234.56"
    [credit] = json.loads(ok(cli.run("credits", "--json")).stdout)
    assert (credit["debtor"], credit["amount"]) == ("D-7", "34.56"), "a credit note without an invoice"
    with db.transaction(home) as s:
        assert s.scalars(select(Debtor.name)).one() == "Café Zoë"


def test_a_broken_export_names_row_and_column_and_changes_nothing(home, tmp_path):
    lines = ["invoice_number;debtor_number;debtor_name;debtor_kind;issue_date;due_date;amount",
             "B-1;D-1;Jan;consumer;2026-01-05;2026-02-04;100,00",
             "B-2;D-1;Jan;consumer;2026-01-05;2026-02-04;1.00,5"]
    path = write(tmp_path, "bad.csv", "\n".join(lines) + "\n")
    result = cli.run("import", "invoices", str(path))
    assert result.returncode == 2 and result.stderr.startswith(f"dunning: error: {path}:3:amount: "), result.stderr
    assert counts(home)[0] == 0


def test_the_readers_length_limits_are_the_columns(home):
    from dunning.documents import spreadsheet
    from dunning.storage.models import Debtor as D
    from dunning.storage.models import Invoice as I

    assert spreadsheet.INVOICE_NUMBER_LENGTH == I.__table__.c["number"].type.length
    for column, limit in spreadsheet.MAX_LENGTH.items():
        attr = {"debtor_number": "number", "debtor_name": "name"}.get(column, column)
        table = I.__table__ if column in ("invoice_number", "credits_invoice") else D.__table__
        attr = "number" if column in ("invoice_number", "credits_invoice") else attr
        assert table.c[attr].type.length == limit, column


# --- a streamed export, taken in chunk by chunk (issue 13) -------------------------------------------------------


def _import(inst, path: Path):
    from datetime import UTC, datetime

    from dunning.casework.importer import import_invoices

    with db.transaction(inst) as s:
        return import_invoices(s, path, datetime(2026, 3, 5, 9, 0, tzinfo=UTC))


STREAMED = ["invoice_number,debtor_number,debtor_name,debtor_kind,issue_date,due_date,amount,credits_invoice",
            "C-1,D-1,Jan,consumer,2026-01-06,2026-02-05,-10.00,S-5",  # before its invoice, chunks later
            "S-1,D-1,Jan,consumer,2026-01-05,2026-02-04,100.00,",
            "S-2,D-2,Piet,consumer,2026-01-05,2026-02-04,200.00,",
            "S-3,D-1,Jan,consumer,2026-01-05,2026-02-04,300.00,",
            "S-4,D-2,Piet,consumer,2026-01-05,2026-02-04,400.00,",
            "S-5,D-1,Jan,consumer,2026-01-05,2026-02-04,500.00,",
            "C-2,D-1,Jan,consumer,2026-01-06,2026-02-05,-20.00,S-1"]  # after its invoice, chunks earlier


def test_a_streamed_export_in_many_chunks_takes_credit_notes_before_and_after_their_invoice(
        installation, tmp_path, monkeypatch):
    from dunning.casework import books

    monkeypatch.setattr(books, "BULK", 2)  # chunks of two records: every credit note's invoice in another chunk
    result = _import(installation, write(tmp_path, "export.csv", "\n".join(STREAMED) + "\n"))
    assert (result.invoices_added, result.credit_notes, result.debtors_added) == (5, 2, 2)
    assert counts(installation)[:2] == (5, 2)


def test_a_credit_note_on_another_debtors_invoice_chunks_earlier_refuses_the_file_before_anything_is_written(
        installation, tmp_path, monkeypatch):
    from dunning.casework import books
    from dunning.domain.errors import UserError

    monkeypatch.setattr(books, "BULK", 2)
    lines = [*STREAMED[:-1], "C-2,D-1,Jan,consumer,2026-01-06,2026-02-05,-20.00,S-2"]  # S-2 is Piet's
    path = write(tmp_path, "export.csv", "\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"export.csv:8:credits_invoice: credits invoice S-2 of debtor D-2, not of D-1"):
        _import(installation, path)
    assert counts(installation) == (0, 0, 0)


def test_a_bulk_take_in_gives_postgresql_the_tables_statistics(installation, tmp_path, monkeypatch):
    from sqlalchemy import text

    from dunning.casework import books

    if not installation.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL plans by statistics; SQLite by its indexes")
    monkeypatch.setattr(books, "ANALYZE_AFTER", 5)  # as 1,000 rows would
    _import(installation, write(tmp_path, "export.csv", "\n".join(STREAMED) + "\n"))
    with db.transaction(installation) as s:
        assert s.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'invoice'")) == 5, \
            "ANALYZE counted the rows the import wrote"
