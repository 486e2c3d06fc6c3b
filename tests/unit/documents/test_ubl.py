"""UBL 2.1 invoices and credit notes: the public samples (../shared/samples/ubl, described in its SOURCES.md) read
into the facts their sources state, documents written here that show one rule each, and broken files refused
with the file and the element named."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.documents.records import DebtorRecord, DocumentError, DocumentKind, InvoiceRecord
from dunning.documents.ubl import is_ubl, read_ubl, read_ubl_file
from dunning.domain.kinds import DebtorKind

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "ubl"
UBL_SAMPLES = sorted(SAMPLES.glob("*.xml"))
FILE = "inbox/factuur.xml"

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
BUYER = "cac:AccountingCustomerParty/cac:Party"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 2 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample files at {SAMPLES}")
    return SAMPLES


# --- the public samples ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", UBL_SAMPLES, ids=lambda p: p.name)
def test_every_public_sample_is_told_ubl_from_its_content_and_read(path, samples):
    data = path.read_bytes()
    assert is_ubl(data)
    record = read_ubl(data, path.name)
    assert record.amount > 0 and record.amount == record.amount.quantize(Decimal("0.01"))
    assert record.due_date >= record.issue_date and record.debtor.name and record.debtor.number


def test_si_ubl_ok_full_payable_after_prepayment_and_due_date_from_the_default_term(samples):
    record = read_ubl_file(samples / "nlcius_SI-UBL-2.0_ok_full.xml")
    assert (record.where, record.number, record.kind, record.credits_invoice) == (
        "Invoice TOSL108", "TOSL108", DocumentKind.invoice, None)
    # 1728.70 incl. VAT, 1000 prepaid, 0.30 rounding: what is left to pay is the claim.
    assert (record.amount, record.currency) == (Decimal("729.00"), "EUR")
    # No cbc:DueDate, no PaymentDueDate, and "Penalty percentage 10% from due date" is not a term: 30 days.
    assert (record.issue_date, record.due_date) == (date(2009, 12, 15), date(2010, 1, 14))
    assert read_ubl_file(samples / "nlcius_SI-UBL-2.0_ok_full.xml", default_term_days=14).due_date == date(
        2009, 12, 29)
    assert record.debtor == DebtorRecord(
        number="88884444", name="Buyercompany ltd", kind=DebtorKind.business, email="john@buyercompany.eu",
        phone="5121230", street="Anystreet, Back door", postcode="101", city="Anytown", country="NL",
        company_id="87654321", vat_id="BE54321")
    # Its payee account "NLING34434343434" is the seller's (and no IBAN); its "drawing.pdf" attachment holds
    # base64 text of a GIF header, not a PDF: no invoice copy, the invoice itself is sound.
    assert record.debtor.iban is None and record.pdf is None


def test_nlcius_credit_note_credits_the_invoice_it_references(samples):
    record = read_ubl_file(samples / "nlcius_SI-UBL-2.0_BR-NL-8_ok_381_creditnote.xml")
    assert (record.where, record.number, record.kind, record.credits_invoice) == (
        "CreditNote 12115118", "12115118", DocumentKind.credit_note, "46568")
    assert (record.amount, record.currency, record.issue_date) == (Decimal("227.00"), "EUR", date(2015, 1, 9))
    assert record.due_date == date(2015, 2, 8)  # "Credit note" is all its PaymentTerms say
    assert record.debtor == DebtorRecord(
        number="10202", name="Ontvanger", kind=DebtorKind.business, street="Teststraat 123", postcode="1111 AA",
        city="Grotestad", country="NL", company_id="11111111")
    # The Dutch general-terms cbc:Note says nothing about the buyer's language.
    assert record.debtor.language is None


def test_en16931_example1_due_date_as_written_and_a_buyer_without_registration_takes_the_default_kind(samples):
    path = samples / "en16931_ubl-tc434-example1.xml"
    record = read_ubl_file(path)
    assert (record.where, record.amount, record.currency) == ("Invoice 12115118", Decimal("250.33"), "EUR")
    # DueDate equals IssueDate although the note says "Betalingstermijn: 14 dagen netto": the field counts.
    assert (record.issue_date, record.due_date) == (date(2015, 1, 9), date(2015, 1, 9))
    assert record.debtor == DebtorRecord(
        number="10202", name="ODIN 59", kind=DebtorKind.business, street="POSTBUS 367", postcode="1960 AJ",
        city="HEEMSKERK", country="NL", contact_name="Dhr. J BLOKKER")
    # ODIN 59 has neither a company id nor a VAT id: the setting decides.
    assert read_ubl_file(path, default_kind=DebtorKind.consumer).debtor.kind == DebtorKind.consumer
    # The two payee IBANs written with spaces (NL57 RABO 0107307510, NL03 INGB 0004489902) are the seller's.
    assert record.debtor.iban is None


def test_en16931_example5_in_dkk_with_a_placeholder_payer_iban_and_a_preceding_invoice_reference(samples):
    record = read_ubl_file(samples / "en16931_ubl-tc434-example5.xml")
    assert (record.where, record.amount, record.currency) == ("Invoice TOSL110", Decimal("2337.50"), "DKK")
    assert (record.issue_date, record.due_date) == (date(2013, 4, 10), date(2013, 5, 10))
    # Its BillingReference to TOSL109 is a preceding invoice: a positive invoice credits nothing.
    assert (record.kind, record.credits_invoice) == (DocumentKind.invoice, None)
    assert record.debtor == DebtorRecord(
        number="5790000436057", name="Buyco", kind=DebtorKind.business, email="john.hansen@buyercompany.dk",
        phone="+4598989898", street="Anystreet, Building 1, 5th floor", postcode="101", city="Anytown",
        country="DK", contact_name="John Hansen", company_id="DK16356607", vat_id="DK16356607")
    # The mandate's payer account DK1212341234123412 fails its checksum: kept out, the invoice kept.
    assert record.debtor.iban is None
    # Its "EHF.pdf" attachment decodes to "Testing Base64 encoding", not a PDF.
    assert record.pdf is None


def test_en16931_example8_enexis(samples):
    record = read_ubl_file(samples / "en16931_ubl-tc434-example8.xml")
    assert (record.where, record.number, record.kind) == ("Invoice 1100512149", "1100512149", DocumentKind.invoice)
    assert (record.amount, record.currency) == (Decimal("1099.78"), "EUR")
    assert (record.issue_date, record.due_date) == (date(2014, 11, 10), date(2014, 11, 24))
    assert record.debtor == DebtorRecord(
        number="1081119", name="Klant", kind=DebtorKind.business, street="Bedrijfslaan 4", postcode="9999 XX",
        city="ONDERNEMERSTAD", country="NL")
    assert read_ubl_file(samples / "en16931_ubl-tc434-example8.xml",
                         default_kind=DebtorKind.consumer).debtor.kind == DebtorKind.consumer


def test_belgian_credit_note_without_a_reference_is_a_credit_on_the_debtor_numbered_by_its_endpoint(samples):
    record = read_ubl_file(samples / "en16931_ubl-tc434-creditnote1.xml")
    assert (record.where, record.number) == ("CreditNote 018304 / 28865", "018304 / 28865")
    assert (record.kind, record.credits_invoice) == (DocumentKind.credit_note, None)
    assert (record.amount, record.currency) == (Decimal("100.11"), "EUR")
    assert (record.issue_date, record.due_date) == (date(2019, 9, 23), date(2019, 10, 23))
    # No PartyIdentification: the EndpointID is its number; PartyName goes before the RegistrationName.
    assert record.debtor == DebtorRecord(
        number="0000000295", name="My Customer Company S.A.", kind=DebtorKind.business,
        email="pete.smith@mycustomercompany.be", street="Boulevard Sint Michel 53", postcode="1000",
        city="BRUXELLES", country="BE", company_id="0000000295", vat_id="BE0000000295")


def test_other_xml_samples_are_not_ubl(samples):
    camt = sorted((SAMPLES.parent / "camt053").glob("*.xml"))
    assert camt and not any(is_ubl(p.read_bytes()) for p in camt)


# --- documents written here -----------------------------------------------------------------------------------


def party(body: str = "") -> str:
    return f"<cac:Party>{body}</cac:Party>"


FULL_BUYER = party(
    '<cbc:EndpointID schemeID="0106">69599084</cbc:EndpointID>'
    '<cac:PartyIdentification><cbc:ID schemeID="0088">8712345000004</cbc:ID></cac:PartyIdentification>'
    "<cac:PartyIdentification><cbc:ID>D-1042</cbc:ID></cac:PartyIdentification>"
    "<cac:PartyName><cbc:Name>Grand Café De Markt B.V.</cbc:Name></cac:PartyName>"
    "<cac:PostalAddress><cbc:StreetName>Markt</cbc:StreetName><cbc:BuildingNumber>12a</cbc:BuildingNumber>"
    "<cbc:CityName>Utrecht</cbc:CityName><cbc:PostalZone>3511 AB</cbc:PostalZone>"
    "<cac:Country><cbc:IdentificationCode>nl</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
    "<cac:PartyTaxScheme><cbc:CompanyID>NL001234567B01</cbc:CompanyID>"
    "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
    "<cac:PartyLegalEntity><cbc:RegistrationName>De Markt Horeca B.V.</cbc:RegistrationName>"
    '<cbc:CompanyID schemeID="0106">69599084</cbc:CompanyID></cac:PartyLegalEntity>'
    "<cac:Contact><cbc:Name>Anna de Vries</cbc:Name><cbc:Telephone>+31 30 123 4567</cbc:Telephone>"
    "<cbc:ElectronicMail>administratie@demarkt.nl</cbc:ElectronicMail></cac:Contact>")
CONSUMER = party(
    "<cac:PartyName><cbc:Name>J. Jansen</cbc:Name></cac:PartyName>"
    "<cac:PostalAddress><cbc:StreetName>Dorpsstraat 1</cbc:StreetName><cbc:CityName>Gouda</cbc:CityName>"
    "<cbc:PostalZone>2801 AA</cbc:PostalZone><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode>"
    "</cac:Country></cac:PostalAddress>")


def ubl(*, root: str = "Invoice", number: str = "2026-0042", issue: str = "2026-03-02",
        due: str | None = "2026-04-01", amount: str = "1250.00", currency: str = 'currencyID="EUR"',
        buyer: str | None = FULL_BUYER, references: tuple[str, ...] = (), attachments: str = "",
        payment_means: str = "", extra: str = "", namespace: str | None = None) -> bytes:
    ns = namespace if namespace is not None else f"urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
    type_code = "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>" if root == "Invoice" else (
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>")
    billing = "".join(f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{r}</cbc:ID>"
                      "</cac:InvoiceDocumentReference></cac:BillingReference>" for r in references)
    customer = f"<cac:AccountingCustomerParty>{buyer}</cac:AccountingCustomerParty>" if buyer is not None else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="{ns}" xmlns:cac="{CAC}" xmlns:cbc="{CBC}">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  {f"<cbc:IssueDate>{issue}</cbc:IssueDate>" if issue else ""}
  {f"<cbc:DueDate>{due}</cbc:DueDate>" if due else ""}
  {type_code}
  <cbc:Note languageID="en">Thank you for your order.</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  {billing}
  {attachments}
  <cac:AccountingSupplierParty><cac:Party><cac:PartyName><cbc:Name>Wij B.V.</cbc:Name></cac:PartyName>
    <cac:Contact><cbc:ElectronicMail>debiteuren@wij.nl</cbc:ElectronicMail></cac:Contact></cac:Party>
  </cac:AccountingSupplierParty>
  {customer}
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>NL91ABNA0417164300</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  {payment_means}
  <cac:PaymentTerms><cbc:Note>Betaling binnen 30 dagen</cbc:Note></cac:PaymentTerms>
  {extra}
  <cac:LegalMonetaryTotal>
    <cbc:TaxInclusiveAmount currencyID="EUR">1250.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount {currency}>{amount}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
</{root}>
""".encode()


