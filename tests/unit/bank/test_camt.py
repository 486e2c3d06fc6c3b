"""camt.053 statements written here, small enough to see what each one proves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dunning.bank.camt import parse_camt
from dunning.bank.lines import StatementError

ACCOUNT = "NL91ABNA0417164300"


def camt(*entries: str, version: str = "02", account: str = "NL91 abna 0417 1643 00") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-03-03T08:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <Acct><Id><IBAN>{account}</IBAN></Id></Acct>
      {"".join(entries)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def entry(amount: str = "120.00", *txs: str, indicator: str = "CRDT", status: str = "<Sts>BOOK</Sts>",
          booked: str = "<Dt>2026-03-02</Dt>", ref: str = "", extra: str = "") -> str:
    details = f"<NtryDtls>{''.join(txs)}</NtryDtls>" if txs else ""
    reference = f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else ""
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{extra}{status}'
            f"<BookgDt>{booked}</BookgDt>{reference}{details}</Ntry>")


def tx(amount: str | None = None, *, name: str = "Bakkerij De Wit", iban: str = "NL02RABO0123456789",
       ustrd: str = "", ref: str = "", e2e: str = "", reason: str = "") -> str:
    parts = [f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs>" if e2e else ""]
    parts.append(f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>' if amount else "")
    parts.append(f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>"
                 "</RltdPties>")
    strd = f"<Strd><CdtrRefInf><Ref>{ref}</Ref></CdtrRefInf></Strd>" if ref else ""
    parts.append(f"<RmtInf><Ustrd>{ustrd}</Ustrd>{strd}</RmtInf>" if ustrd or ref else "")
    parts.append(f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else "")
    return f"<TxDtls>{''.join(parts)}</TxDtls>"


def test_a_credit_reads_payer_account_remittance_and_structured_reference():
    statement = parse_camt(camt(entry("1500.5", tx(ustrd="Factuur 2026-0042", ref="RF18539007547034",
                                                   e2e="E2E-77"), ref="BANK-1")), "march.xml")
    (line,) = statement.lines
    assert (statement.format, statement.accounts, line.account) == ("camt.053.001.02", (ACCOUNT,), ACCOUNT)
    assert (line.entry, line.booked, line.amount, line.currency) == (1, date(2026, 3, 2), Decimal("1500.50"), "EUR")
    assert (line.credit, line.reversal) == (True, False)
    assert (line.counterparty, line.iban) == ("Bakkerij De Wit", "NL02RABO0123456789")
    assert (line.remittance, line.reference, line.end_to_end) == ("Factuur 2026-0042", "RF18539007547034", "E2E-77")
    assert line.bank_reference == "BANK-1" and line.identity == f"r:{ACCOUNT}:BANK-1"


def test_a_batch_entry_becomes_one_line_per_payment_it_settles():
    batch = entry("350.00", tx("100.00", ref="RF0001", name="A"), tx("200.00", ref="RF0002", name="B"),
                  tx("50.00", ustrd="deel 3", name="C"), ref="BATCH-9")
    lines = parse_camt(camt(batch), "batch.xml").lines
    assert [(line.entry, line.amount, line.counterparty) for line in lines] == [
        (1, Decimal("100.00"), "A"), (1, Decimal("200.00"), "B"), (1, Decimal("50.00"), "C")]
    assert [line.reference for line in lines] == ["RF0001", "RF0002", None]
    assert len({line.identity for line in lines}) == 3


def test_a_batch_whose_parts_do_not_make_up_the_entry_stays_one_line_as_booked():
    batch = entry("350.00", tx("100.00", ref="RF0001"), tx("200.00", ref="RF0002"))
    (line,) = parse_camt(camt(batch), "batch.xml").lines
    assert line.amount == Decimal("350.00")
    assert (line.reference, line.remittance) == ("RF0001", "RF0002")


def test_a_reversed_debit_undoes_an_earlier_credit_and_says_why():
    returned = entry("75.00", tx(reason="MD06", e2e="NOTPROVIDED"), indicator="DBIT",
                     extra="<RvslInd>true</RvslInd>")
    (line,) = parse_camt(camt(returned), "return.xml").lines
    assert (line.credit, line.reversal, line.return_reason, line.end_to_end) == (False, True, "MD06", None)
    assert line.signed == Decimal("-75.00")


def test_only_booked_entries_become_lines_but_every_entry_keeps_its_number_in_the_file():
    statement = parse_camt(camt(entry("1.00", status="<Sts>PDNG</Sts>"), entry("2.00", status=""),
                                entry("3.00", status="<Sts>INFO</Sts>"), entry("4.00")), "mixed.xml")
    assert [(line.entry, line.amount) for line in statement.lines] == [(2, Decimal("2.00")), (4, Decimal("4.00"))]


def test_version_08_status_code_and_booking_datetime_are_read():
    v08 = entry("9.99", status="<Sts><Cd>BOOK</Cd></Sts>", booked="<DtTm>2026-03-02T23:30:00+01:00</DtTm>")
    pending = entry("5.00", status="<Sts><Cd>PDNG</Cd></Sts>")
    statement = parse_camt(camt(v08, pending, version="08"), "v8.xml")
    (line,) = statement.lines
    assert (statement.format, line.booked, line.amount) == ("camt.053.001.08", date(2026, 3, 2), Decimal("9.99"))


def test_the_same_file_read_twice_gives_the_same_identities():
    data = camt(entry("10.00", tx(ustrd="a")), entry("20.00", tx(ustrd="b"), ref="R2"))
    first, again = parse_camt(data, "a.xml"), parse_camt(data, "copy of a.xml")
    assert [line.identity for line in first.lines] == [line.identity for line in again.lines]


def test_overlapping_statements_give_the_shared_movements_the_same_identities():
    monday, tuesday = entry("10.00", tx(ustrd="ma")), entry("20.00", tx(ustrd="di"), booked="<Dt>2026-03-03</Dt>")
    with_ref = entry("30.00", tx(ustrd="di"), booked="<Dt>2026-03-03</Dt>", ref="R3")
    wednesday = entry("40.00", tx(ustrd="wo"), booked="<Dt>2026-03-04</Dt>")
    early = parse_camt(camt(monday, tuesday, with_ref), "week-1.xml").lines
    late = parse_camt(camt(tuesday, with_ref, wednesday), "week-2.xml").lines
    assert [line.identity for line in early[1:]] == [line.identity for line in late[:2]]
    assert early[0].identity != late[2].identity


def test_two_identical_payments_on_one_day_are_two_movements_in_every_file_they_appear_in():
    same = entry("25.00", tx(ustrd="contributie"))
    first = parse_camt(camt(same, same), "a.xml").lines
    assert first[0].identity != first[1].identity
    overlapping = parse_camt(camt(entry("1.00", booked="<Dt>2026-03-01</Dt>"), same, same), "b.xml").lines
    assert [line.identity for line in overlapping[1:]] == [line.identity for line in first]


def test_an_account_without_iban_is_named_by_its_other_id():
    data = camt(entry()).replace(b"<IBAN>NL91 abna 0417 1643 00</IBAN>", b"<Othr><Id>0417164300</Id></Othr>")
    assert parse_camt(data, "othr.xml").accounts == ("0417164300",)


def test_a_truncated_file_is_refused_with_the_line_where_the_xml_breaks():
    data = camt(entry(), entry())
    with pytest.raises(StatementError, match=r"^cut\.xml: line \d+: not well-formed XML: ") as caught:
        parse_camt(data[: len(data) // 2], "cut.xml")
    assert caught.value.file == "cut.xml"


@pytest.mark.parametrize(("namespace", "says"), [
    ("urn:iso:std:iso:20022:tech:xsd:camt.054.001.02", "camt.054.001.02, a debit/credit notification"),
    ("urn:iso:std:iso:20022:tech:xsd:camt.052.001.02", "camt.052.001.02, an intraday account report"),
    ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "urn:oasis:names:specification:ubl:schema:xsd"),
])
def test_another_xml_message_is_refused_naming_its_namespace(namespace, says):
    data = camt(entry()).replace(b"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02", namespace.encode())
    with pytest.raises(StatementError, match=r"^other\.xml: not a CAMT\.053 statement") as caught:
        parse_camt(data, "other.xml")
    assert says in str(caught.value)


def test_xml_without_a_namespace_is_refused():
    with pytest.raises(StatementError, match="has no namespace"):
        parse_camt(b"<Document><BkToCstmrStmt/></Document>", "plain.xml")


@pytest.mark.parametrize(("amount", "why"), [
    ("1,50", "is not a positive decimal"), ("-5.00", "is not a positive decimal"), ("", "is not a positive decimal"),
    ("1.234,56", "is not a positive decimal"), ("1e3", "is not a positive decimal"),
    ("10.005", "has fractions of a cent"),
])
def test_an_amount_that_is_not_an_iso_amount_is_refused_naming_the_entry(amount, why):
    data = camt(entry("1.00"), entry(amount))
    with pytest.raises(StatementError, match=rf"^bad\.xml: entry 2: amount '?{amount}'? {why}"):
        parse_camt(data, "bad.xml")


def test_an_entry_without_amount_or_currency_is_refused_naming_the_entry():
    with pytest.raises(StatementError, match=r"^bad\.xml: entry 1: no amount \(Amt\)"):
        parse_camt(camt(entry().replace('<Amt Ccy="EUR">120.00</Amt>', "")), "bad.xml")
    with pytest.raises(StatementError, match=r"^bad\.xml: entry 1: amount 120\.00 has no valid currency"):
        parse_camt(camt(entry().replace(' Ccy="EUR"', "")), "bad.xml")


@pytest.mark.parametrize(("booked", "why"), [
    ("", "no booking date"), ("<Dt>2026-02-30</Dt>", "'2026-02-30' is not a date"),
    ("<Dt>02-03-2026</Dt>", "'02-03-2026' is not a date"),
])
def test_a_missing_or_impossible_booking_date_is_refused_naming_the_entry(booked, why):
    with pytest.raises(StatementError, match=rf"^bad\.xml: entry 1: .*{why}"):
        parse_camt(camt(entry(booked=booked)), "bad.xml")


def test_a_statement_without_account_is_refused_naming_the_statement():
    data = camt(entry()).replace(b"<Acct><Id><IBAN>NL91 abna 0417 1643 00</IBAN></Id></Acct>", b"")
    with pytest.raises(StatementError, match=r"^bad\.xml: statement 1: no account"):
        parse_camt(data, "bad.xml")


def test_a_doctype_is_refused_and_no_entity_is_expanded():
    data = camt(entry(ref="&secret;")).replace(
        b"<Document", b'<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<Document', 1)
    with pytest.raises(StatementError, match="DOCTYPE declaration is not allowed"):
        parse_camt(data, "evil.xml")
