"""The public sample statements (../shared/samples, described in its SOURCES.md) read into the facts their sources
state, and a file's format is told from its content."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.bank.formats import read_statement, read_statement_file
from dunning.bank.lines import Statement, StatementError

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples"
STATEMENT_SAMPLES = sorted([*SAMPLES.glob("camt053/*"), *SAMPLES.glob("mt940/*")])


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample files at {SAMPLES}")
    return SAMPLES


def read(samples: Path, name: str) -> Statement:
    return read_statement_file(samples / name)


def sum_of(statement: Statement, account: str | None = None) -> Decimal:
    return sum((line.signed for line in statement.lines if account in (None, line.account)), Decimal(0))


@pytest.mark.parametrize("path", STATEMENT_SAMPLES, ids=lambda p: p.name)
def test_every_sample_statement_reads_into_lines_with_exact_amounts_dates_and_distinct_identities(path, samples):
    statement = read_statement_file(path)
    assert statement.lines
    for line in statement.lines:
        assert isinstance(line.amount, Decimal) and line.amount == line.amount.quantize(Decimal("0.01"))
        assert line.amount >= 0 and type(line.booked) is date
        assert line.account in statement.accounts and " " not in line.account
    identities = [line.identity for line in statement.lines]
    assert all(identities) and len(set(identities)) == len(identities)
    assert identities == [line.identity for line in read_statement_file(path).lines]


def test_rabobank_camt_credits_carry_the_invoice_numbers_in_the_remittance(samples):
    statement = read(samples, "camt053/rabobank_mpdroog-invoiced_CAMT053.xml")
    assert statement.format == "camt.053.001.02"
    assert [line.entry for line in statement.lines] == list(range(1, 10))
    # The export holds the daily statements of the business account and of a second account it paid into.
    assert statement.accounts == ("NL17RABO0310029597", "NL59RABO3181240869")
    from_customer = [line for line in statement.lines if line.credit and line.counterparty == "XS NEWS B V"]
    assert [(line.amount, line.remittance, line.booked) for line in from_customer] == [
        (Decimal("4425.25"), "2016Q3-0004", date(2016, 8, 15)),
        (Decimal("2982.99"), "2016Q3-0005", date(2016, 9, 28)),
        (Decimal("4516.68"), "2016Q3-0006", date(2016, 10, 11)),
    ]
    assert {line.iban for line in from_customer} == {"NL62ABNA0408441224"}
    tax = statement.lines[0]
    assert (tax.credit, tax.amount, tax.counterparty) == (False, Decimal("4076.00"), "Belastingdienst Apeldoorn")
    assert (tax.reference, tax.remittance) == ("1067931951601240", "BETALINGSKENM.  1067931951601240")


def test_oca_camt_reversed_direct_debit_batch_becomes_two_returned_lines(samples):
    statement = read(samples, "camt053/oca_test-camt053.xml")
    assert statement.accounts == ("NL77ABNA0574908765",)
    insurance, *returned, credit = statement.lines
    assert insurance.remittance.startswith("Insurance policy 857239PERIOD") and not insurance.reversal
    assert [(line.entry, line.amount, line.credit, line.reversal, line.return_reason) for line in returned] == [
        (2, Decimal("564.05"), False, True, "AC06"),
        (2, Decimal("100.00"), False, True, "AC06"),
    ]
    assert [line.end_to_end for line in returned] == ["TESTBANK/NL/20141229/01206408", "TESTBANK/NL/20141229/01206407"]
    # No RmtInf: the transaction's AddtlTxInf is what the payer's bank passed on.
    assert (credit.entry, credit.amount, credit.credit) == (3, Decimal("1405.31"), True)
    assert credit.remittance == "#RD PARTY MEDIA CUSNO 90782 4210773"
    assert (credit.counterparty, credit.iban, credit.end_to_end) == ("3rd party Media", "NL69ABNA0522123643", "115")


def test_oca_txdtls_camt_batch_credit_gives_one_line_per_isr_reference(samples):
    statement = read(samples, "camt053/oca_test-camt053-txdtls.xml")
    assert statement.format == "camt.053.001.04"
    first, second = statement.lines
    assert (first.entry, second.entry) == (1, 1)
    assert (first.reference, second.reference) == ("302388292000011111111111111", "302388292000022222222222222")
    assert (first.amount, second.amount, first.currency) == (Decimal("2187.00"), Decimal("1296.00"), "CHF")
    assert (first.iban, second.iban) == ("CH2222000000123456789", "CH3333000000123456789")
    assert first.remittance.startswith("CRÉDIT GROUPÉ BVR")
    assert sum_of(statement) == Decimal("79443.15") - Decimal("75960.15")  # its balances reconcile


def test_genkgo_camt_v08_reads_other_account_datetime_booking_and_party_wrapped_names(samples):
    statement = read(samples, "camt053/genkgo_camt053.v8.xml")
    assert (statement.format, statement.accounts) == ("camt.053.001.08", ("NL26VAYB8060476890",))
    (line,) = statement.lines
    # The entry's 8.85 EUR counts; its single TxDtls says "SEK 0", which is no amount of a payment.
    assert (line.amount, line.currency, line.credit, line.booked) == (Decimal("8.85"), "EUR", True, date(2014, 12, 31))
    assert (line.reference, line.counterparty, line.iban) == ("4654654654654654", "NAME NAME", "NL56AGDH9619008421")
    assert (line.end_to_end, line.bank_reference) == ("MUELL/FINP/RA12345", "AAAASESS-FP-CN_98765/01")


def test_sns_camt_reads_entry_information_and_entry_references_of_two_accounts(samples):
    statement = read(samples, "camt053/newinnovations_sns_example-camt053-a.xml")
    assert statement.accounts == ("NL14SNSB0012345678", "NL78SNSB0022446688")
    assert len(statement.lines) == 11 and not any(line.reference for line in statement.lines)
    assert statement.lines[0].remittance.startswith("Kosten klantonderzoek GreatExample BV")
    assert statement.lines[0].bank_reference == "20260125-137113"
    assert sum_of(statement, "NL14SNSB0012345678") == Decimal("661.69") - Decimal("203.69")
    assert sum_of(statement, "NL78SNSB0022446688") == Decimal("1660.87") - Decimal("1859.13")


def test_ing_mt940_reads_the_currence_reference_and_the_returned_payment(samples):
    statement = read(samples, "mt940/oca_ing_test-ing.940")
    assert (statement.format, statement.accounts) == ("mt940", ("NL77INGB0574908765",))
    assert [line.entry for line in statement.lines] == list(range(1, 9))
    by_amount = {(line.amount, line.credit): line for line in statement.lines}
    paid = by_amount[Decimal("32.00"), True]
    assert (paid.reference, paid.counterparty, paid.iban) == ("9001123412341234", "J.Janssen", "NL32INGB0000012345")
    assert (paid.end_to_end, paid.bank_reference) == ("15814016000676480", "00000000001011")
    returned = by_amount[Decimal("1.57"), True]
    assert (returned.reversal, returned.return_reason) == (True, "MS03")
    assert returned.remittance == "Factuurnr 123456 Klantnr 00123"
    # ING cuts :86: anywhere, even inside the keyword: "/REM" / "I/USTD//CO" / "NTRIBUTIE FEB 2014/".
    assert by_amount[Decimal("12.75"), False].remittance == "CONTRIBUTIE FEB 2014"
    assert sum_of(statement) == Decimal("564.35") - Decimal("662.23")  # its balances reconcile


def test_rabobank_mt940_remittances_carry_the_invoice_numbers(samples):
    statement = read(samples, "mt940/zilverline_rabobank_mt940_structured.txt")
    assert statement.accounts == ("NL50RABO0123456789",)
    credits = {line.amount: line for line in statement.lines if line.credit}
    two_invoices = credits[Decimal("169.90")].remittance
    assert "NR.201303-111/11.3.2013" in two_invoices and "NR.201303-112/11.3.2013" in two_invoices
    assert credits[Decimal("169.90")].counterparty == "Bedrijf B.V."
    assert credits[Decimal("1640.76")].remittance.startswith("factuurnummer 201303-128")
    assert credits[Decimal("1923.90")].remittance == "Ref: 201302-080"
    assert "201303-088" in credits[Decimal("13431.00")].remittance
    nespresso = statement.lines[0]
    assert (nespresso.counterparty, nespresso.credit) == ("Nespresso Nederland B.V.", False)
    assert nespresso.iban == "NL96RBOS0523149468"  # the contra account on the :61: line's second line
    assert sum_of(statement) == Decimal("18846.34") - Decimal("1147.95")  # its balances reconcile


def test_abn_amro_acceptgiro_reference_split_over_two_lines_is_joined(samples):
    # This file does not reconcile (10000,00 + 10,5 != 10010,00) and is read all the same.
    (line,) = read(samples, "mt940/zilverline_abn_structured_sepa_acceptgiro.txt").lines
    assert (line.account, line.amount, line.credit) == ("555555555", Decimal("10.50"), True)
    assert line.reference == "4420043232693268"
    assert (line.counterparty, line.iban, line.end_to_end) == ("BELASTINGDIENST", "NL86INGB0002445588", None)


def test_abn_amro_ideal_credit_keeps_its_invoice_number_in_the_remittance(samples):
    (line,) = read(samples, "mt940/zilverline_abn_structured_sepa_ideal.txt").lines
    assert "FACTUUR 10530" in line.remittance
    assert (line.iban, line.end_to_end) == ("NL30ABNA0122365478", "11-09-2015 12:00 0045623157461347")


def test_a_statement_is_recognised_by_its_content_not_its_name():
    camt = (b'\xef\xbb\xbf  <?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrStmt><Stmt><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct></Stmt></BkToCstmrStmt>"
            b"</Document>")
    assert read_statement(camt, "statement.txt").format == "camt.053.001.02"
    mt940 = b":20:X\n:25:NL91ABNA0417164300\n:28C:1\n:60F:C260301EUR1,00\n:62F:C260301EUR1,00\n"
    assert read_statement(mt940, "statement.xml").format == "mt940"


@pytest.mark.parametrize("content", [b"Datum,Bedrag\n2026-03-01,12.50\n", b"%PDF-1.7\n", b"\x00\x01\x02"])
def test_a_file_that_is_neither_camt_nor_mt940_is_refused_by_name(content):
    with pytest.raises(StatementError, match=r"^export\.csv: not a CAMT\.053 or MT940 statement"):
        read_statement(content, "export.csv")


def test_an_empty_file_is_refused_by_name():
    with pytest.raises(StatementError, match=r"^empty\.940: the file is empty$"):
        read_statement(b" \r\n", "empty.940")


def test_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(StatementError, match="gone.xml: cannot be read"):
        read_statement_file(tmp_path / "gone.xml")