def attachment(content: bytes | str, *, ident: str = "2026-0042", mime: str = "application/pdf",
               filename: str = "factuur.pdf") -> str:
    encoded = base64.b64encode(content).decode() if isinstance(content, bytes) else content
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))  # as MIME tools write it
    return (f"<cac:AdditionalDocumentReference><cbc:ID>{ident}</cbc:ID><cac:Attachment>"
            f'<cbc:EmbeddedDocumentBinaryObject mimeCode="{mime}" filename="{filename}">{wrapped}'
            "</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>")


def read(data: bytes, **settings) -> InvoiceRecord:
    return read_ubl(data, FILE, **settings)


def refused(data: bytes, **settings) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        read_ubl(data, FILE, **settings)
    error = caught.value
    assert error.file == FILE and str(error).startswith(f"{FILE}: ")
    return error


def test_an_invoice_reads_every_buyer_field_and_its_embedded_pdf():
    data = ubl(attachments=attachment(b"GIF89a", ident="logo", mime="image/gif") + attachment(PDF))
    assert is_ubl(data)
    record = read(data)
    assert (record.where, record.number, record.kind, record.credits_invoice) == (
        "Invoice 2026-0042", "2026-0042", DocumentKind.invoice, None)
    assert (record.issue_date, record.due_date, record.amount, record.currency) == (
        date(2026, 3, 2), date(2026, 4, 1), Decimal("1250.00"), "EUR")
    assert record.debtor == DebtorRecord(
        # The PartyIdentification without a scheme (the seller's customer number) before the GLN.
        number="D-1042", name="Grand Café De Markt B.V.", kind=DebtorKind.business,
        email="administratie@demarkt.nl", phone="+31 30 123 4567", street="Markt 12a", postcode="3511 AB",
        city="Utrecht", country="NL", contact_name="Anna de Vries", company_id="69599084",
        vat_id="NL001234567B01")
    assert record.pdf == PDF


