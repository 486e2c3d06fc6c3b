"""UBL 2.1 Invoice and CreditNote documents as Dutch accounting packages send them (SI-UBL 2.0 / NLCIUS, Peppol
BIS Billing 3.0, EN 16931): the payable amount, the dates and the buyer, read into an `InvoiceRecord`.

What is taken from where (paths from the document's root element):

- number `cbc:ID`, issue date `cbc:IssueDate`;
- due date `cbc:DueDate`, else the first `cac:PaymentMeans/cbc:PaymentDueDate`, else the issue date plus
  `default_term_days` (payment terms in UBL are free text, `cac:PaymentTerms/cbc:Note`, and are never interpreted);
- amount `cac:LegalMonetaryTotal/cbc:PayableAmount` (what is left to pay after prepayment and rounding), currency
  its `currencyID`, else `cbc:DocumentCurrencyCode`;
- a CreditNote is a credit note; an Invoice with a negative payable amount (a correction invoice) is a credit note
  of the absolute amount too, but only when it says which invoice it corrects. The credited invoice is
  `cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID` (an Invoice's billing reference to a preceding
  invoice means nothing for a positive invoice and is not read);
- the buyer `cac:AccountingCustomerParty/cac:Party`: see `_Reader.debtor`; the payee's account
  (`cac:PayeeFinancialAccount`) is the creditor's own and is never taken as the debtor's;
- the invoice copy: an embedded `application/pdf` attachment of `cac:AdditionalDocumentReference`.

Every refusal is a `DocumentError` naming the file and the element (or the line, for XML that is not
well-formed)."""

from __future__ import annotations

import base64
import binascii
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from dunning.documents.records import DebtorRecord, DocumentError, DocumentKind, InvoiceRecord
from dunning.documents.xml import body, root_of
from dunning.domain.fields import email_address_problem, line_problem
from dunning.domain.kinds import DebtorKind

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_ROOTS = {f"{{{INVOICE_NS}}}Invoice": "Invoice", f"{{{CREDIT_NOTE_NS}}}CreditNote": "CreditNote"}
_UBL_DOCUMENT_NS = re.compile(r"urn:oasis:names:specification:ubl:schema:xsd:(\w+)-2")
_CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

# xsd:decimal: an optional sign, digits with an optional decimal point; no thousands separators, no comma.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# xsd:date, with the optional time zone UBL allows ("2013-04-10Z", "2013-04-10+02:00"): the date as written.
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1e12")  # the books hold at most 12 digits before the point
# The languages the engine writes in, as UBL may state them (cac:Language: an ISO 639 code or a locale).
_LANGUAGES = {"nl": "nl", "nld": "nl", "dut": "nl", "en": "en", "eng": "en"}

_BUYER = "cac:AccountingCustomerParty/cac:Party"
_PAYABLE = "cac:LegalMonetaryTotal/cbc:PayableAmount"
_BILLING_REFERENCE = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"

# Secure by default: no entities expanded, nothing fetched, no DTD, lxml's size limits left on (as dunning.bank).

def is_ubl(data: bytes) -> bool:
    """Whether `data` is a UBL 2.1 Invoice or CreditNote, from its root element alone: a document that breaks off
    later is still one (and `read_ubl` says where it breaks)."""
    try:
        for _event, element in etree.iterparse(io.BytesIO(body(data)[0]), events=("start",), resolve_entities=False,
                                               no_network=True, load_dtd=False, huge_tree=False):
            return element.tag in _ROOTS
    except etree.XMLSyntaxError:
        return False
    return False


def read_ubl_file(path: Path | str, *, default_kind: DebtorKind = DebtorKind.business,
                  default_term_days: int = 30) -> InvoiceRecord:
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DocumentError(file, None, "no such file") from None
    except OSError as e:
        raise DocumentError(file, None, f"cannot be read ({e.strerror or e})") from None
    return read_ubl(data, file, default_kind=default_kind, default_term_days=default_term_days)


def read_ubl(data: bytes, file: str, *, default_kind: DebtorKind = DebtorKind.business,
             default_term_days: int = 30) -> InvoiceRecord:
    root = _document(data, file)
    name = _ROOTS.get(root.tag)
    if name is None:
        raise DocumentError(file, None, _wrong_root(root))
    r = _Reader(file)
    number = r.required(root, "cbc:ID")
    issue_date = r.required_date(root, "cbc:IssueDate")
    amount, currency = r.payable(root)
    kind, credits = r.kind_and_reference(root, name, amount)
    return InvoiceRecord(
        where=f"{name} {number}", number=number, debtor=r.debtor(root, default_kind), issue_date=issue_date,
        due_date=r.due_date(root, issue_date, default_term_days), amount=abs(amount), currency=currency,
        kind=kind, credits_invoice=credits, pdf=r.pdf(root, number))


