"""An invoice or credit note as the engine takes it in, whatever file it came from."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.domain.errors import UserError
from dunning.domain.kinds import DebtorKind


class DocumentError(UserError):
    """A file that cannot be taken in: `where` names the place ("row 3, column amount", "cbc:DueDate")."""

    def __init__(self, file: str, where: str | None, reason: str):
        self.file, self.where, self.reason = file, where, reason
        super().__init__(f"{file}: {where}: {reason}" if where else f"{file}: {reason}")


class DocumentKind(enum.StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


@dataclass(frozen=True)
class DebtorRecord:
    number: str  # the debtor's number in the books (UBL: the buyer's party identification or endpoint)
    name: str
    kind: DebtorKind | None = None  # None: the file does not say; the importer's setting decides
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166 alpha-2, upper case
    language: str | None = None  # "nl" or "en"; None: the file does not say
    contact_name: str | None = None  # the person to address ("t.a.v.")
    contact_salutation: str | None = None  # heer, mevrouw, mr or ms: "Geachte heer De Vries," (CSV only)
    company_id: str | None = None  # KvK or another registration (UBL cac:PartyLegalEntity/cbc:CompanyID)
    vat_id: str | None = None
    iban: str | None = None  # the account the debtor pays from, compact, checked
    preferred_channel: str | None = None  # CSV only: email, letter or phone
    call_times: str | None = None  # CSV only


@dataclass(frozen=True)
class InvoiceRecord:
    """One invoice (positive `amount`) or credit note (`kind` credit_note, positive `amount` that lowers what is
    open on `credits_invoice`, or is a credit on the debtor when that is None)."""

    where: str  # "row 3" or "Invoice TOSL108": how errors about this record name it
    number: str
    debtor: DebtorRecord
    issue_date: date
    due_date: date
    amount: Decimal  # the payable amount, cents, positive
    currency: str
    kind: DocumentKind = DocumentKind.invoice
    credits_invoice: str | None = None
    pdf: bytes | None = None  # the invoice itself as the debtor received it (UBL embedded attachment)