def test_of_several_pdfs_the_one_named_after_the_invoice_is_its_copy():
    other = PDF.replace(b"Catalog", b"Other")
    data = ubl(attachments=attachment(other, ident="timesheet", filename="uren.pdf")
               + attachment(PDF, ident="copy", filename="Factuur 2026-0042.pdf"))
    assert read(data).pdf == PDF
    assert read(ubl(attachments=attachment(other, ident="timesheet", filename="uren.pdf"))).pdf == other


def test_a_broken_base64_attachment_is_refused_naming_the_element():
    error = refused(ubl(attachments=attachment("JVBERi0xLjQK*not-base64*")))
    assert error.where == "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
    assert "not valid base64" in error.reason


def test_a_credit_note_against_an_invoice():
    record = read(ubl(root="CreditNote", number="CN-7", due=None, amount="250.00", references=("2026-0042",)))
    assert (record.where, record.kind, record.credits_invoice) == ("CreditNote CN-7", DocumentKind.credit_note,
                                                                   "2026-0042")
    assert (record.amount, record.issue_date, record.due_date) == (Decimal("250.00"), date(2026, 3, 2),
                                                                   date(2026, 4, 1))


def test_a_credit_note_without_a_reference_is_a_credit_on_the_debtor():
    record = read(ubl(root="CreditNote", number="CN-8", amount="99.95"))
    assert (record.kind, record.credits_invoice, record.amount) == (DocumentKind.credit_note, None,
                                                                    Decimal("99.95"))
    assert record.debtor.number == "D-1042"