def _document(data: bytes, file: str) -> Any:
    return root_of(data, file, "a UBL document")


def _wrong_root(root: Any) -> str:
    qname = etree.QName(root)
    local, ns = qname.localname, qname.namespace
    start = "not a UBL Invoice or CreditNote: "
    if not ns:
        expected = CREDIT_NOTE_NS if local == "CreditNote" else INVOICE_NS
        return f"{start}the root element <{local}> has no namespace (expected {expected})"
    if ns == _CII_NS:
        return (f"{start}the root element <{local}> is a UN/CEFACT Cross Industry Invoice (CII, namespace {ns}); "
                "export the invoice as UBL (SI-UBL 2.0 / Peppol BIS Billing 3.0)")
    other = _UBL_DOCUMENT_NS.fullmatch(ns)
    if other and local == other.group(1):
        return f"{start}the root element is a UBL <{local}> (namespace {ns})"
    if local in ("Invoice", "CreditNote"):
        expected = CREDIT_NOTE_NS if local == "CreditNote" else INVOICE_NS
        return f"{start}the root element <{local}> is in the namespace {ns}, not {expected}"
    return f"{start}the root element is <{local}> in the namespace {ns}"


class _Reader:
    def __init__(self, file: str):
        self.file = file

    def fail(self, where: str, reason: str, element: Any = None) -> DocumentError:
        line = getattr(element, "sourceline", None)
        return DocumentError(self.file, where, f"{reason} (line {line})" if line else reason)

    def text(self, el: Any, path: str, where: str | None = None) -> str | None:
        """The stripped text of the first element at `path` that has any, checked as a single-line field;
        None when there is none. `where` names it in errors (default `path`)."""
        for found in el.iterfind(path, _NS):
            value = "".join(found.itertext()).strip()
            if value:
                if problem := line_problem(value):
                    raise self.fail(where or path, problem, found)
                return value
        return None

    def required(self, el: Any, path: str, where: str | None = None) -> str:
        value = self.text(el, path, where)
        if value is None:
            raise self.fail(where or path, "missing")
        return value

    def required_date(self, el: Any, path: str) -> date:
        """The date at `path`, required."""
        found = el.find(path, _NS)
        if found is None or not "".join(found.itertext()).strip():
            raise self.fail(path, "missing")
        return self.date_of(found, path)

    def date_of(self, found: Any, where: str) -> date:
        raw = "".join(found.itertext()).strip()
        match = _DATE.fullmatch(raw)
        try:
            if match is None:
                raise ValueError(raw)
            return date.fromisoformat(match.group(1))
        except ValueError:
            raise self.fail(where, f"not a date (YYYY-MM-DD): {raw!r}", found) from None

    def payable(self, root: Any) -> tuple[Decimal, str]:
        element = root.find(_PAYABLE, _NS)
        raw = "".join(element.itertext()).strip() if element is not None else ""
        if not raw:
            raise self.fail(_PAYABLE, "missing")
        if not _DECIMAL.fullmatch(raw):
            raise self.fail(_PAYABLE, f"not a decimal amount like 1234.56 (a point before the cents, no thousands "
                            f"separators): {raw!r}", element)
        amount = Decimal(raw)
        if amount != amount.quantize(_CENT):
            raise self.fail(_PAYABLE, f"more than two decimals: {raw!r}", element)
        if abs(amount) >= MAX_AMOUNT:
            raise self.fail(_PAYABLE, f"amount too large (at most {MAX_AMOUNT - _CENT}): {raw!r}", element)
        document_currency = self.text(root, "cbc:DocumentCurrencyCode")
        currency = (element.get("currencyID") or "").strip() or document_currency
        if currency is None:
            raise self.fail("cbc:DocumentCurrencyCode", f"missing, and {_PAYABLE} has no currencyID")
        if not _CURRENCY.fullmatch(currency):
            raise self.fail(_PAYABLE, f"not a currency code (e.g. EUR): currencyID {currency!r}", element)
        if document_currency is not None and currency != document_currency:
            raise self.fail(_PAYABLE, f"currencyID {currency} differs from cbc:DocumentCurrencyCode "
                            f"{document_currency}", element)
        return amount.quantize(_CENT), currency

    def kind_and_reference(self, root: Any, name: str, amount: Decimal) -> tuple[DocumentKind, str | None]:
        if name == "Invoice" and amount > 0:
            return DocumentKind.invoice, None
        if amount == 0:
            what = ("an invoice with nothing left to pay (fully prepaid?) has nothing to collect" if name == "Invoice"
                    else "a credit note of 0.00 credits nothing")
            raise self.fail(_PAYABLE, f"the payable amount is 0.00: {what}", root.find(_PAYABLE, _NS))
        if name == "CreditNote" and amount < 0:
            raise self.fail(_PAYABLE, f"a credit note with a negative payable amount ({amount}) would be a charge: "
                            "send it as an invoice", root.find(_PAYABLE, _NS))
        references = list(dict.fromkeys(
            value for found in root.iterfind(_BILLING_REFERENCE, _NS)
            if (value := "".join(found.itertext()).strip())))
        for value in references:
            if problem := line_problem(value):
                raise self.fail(_BILLING_REFERENCE, problem)
        if len(references) > 1:
            # One amount against several invoices cannot say how much each one is credited.
            raise self.fail(_BILLING_REFERENCE, f"credits several invoices ({', '.join(references)}): the amount "
                            "cannot be divided between them; send one credit note per invoice")
        reference = references[0] if references else None
        if name == "Invoice" and reference is None:
            # A correction invoice (type 384 and the like) lowers an earlier invoice; which one it must say.
            raise self.fail(_PAYABLE, f"a negative payable amount ({amount}) on an Invoice is a correction, "
                            f"but {_BILLING_REFERENCE} does not say which invoice it corrects",
                            root.find(_PAYABLE, _NS))
        return DocumentKind.credit_note, reference

    def due_date(self, root: Any, issue_date: date, default_term_days: int) -> date:
        for path in ("cbc:DueDate", "cac:PaymentMeans/cbc:PaymentDueDate"):
            for found in root.iterfind(path, _NS):
                if "".join(found.itertext()).strip():
                    due = self.date_of(found, path)
                    if due < issue_date:
                        raise self.fail(path, f"the due date {due} lies before the issue date {issue_date}", found)
                    return due
        # PaymentTerms is free text ("14 dagen netto", "50% prepaid, ..."): the installation's term applies.
        return issue_date + timedelta(days=default_term_days)

    def debtor(self, root: Any, default_kind: DebtorKind) -> DebtorRecord:
        """The buyer. Its number, the debtor's number in our books, is the first of: a
        `cac:PartyIdentification/cbc:ID` (one without a schemeID first: that is the seller's own customer number,
        where a GLN or KvK number has a scheme), the `cbc:EndpointID`, the company registration, the VAT id, and
        at last the name. A buyer with a company registration or a tax registration is a business; otherwise
        `default_kind` decides."""
        if root.find("cac:AccountingCustomerParty", _NS) is None:
            raise self.fail("cac:AccountingCustomerParty", "missing: the document does not say who the buyer is")
        party = root.find(_BUYER, _NS)
        if party is None:
            raise self.fail(_BUYER, "missing", root.find("cac:AccountingCustomerParty", _NS))

        def text(path: str) -> str | None:
            return self.text(party, path, f"{_BUYER}/{path}")

        name = text("cac:PartyName/cbc:Name") or text("cac:PartyLegalEntity/cbc:RegistrationName")
        if name is None:
            raise self.fail(f"{_BUYER}/cac:PartyName/cbc:Name", "missing, and no "
                            "cac:PartyLegalEntity/cbc:RegistrationName either: the buyer has no name", party)
        identifications = party.findall("cac:PartyIdentification/cbc:ID", _NS)
        own = [i for i in identifications if not (i.get("schemeID") or "").strip()]
        identification = None
        for candidate in own + [i for i in identifications if i not in own]:
            value = "".join(candidate.itertext()).strip()
            if value:
                if problem := line_problem(value):
                    raise self.fail(f"{_BUYER}/cac:PartyIdentification/cbc:ID", problem, candidate)
                identification = value
                break
        company_id = text("cac:PartyLegalEntity/cbc:CompanyID")
        vat_id, tax_registered = self.vat_id(party)
        email = text("cac:Contact/cbc:ElectronicMail")
        if email is not None and (problem := email_address_problem(email)):
            raise self.fail(f"{_BUYER}/cac:Contact/cbc:ElectronicMail",
                            f"not a valid e-mail address: {email!r} ({problem})",
                            party.find("cac:Contact/cbc:ElectronicMail", _NS))
        country = text("cac:PostalAddress/cac:Country/cbc:IdentificationCode")
        if country is not None and not _COUNTRY.fullmatch(country):
            raise self.fail(f"{_BUYER}/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
                            f"not a two-letter country code: {country!r}",
                            party.find("cac:PostalAddress/cac:Country/cbc:IdentificationCode", _NS))
        return DebtorRecord(
            number=identification or text("cbc:EndpointID") or company_id or vat_id or name,
            name=name,
            kind=DebtorKind.business if company_id or tax_registered else default_kind,
            email=email,
            phone=text("cac:Contact/cbc:Telephone"),
            street=self.street(party),
            postcode=text("cac:PostalAddress/cbc:PostalZone"),
            city=text("cac:PostalAddress/cbc:CityName"),
            country=country.upper() if country else None,
            language=self.language(party),
            contact_name=text("cac:Contact/cbc:Name"),
            company_id=company_id,
            vat_id=vat_id,
            iban=self.iban(root, party),
        )

    def vat_id(self, party: Any) -> tuple[str | None, bool]:
        """The VAT id (a `cac:PartyTaxScheme` whose scheme is VAT, or says none), and whether the buyer has any tax
        registration at all (NLCIUS also writes other schemes, such as a fiscal number)."""
        vat_id, registered = None, False
        for scheme in party.iterfind("cac:PartyTaxScheme", _NS):
            value = self.text(scheme, "cbc:CompanyID", f"{_BUYER}/cac:PartyTaxScheme/cbc:CompanyID")
            if value is None:
                continue
            registered = True
            tax = (self.text(scheme, "cac:TaxScheme/cbc:ID", f"{_BUYER}/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID")
                   or "VAT")
            if vat_id is None and tax.upper() == "VAT":
                vat_id = value
        return vat_id, registered

    def street(self, party: Any) -> str | None:
        """`cbc:StreetName` with `cbc:BuildingNumber` after it (the Dutch order), then `cbc:AdditionalStreetName`:
        one address line, as the letters print it."""
        def text(path: str) -> str | None:
            return self.text(party, f"cac:PostalAddress/{path}", f"{_BUYER}/cac:PostalAddress/{path}")

        street, building, additional = text("cbc:StreetName"), text("cbc:BuildingNumber"), text(
            "cbc:AdditionalStreetName")
        line = " ".join(part for part in (street, building) if part)
        return ", ".join(part for part in (line, additional) if part) or None

    def language(self, party: Any) -> str | None:
        """`cac:Language` of the buyer when stated (rare in UBL): nl or en; another language, or none, leaves it to
        the importer's default. A note's `languageID` says in what language the seller wrote, not what the buyer
        reads, and never counts."""
        for path in ("cac:Language/cbc:ID", "cac:Language/cbc:LocaleCode"):
            value = self.text(party, path, f"{_BUYER}/{path}")
            if value:
                code = re.split(r"[-_]", value)[0].lower()
                if code in _LANGUAGES:
                    return _LANGUAGES[code]
        return None

    def iban(self, root: Any, party: Any) -> str | None:
        """The account the buyer pays from: a direct-debit mandate's payer account, else an account the buyer's
        party states. The payee account (`cac:PayeeFinancialAccount`) is the creditor's own: never taken."""
        raw = (self.text(root, "cac:PaymentMeans/cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID")
               or self.text(party, "cac:FinancialAccount/cbc:ID", f"{_BUYER}/cac:FinancialAccount/cbc:ID"))
        if raw is None:
            return None
        try:
            return IBAN(raw).compact
        except SchwiftyException:
            # Not refused: the IBAN is a help for matching payments, not part of the claim, and exports carry
            # placeholders ("NLING34434343434", "DK1212341234123412" in the public samples). The record is kept
            # without it rather than refusing an invoice that is otherwise sound.
            return None

    def pdf(self, root: Any, number: str) -> bytes | None:
        """The invoice as the debtor received it: an `application/pdf` attachment whose content is a PDF. When
        there are several, the one whose reference ID or file name holds the invoice number, else the first.
        An attachment labelled PDF whose content is something else (the public samples carry test strings) is
        not kept: it is not the invoice copy, and the invoice itself is sound."""
        path = "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
        found: list[tuple[bool, bytes]] = []
        for reference in root.iterfind("cac:AdditionalDocumentReference", _NS):
            obj = reference.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", _NS)
            if obj is None or (obj.get("mimeCode") or "").strip().lower() != "application/pdf":
                continue
            encoded = "".join("".join(obj.itertext()).split())  # base64 is often wrapped at 76 characters
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as e:
                raise self.fail(path, f"the embedded PDF is not valid base64 ({e})", obj) from None
            if not content.startswith(b"%PDF"):
                continue
            names = ("".join(reference.findtext("cbc:ID", "", _NS).split()), obj.get("filename") or "")
            found.append((any(number in n for n in names if n), content))
        matching = [content for match, content in found if match]
        chosen = matching or [content for _, content in found]
        return chosen[0] if chosen else None
