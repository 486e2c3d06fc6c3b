"""MT940 statements written here, in the Dutch banks' layouts, small enough to see what each one proves."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dunning.bank.lines import StatementError
from dunning.bank.mt940 import parse_mt940

ACCOUNT = "NL91ABNA0417164300"
PAID = ":61:2603020302C1500,50NTRFEREF//00000000002001\n/TRCD/00100/\n" \
       ":86:/EREF/E2E-77//CNTP/NL02RABO0123456789/RABONL2U/Bakkerij De Wit/Utrecht///REMI/STRD/CUR/" \
       "1234567890123456/\n"


def mt940(*movements: str, opening: str = "C260301EUR1000,00", closing: str = "C260302EUR2500,50",
          account: str = f"{ACCOUNT}EUR", number: str = "1") -> str:
    return (f":20:P{number}\n:25:{account}\n:28C:{number}\n:60F:{opening}\n{''.join(movements)}"
            f":62F:{closing}\n")


def read(text: str, file: str = "ing.940", newline: str = "\n") -> list:
    return list(parse_mt940(text.replace("\n", newline).encode(), file).lines)


def test_a_structured_ing_credit_reads_payer_account_reference_and_bank_reference():
    statement = parse_mt940(mt940(PAID).encode(), "ing.940")
    (line,) = statement.lines
    assert (statement.format, statement.accounts, line.account) == ("mt940", (ACCOUNT,), ACCOUNT)
    assert (line.entry, line.booked, line.amount, line.currency) == (1, date(2026, 3, 2), Decimal("1500.50"), "EUR")
    assert (line.credit, line.reversal, line.counterparty) == (True, False, "Bakkerij De Wit")
    assert (line.iban, line.reference, line.end_to_end) == ("NL02RABO0123456789", "1234567890123456", "E2E-77")
    assert line.bank_reference == "00000000002001" and line.identity == f"r:{ACCOUNT}:00000000002001"


def test_a_crlf_file_reads_like_the_same_file_with_lf():
    text = mt940(PAID)
    assert read(text, newline="\r\n") == read(text)


def test_the_swift_envelope_and_the_bank_headers_around_a_statement_are_left_out():
    wrapped = "{1:F01INGBNL2ABXXX0000000000}\n{2:I940INGBNL2AXXXN}\n{4:\n" + mt940(PAID) + "-}\n"
    abn = "ABNANL2A\n940\nABNANL2A\n" + mt940(PAID) + "-\nABNANL2A\n940\nABNANL2A\n" + mt940(PAID, number="2") + "-\n"
    rabo = ":940:\n" + mt940(PAID)
    assert read(wrapped) == read(rabo) == read(mt940(PAID))
    assert [line.entry for line in read(abn)] == [1, 2]


@pytest.mark.parametrize(("written", "amount"), [
    ("000000000169,90", "169.90"), ("10,5", "10.50"), ("203,", "203.00"), ("7", "7.00"), ("0,01", "0.01")])
def test_mt940_amounts_are_read_exactly_with_their_decimal_comma(written, amount):
    (line,) = read(mt940(f":61:260302C{written}N122NONREF\n", closing="C260302EUR1000,00"))
    assert line.amount == Decimal(amount) and isinstance(line.amount, Decimal)


@pytest.mark.parametrize(("mark", "credit"), [("C", True), ("D", False), ("RC", False), ("RD", True)])
def test_the_debit_credit_mark_says_direction_and_reversal(mark, credit):
    (line,) = read(mt940(f":61:2603020302{mark}12,00NTRFNONREF\n"))
    assert (line.credit, line.reversal) == (credit, mark.startswith("R"))


def test_a_returned_payment_carries_its_return_reason_and_counts_as_reversal():
    returned = (":61:2603020302C1,57NRTIEREF//00000000001007\n"
                ":86:/RTRN/MS03//EREF/20120123456789//CNTP/NL02RABO0123456789/RABONL2U/J.Janssen///REMI/USTD//"
                "Factuurnr 123456/\n")
    (line,) = read(mt940(returned))
    assert (line.credit, line.reversal, line.return_reason, line.remittance) == (True, True, "MS03", "Factuurnr 123456")


def test_a_reference_the_bank_wrapped_at_65_characters_is_joined_again():
    acceptgiro = (":61:1501200120C10,5N654NONREF\n"
                  ":86:/TRTP/ACCEPTGIROBETALING/IBAN/NL86INGB0002445588/BIC/INGBNL2A\n"
                  "/NAME/BELASTINGDIENST/REMI/ISSUER: CUR                  REF: 4420\n"
                  "043232693268/EREF/NOTPROVIDED\n")
    (line,) = read(mt940(acceptgiro, account="555555555"))
    assert (line.account, line.reference, line.counterparty) == ("555555555", "4420043232693268", "BELASTINGDIENST")
    assert line.end_to_end is None


def test_free_text_details_keep_the_writers_line_breaks_as_spaces_and_join_full_lines():
    full = "Betaling factuur 2026-0042 en 2026-0043 via internetbankieren, dan"
    assert len(":86:" + full) >= 65
    (line,) = read(mt940(":61:260302C10,00NTRFNONREF\n", f":86:{full}\n", "k nog 2026-0044\nGroet, Jan\n"))
    assert line.remittance == f"{full}k nog 2026-0044 Groet, Jan"
    assert line.counterparty is None


def test_a_statement_level_86_after_the_closing_balance_is_no_detail_of_the_last_movement():
    text = mt940(PAID) + ":64:C260302EUR2500,50\n:86:/SUM/1/0/1500,50/0,00/\n"
    (line,) = read(text)
    assert line.reference == "1234567890123456"


def test_entries_are_numbered_through_all_statements_of_the_file():
    day_one = mt940(":61:260301C1,00NTRFNONREF\n:86:a\n", ":61:260301C2,00NTRFNONREF\n:86:b\n", number="1")
    day_two = mt940(":61:260302C3,00NTRFNONREF\n:86:c\n", number="2")
    assert [(line.entry, line.remittance) for line in read(day_one + day_two)] == [(1, "a"), (2, "b"), (3, "c")]


def test_account_written_with_a_currency_after_a_space_or_with_a_bank_code_is_the_account_itself():
    assert read(mt940(PAID, account="NL50RABO0123456789 EUR"))[0].account == "NL50RABO0123456789"
    assert read(mt940(PAID, account="ABNANL2A/555555555"))[0].account == "555555555"


def test_a_statement_that_does_not_reconcile_is_still_read():
    # Real exports do not always add up within one file; only a balance that cannot be read is refused.
    (line,) = read(mt940(PAID, closing="C260302EUR10,00"))
    assert line.amount == Decimal("1500.50")


def test_the_same_file_read_twice_and_an_overlapping_file_give_the_same_identities():
    monday = mt940(":61:260301C10,00N122NONREF\n:86:/ORDP//NAME/A/REMI/ma/\n", number="1")
    tuesday = mt940(":61:260302C20,00N122NONREF\n:86:/ORDP//NAME/B/REMI/di/\n", PAID, number="2")
    wednesday = mt940(":61:260303C30,00N122NONREF\n:86:/ORDP//NAME/C/REMI/wo/\n", number="3")
    early, late = read(monday + tuesday, "week-1.940"), read(tuesday + wednesday, "week-2.940")
    assert [line.identity for line in read(monday + tuesday, "copy.940")] == [line.identity for line in early]
    assert [line.identity for line in early[1:]] == [line.identity for line in late[:2]]
    assert early[0].identity != late[2].identity


def test_two_identical_payments_on_one_day_get_distinct_identities():
    same = ":61:260302C25,00N122NONREF\n:86:/ORDP//NAME/Vereniging/REMI/contributie/\n"
    first, second = read(mt940(same, same))
    assert first.identity != second.identity
    assert first.identity.split("#")[0] == second.identity.split("#")[0]


@pytest.mark.parametrize("closing", ["C140220EUR1,0X", "C140220EUR", "C140220EUR1.234,56", "X140220EUR1,00",
                                     "C140231EUR1,00", "C140220EUR1,001"])
def test_a_closing_balance_that_cannot_be_read_is_refused_naming_its_line(closing):
    with pytest.raises(StatementError, match=r"^bad\.940: line 7: statement 1: the closing balance"):
        read(mt940(PAID.replace("\n/TRCD/00100/", ""), closing=closing), "bad.940")


def test_a_missing_balance_is_refused_naming_the_statement():
    text = mt940(PAID).replace(":60F:C260301EUR1000,00\n", "")
    with pytest.raises(StatementError, match=r"^bad\.940: line 1: statement 1 has no opening balance \(:60F:\)$"):
        read(text, "bad.940")


@pytest.mark.parametrize("amount", ["1.234,56", "1 234,56", "1,234,56", "12,345"])
def test_a_movement_amount_with_thousands_separators_is_refused_naming_line_and_entry(amount):
    text = mt940(PAID, f":61:2603020302C{amount}NTRFNONREF\n")
    with pytest.raises(StatementError, match=rf"^bad\.940: line 8: entry 2: amount '{amount}' is not an MT940"):
        read(text, "bad.940")


def test_a_movement_line_that_cannot_be_read_is_refused_naming_line_and_entry():
    with pytest.raises(StatementError, match=r"^bad\.940: line 5: entry 1: cannot read the statement line"):
        read(mt940(":61:gisteren 12 euro\n"), "bad.940")
    with pytest.raises(StatementError, match=r"^bad\.940: line 5: entry 1: cannot read the statement line"):
        read(mt940(":61:261302C12,00NTRFNONREF\n"), "bad.940")


def test_fields_before_the_first_statement_start_are_refused():
    with pytest.raises(StatementError, match=r"^bad\.940: line 1: :25: comes before the statement's start"):
        read(f":25:{ACCOUNT}\n" + mt940(PAID), "bad.940")


def test_an_empty_file_is_refused():
    with pytest.raises(StatementError, match=r"^empty\.940: the file is empty"):
        parse_mt940(b"\r\n\r\n", "empty.940")