def test_a_correction_invoice_with_a_negative_amount_credits_the_invoice_it_references():
    record = read(ubl(number="2026-0050", amount="-125.50", references=("2026-0042",)))
    assert (record.where, record.kind, record.amount, record.credits_invoice) == (
        "Invoice 2026-0050", DocumentKind.credit_note, Decimal("125.50"), "2026-0042")
    error = refused(ubl(number="2026-0050", amount="-125.50"))
    assert error.where == "cac:LegalMonetaryTotal/cbc:PayableAmount"
    assert "correction" in error.reason and "cac:BillingReference" in error.reason


def test_nothing_payable_and_a_negative_credit_note_are_refused():
    error = refused(ubl(amount="0.00"))
    assert error.where == "cac:LegalMonetaryTotal/cbc:PayableAmount" and "nothing" in error.reason
    assert refused(ubl(root="CreditNote", amount="0")).where == "cac:LegalMonetaryTotal/cbc:PayableAmount"
    error = refused(ubl(root="CreditNote", amount="-10.00"))
    assert error.where == "cac:LegalMonetaryTotal/cbc:PayableAmount" and "negative" in error.reason


def test_a_credit_note_against_several_invoices_is_refused():
    error = refused(ubl(root="CreditNote", references=("A-1", "A-2")))
    assert error.where == "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
    assert "A-1, A-2" in error.reason


