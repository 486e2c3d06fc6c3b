"""Bank statements as the source of payments, through the `dunning` command on SQLite and PostgreSQL: every
matching rule, split, part and overpayments, a payment taken back, the same and overlapping statements, and
broken files that change nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dunning.bank.references import payment_reference, printed
from dunning.casework import human_tasks
from dunning.casework import invoices as invoices_
from dunning.desk import sheets
from dunning.domain.kinds import Channel, OutboxStatus, TaskKind
from dunning.domain.steps import Message, Step
from dunning.storage import db
from dunning.storage.models import BankLine, DossierEntry, OutboxMessage, Payment
from tests.integration.test_letters import pdf_text
from tests.support import cli
from tests.support.engine import COLUMNS, row
from tests.support.statements import Movement, camt, mt940, write


@pytest.fixture
def home(installation, tmp_path):
    """An installation with three invoices of one debtor (oldest due first) and one of another."""
    rows = [
        {**row("2026-1001", "D1", "business", "d1@example.com", amount="100.00", due="2026-01-05"),
         "debtor_name": "Jansen Installatietechniek B.V.", "iban": "NL02 ABNA 0123 4567 89"},
        {**row("2026-1002", "D1", "business", "d1@example.com", amount="200.00", due="2026-01-12"),
         "debtor_name": "Jansen Installatietechniek B.V.", "iban": "NL02 ABNA 0123 4567 89"},
        {**row("2026-1003", "D1", "business", "d1@example.com", amount="300.00", due="2026-01-19"),
         "debtor_name": "Jansen Installatietechniek B.V.", "iban": "NL02 ABNA 0123 4567 89"},
        {**row("F-77", "D2", "consumer", "d2@example.com", amount="1210.00", due="2026-01-05"),
         "debtor_name": "Piet de Boer"},
    ]
    columns = [*COLUMNS, "iban"]
    lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]
    path = write(tmp_path, "invoices.csv", "\n".join(lines) + "\n")
    ok(cli.run("import", "invoices", str(path)))
    ok(cli.run("clock", "set", "2026-02-03T09:00"))
    return installation


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def invoices(**filters) -> dict[str, dict]:
    args = ["invoices", "--json"] + [a for k, v in filters.items() for a in (f"--{k}", v)]
    return {r["invoice"]: r for r in json.loads(ok(cli.run(*args)).stdout)}


def opened() -> dict[str, str]:
    return {n: r["open"] for n, r in invoices().items()}


def payments(*flags: str) -> list[dict]:
    return json.loads(ok(cli.run("payments", "--json", *flags)).stdout)


def import_bank(*paths) -> str:
    return ok(cli.run("import", "bank", *map(str, paths))).stdout


def lines_stored(inst) -> int:
    with db.transaction(inst) as s:
        return s.scalar(select(func.count()).select_from(BankLine))


# --- the rules, in order -------------------------------------------------------------------------------------

def test_the_payment_reference_we_stated_matches_its_invoice_even_with_an_unrelated_description(home, tmp_path):
    reference = payment_reference("2026-1002")
    statement = write(tmp_path, "s.xml", camt([
        Movement("200.00", reference=reference, remittance="betaling"),  # structured, as a banking app sends it
        Movement("50.00", name="Piet de Boer", iban="NL18RABO0123459876",
                 remittance=f"kenmerk {printed(payment_reference('F-77'))} dank"),  # typed into the description
    ]))
    out = import_bank(statement)
    assert "2 lines read, 2 payments, 2 matched, 0 unmatched, 0 already known" in out
    assert opened() == {"2026-1001": "100.00", "2026-1002": "0.00", "2026-1003": "300.00", "F-77": "1160.00"}
    assert [(p["status"], p["invoices"]) for p in payments()] == [
        ("matched", [{"invoice": "2026-1002", "amount": "200.00"}]),
        ("matched", [{"invoice": "F-77", "amount": "50.00"}]),
    ]


def test_invoice_numbers_in_the_description_share_the_amount_oldest_first(home, tmp_path):
    statement = write(tmp_path, "s.xml", camt([
        Movement("250.00", iban="NL44RABO0987654321", remittance="fact 2026 1003 en 2026-1001"),
    ]))
    import_bank(statement)
    assert opened()["2026-1001"] == "0.00", "the oldest first, in full"
    assert opened()["2026-1003"] == "150.00", "then the next named one with what is left"
    assert opened()["2026-1002"] == "200.00", "an invoice not named is not paid"
    [line] = payments()
    assert line["invoices"] == [{"invoice": "2026-1001", "amount": "100.00"},
                                {"invoice": "2026-1003", "amount": "150.00"}]


def test_a_split_payment_over_three_invoices_pays_each_in_full(home, tmp_path):
    import_bank(write(tmp_path, "s.xml", camt([
        Movement("600.00", remittance="Facturen 2026-1001, 2026-1002 en factuurnr 2026-1003"),
    ])))
    assert {n: r["status"] for n, r in invoices(debtor="D1").items()} == dict.fromkeys(
        ("2026-1001", "2026-1002", "2026-1003"), "paid")


def test_the_debtors_account_with_the_amount_of_one_open_invoice_or_of_all_of_them(home, tmp_path):
    import_bank(write(tmp_path, "one.xml", camt([Movement("200.00", iban="NL02ABNA0123456789")])))
    assert opened()["2026-1002"] == "0.00", "the one open invoice of exactly this amount"
    import_bank(write(tmp_path, "all.xml", camt([Movement("400.00", iban="NL02ABNA0123456789",
                                                         bank_reference="B-2")])))
    assert opened() == {"2026-1001": "0.00", "2026-1002": "0.00", "2026-1003": "0.00", "F-77": "1210.00"}
    assert [p["status"] for p in payments()] == ["matched", "matched"]


def test_an_amount_that_fits_no_rule_is_left_for_a_person_with_likely_invoices(home, tmp_path):
    import_bank(write(tmp_path, "s.xml", camt([
        Movement("120.00", name="JANSEN INSTALLATIE", iban="NL55INGB0001234567", remittance="zie mail"),
    ])))
    [line] = payments("--unmatched")
    assert (line["status"], line["invoices"], line["amount"], line["iban"]) == (
        "unmatched", [], "120.00", "NL55INGB0001234567")
    listing = ok(cli.run("payments", "--unmatched")).stdout
    assert "likely: 2026-1001" in listing, "the debtor's name on the line points at their invoices"

    refused = cli.run("payments", "match", str(line["id"]), "--invoice", "2026-1001", "--amount", "130.00")
    assert refused.returncode == 2 and "more than is open on it (100.00)" in refused.stderr
    ok(cli.run("payments", "match", str(line["id"]), "--invoice", "2026-1001", "--invoice", "2026-1002",
               "--by", "Anna"))
    assert (opened()["2026-1001"], opened()["2026-1002"]) == ("0.00", "180.00")
    assert payments("--unmatched") == []
    again = cli.run("payments", "match", str(line["id"]), "--invoice", "2026-1003")
    assert again.returncode == 2 and "not unmatched" in again.stderr


def test_a_line_that_is_no_debtor_payment_is_set_aside_with_a_reason(home, tmp_path):
    import_bank(write(tmp_path, "s.xml", camt([Movement("12.34", name="Leverancier", remittance="creditnota")])))
    [line] = payments("--unmatched")
    missing = cli.run("payments", "ignore", str(line["id"]), "--reason", "  ")
    assert missing.returncode == 2
    ok(cli.run("payments", "ignore", str(line["id"]), "--reason", "refund from a supplier"))
    [line] = payments()
    assert (line["status"], line["note"]) == ("ignored", "refund from a supplier")


# --- what a payment does ------------------------------------------------------------------------------------

def test_more_than_is_open_leaves_a_credit_that_a_person_applies_to_the_next_invoice(home, tmp_path):
    import_bank(write(tmp_path, "s.xml", camt([Movement("150.00", reference=payment_reference("2026-1001"))])))
    assert opened()["2026-1001"] == "0.00"
    [credit] = json.loads(ok(cli.run("credits", "--json")).stdout)
    assert (credit["debtor"], credit["amount"], credit["next_invoice"]) == ("D1", "50.00", "2026-1002")
    with db.transaction(home) as s:  # the collector calling about the next invoice sees it, to offer it
        invoice = invoices_.get(s, "2026-1002")
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), datetime(2026, 2, 3, tzinfo=UTC))
        sheet = sheets.call_sheet(s, invoice, task, "first call", language="en")
    assert "| Credit with us | EUR 50.00 paid beyond what was open" in sheet
    ok(cli.run("credits", "apply", str(credit["id"]), "--invoice", "2026-1002", "--by", "Anna"))
    assert opened()["2026-1002"] == "150.00"
    assert json.loads(ok(cli.run("credits", "--json")).stdout) == []
    other = cli.run("credits", "apply", str(credit["id"]), "--invoice", "2026-1003")
    assert other.returncode == 2, "a credit is applied once"


def test_a_payment_the_bank_takes_back_reopens_the_invoice_and_says_so_in_the_dossier(home, tmp_path):
    paid = Movement("1210.00", name="Piet de Boer", iban="NL18RABO0123459876", end_to_end="E2E-77",
                    reference=payment_reference("F-77"), bank_reference="IN-1")
    import_bank(write(tmp_path, "in.xml", camt([paid])))
    assert invoices()["F-77"]["status"] == "paid"
    returned = Movement("1210.00", credit=False, name="Piet de Boer", iban="NL18RABO0123459876",
                        end_to_end="E2E-77", return_reason="AC06", bank_reference="OUT-1", booked=date(2026, 2, 4))
    out = import_bank(write(tmp_path, "out.xml", camt([returned], statement_id="STMT-2")))
    assert "1 reversed" in out
    assert (invoices()["F-77"]["status"], invoices()["F-77"]["open"]) == ("open", "1210.00")
    assert [p["status"] for p in payments()] == ["reversed", "reversed"]
    summaries = [e["summary"] for e in json.loads(ok(cli.run("dossier", "F-77", "--json")).stdout)]
    assert any("taken back by the bank" in s and "AC06" in s for s in summaries), summaries


def test_each_payment_is_a_dossier_entry_naming_the_statement_line(home, tmp_path):
    import_bank(write(tmp_path, "s.xml", camt([Movement("100.00", reference=payment_reference("2026-1001"))])))
    [entry] = [e for e in json.loads(ok(cli.run("dossier", "2026-1001", "--json")).stdout) if e["kind"] == "payment"]
    assert entry["summary"].startswith("payment of EUR 100.00 on 2026-02-02 (bank from J. Jansen (NL02ABNA0123456789)")
    assert "s.xml entry 1" in entry["summary"]


# --- once, and only ours -------------------------------------------------------------------------------------

def test_the_same_statement_twice_and_an_overlapping_one_change_nothing(home, tmp_path):
    first = [Movement("100.00", reference=payment_reference("2026-1001")),
             Movement("35.00", remittance="2026-1002", booked=date(2026, 2, 3))]
    import_bank(write(tmp_path, "feb-2.940", mt940(first)))
    before = (opened(), lines_stored(home))
    out = import_bank(write(tmp_path, "feb-2-again.940", mt940(first)))
    assert "2 lines read, 0 payments, 0 matched, 0 unmatched, 2 already known" in out
    overlapping = [first[1], Movement("300.00", remittance="2026-1003", booked=date(2026, 2, 4))]
    out = import_bank(write(tmp_path, "feb-3.940", mt940(overlapping, opening="1100.00")))
    assert "2 lines read, 1 payments, 1 matched, 0 unmatched, 1 already known" in out
    assert opened()["2026-1002"] == before[0]["2026-1002"] == "165.00", "the shared line counted once"
    assert lines_stored(home) == before[1] + 1


def test_two_equal_payments_on_one_day_are_two_payments(home, tmp_path):
    twice = [Movement("50.00", remittance="2026-1003"), Movement("50.00", remittance="2026-1003")]
    import_bank(write(tmp_path, "s.940", mt940(twice)))
    assert opened()["2026-1003"] == "200.00"


def test_debits_are_not_payments_and_a_statement_of_another_account_is_refused(home, tmp_path):
    out = import_bank(write(tmp_path, "s.xml", camt([Movement("99.00", credit=False, remittance="2026-1001")])))
    assert "1 lines read, 0 payments" in out and opened()["2026-1001"] == "100.00"
    other = cli.run("import", "bank", str(write(tmp_path, "other.xml", camt([Movement("100.00")],
                                                                         account="NL20INGB0001234567"))))
    assert other.returncode == 2
    assert "is for NL20INGB0001234567, not for the creditor's account(s) NL91ABNA0417164300" in other.stderr


@pytest.mark.parametrize("name, text, where", [
    ("truncated.xml", camt([Movement("100.00")])[:-40], "truncated.xml: line"),
    ("namespace.xml", camt([Movement("100.00")]).replace("camt.053.001.02", "camt.054.001.02"),
     "namespace.xml"),
    ("comma.xml", camt([Movement("1,50")]), "comma.xml: entry 1"),
    ("balance.940", mt940([Movement("100.00")]).replace(":62F:C", ":62F:X"), "balance.940: line"),
    ("empty.940", "", "empty.940"),
])
def test_a_broken_file_is_refused_whole_naming_where_and_nothing_is_imported(home, tmp_path, name, text, where):
    good = write(tmp_path, "good.xml", camt([Movement("100.00", reference=payment_reference("2026-1001"))]))
    result = cli.run("import", "bank", str(write(tmp_path, name, text)))
    assert result.returncode == 2
    assert result.stderr.startswith(f"dunning: error: {tmp_path / where}") or where in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert lines_stored(home) == 0 and opened()["2026-1001"] == "100.00"
    ok(cli.run("import", "bank", str(good)))  # the good one still goes in afterwards


def test_a_manual_payment_is_recorded_as_such(home):
    ok(cli.run("pay", "2026-1001", "40.00"))
    with db.transaction(home) as s:
        entry = s.scalars(select(DossierEntry).where(DossierEntry.kind == "payment")).one()
        payment = s.scalars(select(Payment)).one()
        assert "(recorded by hand)" in entry.summary and payment.bank_line_id is None


def test_invoices_listing_states_amounts_as_strings_with_the_payment_reference(home, tmp_path):
    ok(cli.run("pay", "2026-1001", "40.00"))
    listing = invoices()
    assert listing["2026-1001"] == {
        "invoice": "2026-1001", "debtor": "D1", "amount": "100.00", "paid": "40.00", "credited": "0.00",
        "open": "60.00", "currency": "EUR", "due_date": "2026-01-05", "status": "open", "step": None,
        "payment_reference": payment_reference("2026-1001"),
    }
    only_open = json.loads(ok(cli.run("invoices", "--open", "--debtor", "D1", "--json")).stdout)
    assert [r["invoice"] for r in only_open] == ["2026-1001", "2026-1002", "2026-1003"]
    assert Decimal(listing["F-77"]["open"]) == Decimal("1210.00")


def test_a_part_payment_from_the_bank_is_applied_per_6_44_and_the_next_letter_shows_it_to_the_cent(home, tmp_path):
    # Business, EUR 1,210.00 due 5 Jan 2026 (the `home` fixture's F-77 is a consumer: a business invoice here).
    rows = [row("B-44", "D44", "business", "b44@example.com", amount="1210.00", due="2026-01-05")]
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    path = write(tmp_path, "b.csv", "\n".join(lines) + "\n")
    ok(cli.run("import", "invoices", str(path)))
    with db.transaction(home) as s:  # the ingebrekestelling went out on 10 Feb, its term ran until 26 Feb
        sent = datetime(2026, 2, 10, 9, tzinfo=UTC)
        s.add(OutboxMessage(key="B-44:ingebrekestelling:email:1", invoice_id=invoices_.get(s, "B-44").id,
                            step=Step.send(Message.ingebrekestelling), channel=Channel.email,
                            status=OutboxStatus.sent, data={"deadline": "2026-02-26"}, created_at=sent, sent_at=sent))
    paid = Movement("300.00", booked=date(2026, 2, 20), reference=payment_reference("B-44"))
    import_bank(write(tmp_path, "s.xml", camt([paid])))
    ok(cli.run("clock", "set", "2026-03-10T09:00"))
    out = tmp_path / "out"
    ok(cli.run("preview", "B-44", "--step", "incasso-aankondiging", "--channel", "letter", "--out", str(out)))
    [pdf] = list(out.glob("*.pdf"))
    text = pdf_text(pdf.read_bytes())
    # Worked out by hand in tests/unit/test_statement.py: costs 181.50, interest to the payment day 15.48,
    # the invoice 103.02; then 1,106.98 open plus 5.23 interest.
    assert "20 februari 2026: EUR 300,00 (kosten EUR 181,50, rente EUR 15,48, factuur EUR 103,02)" in text
    assert "Factuur B-44, nog te betalen EUR 1.106,98" in text
    assert "Totaal EUR 1.112,21" in text
