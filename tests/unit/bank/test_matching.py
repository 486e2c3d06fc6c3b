"""The matching rules over plain values: our reference, invoice numbers in the description, the debtor's account
with a fitting amount, in that order; and the references and numbers as people write them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from stdnum import iso11649

from dunning.bank.lines import StatementLine
from dunning.bank.matching import InvoiceFacts, Ledger, MatchRule, likely_invoices, match_line
from dunning.bank.references import number_candidates, payment_reference, printed, references_in


def invoice(number: str, debtor: str = "D1", open_: str = "100.00", due: date = date(2026, 1, 5),
            name: str = "Jansen Installatie B.V.") -> InvoiceFacts:
    return InvoiceFacts(number, debtor, name, due, Decimal(open_), payment_reference(number))


def line(amount: str, remittance: str = "", reference: str | None = None, iban: str | None = None,
         counterparty: str | None = None, credit: bool = True) -> StatementLine:
    return StatementLine(entry=1, account="NL91ABNA0417164300", booked=date(2026, 2, 2), amount=Decimal(amount),
                         currency="EUR", credit=credit, counterparty=counterparty, iban=iban,
                         remittance=remittance, reference=reference)


def test_the_payment_reference_is_valid_iso_11649_and_readable_or_a_digest_when_it_cannot_be():
    assert payment_reference("F-2026-0117") == "RF81F20260117"
    assert iso11649.is_valid(payment_reference("a" * 40)) and len(payment_reference("a" * 40)) <= 25
    assert payment_reference("F1") != payment_reference("F-1", hashed=True)
    assert printed("RF81F20260117") == "RF81 F202 6011 7"


def test_a_reference_followed_by_text_is_read_every_valid_way_longest_first():
    readings = references_in("RF81 F202 6011 7 EUR 1.234,56")
    assert readings and readings[0][-1] == "RF81F20260117" or "RF81F20260117" in readings[0]
    ledger = Ledger([invoice("F-2026-0117")], {})
    match = match_line(line("100.00", "RF81 F202 6011 7 EUR 1.234,56"), ledger)
    assert (match.rule, [a.invoice for a in match.allocations]) == (MatchRule.reference, ["F-2026-0117"])


def test_invoice_numbers_are_found_with_prefixes_spaces_and_dashes():
    found = number_candidates("NR.201303-111/11.3.2013 factuurnummer201303128 fact 2026 1001 Ref: 2026-1003")
    for number in ("201303111", "201303128", "20261001", "20261003"):
        assert number in found


def test_the_rules_apply_in_order_and_a_number_shared_by_two_invoices_is_no_match():
    ledger = Ledger([invoice("2026-1001"), invoice("2026-1002", open_="50.00"), invoice("A-1", debtor="D2"),
                     invoice("A1", debtor="D3")], {"NL02ABNA0123456789": ["D1"]})
    by_reference = match_line(line("100.00", "2026-1002", reference=payment_reference("2026-1001")), ledger)
    assert by_reference.rule is MatchRule.reference and by_reference.allocations[0].invoice == "2026-1001"
    assert not match_line(line("10.00", "A1"), ledger).matched, "A-1 and A1 read alike: a person decides"
    by_account = match_line(line("50.00", iban="NL02ABNA0123456789"), ledger)
    assert (by_account.rule, by_account.allocations[0].invoice) == (MatchRule.account, "2026-1002")
    assert match_line(line("150.00", iban="NL02ABNA0123456789"), ledger).rule is MatchRule.account  # all open
    assert not match_line(line("70.00", iban="NL02ABNA0123456789"), ledger).matched
    assert not match_line(line("100.00", "2026-1001", credit=False), ledger).matched, "a debit pays nothing"


def test_a_ledger_remembers_what_earlier_lines_of_the_statement_paid():
    ledger = Ledger([invoice("2026-1001")], {})
    first = match_line(line("60.00", "2026-1001"), ledger)
    ledger.take(first)
    second = match_line(line("60.00", "2026-1001"), ledger)
    assert [a.amount for a in second.allocations] == [Decimal("40.00")] and second.surplus == Decimal("20.00")
    ledger.take(second)
    assert not match_line(line("5.00", "2026-1001"), ledger).matched, "a number names only an open invoice"
    assert match_line(line("5.00", reference=payment_reference("2026-1001")), ledger).surplus == Decimal("5.00")


def test_likely_invoices_are_the_named_debtors_and_those_of_about_the_amount():
    ledger = Ledger([invoice("X-1", debtor="D1", open_="500.00"),
                     invoice("Y-1", debtor="D2", open_="101.00", name="Pietersen"),
                     invoice("Z-1", debtor="D3", open_="900.00", name="De Vries Holding B.V.")], {})
    assert likely_invoices(line("100.00", counterparty="J JANSEN"), ledger) == ["X-1", "Y-1"]


def test_numbers_glued_to_the_next_word_by_a_wrapped_line_are_still_found():
    # As the Rabobank MT940 sample unwraps: the description's lines glued without a space.
    found = number_candidates("NR.201303-111/11.3.2013NR.201303-112/11.3.2013 factuurnummer 201303-128cursus")
    assert {"201303111", "201303112", "201303128"} <= set(found)