def test_a_buyer_without_company_or_vat_id_takes_the_default_kind():
    assert read(ubl(buyer=CONSUMER)).debtor.kind == DebtorKind.business
    debtor = read(ubl(buyer=CONSUMER), default_kind=DebtorKind.consumer).debtor
    # Nothing else identifies this buyer: the name is its number.
    assert (debtor.kind, debtor.number, debtor.name) == (DebtorKind.consumer, "J. Jansen", "J. Jansen")
    vat_only = CONSUMER.replace("</cac:Party>", "<cac:PartyTaxScheme><cbc:CompanyID>NL001234567B01</cbc:CompanyID>"
                                "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
                                "</cac:Party>")
    debtor = read(ubl(buyer=vat_only), default_kind=DebtorKind.consumer).debtor
    assert (debtor.kind, debtor.vat_id, debtor.number) == (DebtorKind.business, "NL001234567B01", "NL001234567B01")


def test_the_buyer_number_falls_back_from_identification_to_endpoint_to_company_id():
    endpoint = party('<cbc:EndpointID schemeID="0106">69599084</cbc:EndpointID>'
                     "<cac:PartyLegalEntity><cbc:RegistrationName>De Markt</cbc:RegistrationName>"
                     "<cbc:CompanyID>12345678</cbc:CompanyID></cac:PartyLegalEntity>")
    assert read(ubl(buyer=endpoint)).debtor.number == "69599084"
    company = endpoint.replace('<cbc:EndpointID schemeID="0106">69599084</cbc:EndpointID>', "")
    debtor = read(ubl(buyer=company)).debtor
    assert (debtor.number, debtor.name, debtor.company_id) == ("12345678", "De Markt", "12345678")


def test_the_buyers_iban_comes_from_a_direct_debit_mandate_never_from_the_payee_account():
    mandate = ("<cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode><cac:PaymentMandate>"
               "<cbc:ID>M-1</cbc:ID><cac:PayerFinancialAccount><cbc:ID>{}</cbc:ID></cac:PayerFinancialAccount>"
               "</cac:PaymentMandate></cac:PaymentMeans>")
    assert read(ubl(payment_means=mandate.format("nl44 rabo 0123 4567 89"))).debtor.iban == "NL44RABO0123456789"
    # A placeholder or mistyped account is left out; the invoice still counts.
    record = read(ubl(payment_means=mandate.format("NL11 BANK 1111111111")))
    assert record.debtor.iban is None and record.amount == Decimal("1250.00")
    # Only our own account (PayeeFinancialAccount NL91ABNA0417164300) in the document: no IBAN for the debtor.
    assert read(ubl()).debtor.iban is None


def test_the_due_date_from_the_payment_means_else_the_default_term():
    means = "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>" \
            "<cbc:PaymentDueDate>2026-03-16</cbc:PaymentDueDate></cac:PaymentMeans>"
    assert read(ubl(due=None, payment_means=means)).due_date == date(2026, 3, 16)
    assert read(ubl(due=None)).due_date == date(2026, 4, 1)
    assert read(ubl(due=None), default_term_days=14).due_date == date(2026, 3, 16)
    assert read(ubl(due="2026-04-01+01:00")).due_date == date(2026, 4, 1)


def test_the_language_only_where_the_buyer_states_it():
    assert read(ubl()).debtor.language is None  # the cbc:Note's languageID="en" is the seller's
    stated = FULL_BUYER.replace("<cac:PostalAddress>", "<cac:Language><cbc:LocaleCode>en_GB</cbc:LocaleCode>"
                                "</cac:Language><cac:PostalAddress>")
    assert read(ubl(buyer=stated)).debtor.language == "en"
    assert read(ubl(buyer=stated.replace("en_GB", "de_DE"))).debtor.language is None


def test_read_ubl_file_reads_from_disk_and_names_a_missing_file(tmp_path):
    path = tmp_path / "f.xml"
    path.write_bytes(b"\xef\xbb\xbf\n" + ubl())
    assert read_ubl_file(path).number == "2026-0042"
    with pytest.raises(DocumentError, match="no such file"):
        read_ubl_file(tmp_path / "missing.xml")


# --- broken files ---------------------------------------------------------------------------------------------


def test_truncated_xml_names_the_line():
    data = ubl()[:700]
    assert is_ubl(data)  # the root tells it is UBL; reading it says where it breaks
    error = refused(data)
    lines = data.count(b"\n") + 1
    assert error.where == f"line {lines}" and "not well-formed XML" in error.reason and "line" not in error.reason[-9:]


def test_a_wrong_root_or_namespace_says_what_it_is():
    wrong = ubl(namespace="urn:oasis:names:specification:ubl:schema:xsd:Invoice-1")
    assert not is_ubl(wrong)
    error = refused(wrong)
    assert error.where is None and "urn:oasis:names:specification:ubl:schema:xsd:Invoice-1" in error.reason
    assert "has no namespace" in refused(ubl(namespace="")).reason
    order = ubl(root="Order")
    assert "a UBL <Order>" in refused(order).reason
    cii = b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'
    assert "Cross Industry Invoice" in refused(cii).reason
    assert not is_ubl(b"invoice_number,amount\n2026-1,10.00\n") and not is_ubl(b"")


@pytest.mark.parametrize(("data", "where", "reason"), [
    (ubl(issue=""), "cbc:IssueDate", "missing"),
    (ubl(issue="2013-13-01"), "cbc:IssueDate", "not a date (YYYY-MM-DD): '2013-13-01'"),
    (ubl(number=" "), "cbc:ID", "missing"),
    (ubl(amount="1250,00"), "cac:LegalMonetaryTotal/cbc:PayableAmount", "not a decimal amount"),
    (ubl(amount="1.250,00"), "cac:LegalMonetaryTotal/cbc:PayableAmount", "not a decimal amount"),
    (ubl(amount="1250.005"), "cac:LegalMonetaryTotal/cbc:PayableAmount", "more than two decimals"),
    (ubl(amount=""), "cac:LegalMonetaryTotal/cbc:PayableAmount", "missing"),
    (ubl(currency='currencyID="USD"'), "cac:LegalMonetaryTotal/cbc:PayableAmount", "differs"),
    (ubl(due="2026-02-01"), "cbc:DueDate", "lies before the issue date"),
    (ubl(buyer=None), "cac:AccountingCustomerParty", "missing"),
    (ubl(buyer=party("<cac:PartyIdentification><cbc:ID>1</cbc:ID></cac:PartyIdentification>")),
     f"{BUYER}/cac:PartyName/cbc:Name", "no name"),
    (ubl(buyer=FULL_BUYER.replace("administratie@demarkt.nl", "a@demarkt.nl; b@demarkt.nl")),
     f"{BUYER}/cac:Contact/cbc:ElectronicMail", "not a valid e-mail address"),
    (ubl(buyer=FULL_BUYER.replace("Grand Café", "Grand&#10;Café")), f"{BUYER}/cac:PartyName/cbc:Name",
     "line breaks"),
    (ubl(buyer=FULL_BUYER.replace("<cbc:StreetName>Markt", "<cbc:StreetName>Markt\tplein")),
     f"{BUYER}/cac:PostalAddress/cbc:StreetName", "a tab too"),
    (ubl(buyer=FULL_BUYER.replace(">nl<", ">NLD<")),
     f"{BUYER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "two-letter"),
], ids=["no IssueDate", "bad IssueDate", "no ID", "comma", "thousands", "three decimals", "no amount",
        "currency", "due before issue", "no buyer", "no buyer name", "two e-mails", "newline in name", "tab",
        "country"])
def test_a_broken_document_is_refused_naming_the_file_and_the_element(data, where, reason):
    error = refused(data)
    assert error.where == where and reason in error.reason


def test_a_doctype_and_an_empty_file_are_refused():
    doctype = ubl().replace(b"<Invoice ", b'<!DOCTYPE Invoice [<!ENTITY x "y">]>\n<Invoice ', 1)
    assert "DOCTYPE" in refused(doctype).reason
    assert refused(b" \n").reason == "the file is empty"
