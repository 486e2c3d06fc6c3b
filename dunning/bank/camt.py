"""ISO 20022 camt.053 (bank-to-customer statement), any version 001.NN: the booked entries, one line each, or one
line per transaction when an entry is a batch that settles several payments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from dunning.bank.lines import Statement, StatementError, StatementLine, with_identities
from dunning.documents.xml import root_of

_STATEMENT_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
_OTHER_ISO_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3}\.\d{3}\.\d{2})")
_KNOWN_MESSAGES = {
    "camt.052": "an intraday account report",
    "camt.054": "a debit/credit notification",
}
# ISO 20022 amounts: digits with an optional decimal point; no sign, no thousands separators, no comma.
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_CENT = Decimal("0.01")
_NOT_PROVIDED = "NOTPROVIDED"
_BOOKED = "BOOK"

# Secure by default: no entities expanded, nothing fetched, no DTD, lxml's size limits left on.

def parse_camt(data: bytes, file: str) -> Statement:
    root = _document(data, file)
    ns = etree.QName(root).namespace or ""
    version = _STATEMENT_NS.fullmatch(ns)
    if version is None:
        raise StatementError(file, None, _wrong_message(root))
    if etree.QName(root).localname != "Document":
        raise StatementError(file, None, f"not a CAMT.053 statement: the root element is "
                             f"<{etree.QName(root).localname}>, not <Document>")
    reader = _Reader(ns, file)
    lines: list[StatementLine] = []
    accounts: list[str] = []
    entry = 0
    for number, stmt in enumerate(reader.all(root, "BkToCstmrStmt/Stmt"), start=1):
        account = reader.account(stmt, number)
        if account not in accounts:
            accounts.append(account)
        for ntry in reader.all(stmt, "Ntry"):
            entry += 1
            if reader.booked(ntry):
                lines += reader.entry_lines(ntry, entry, account)
    if not accounts:
        raise StatementError(file, None, "a camt.053 document without any statement (Stmt)")
    return Statement(file=file, format=f"camt.053.001.{version.group(1)}", lines=with_identities(lines),
                     accounts=tuple(accounts))


def _document(data: bytes, file: str) -> Any:
    return root_of(data, file, "a bank statement", StatementError)


def _wrong_message(root: Any) -> str:
    qname = etree.QName(root)
    if not qname.namespace:
        return (f"not a CAMT.053 statement: the XML root <{qname.localname}> has no namespace "
                "(expected urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN)")
    other = _OTHER_ISO_NS.fullmatch(qname.namespace)
    if other:
        message = other.group(1)
        what = _KNOWN_MESSAGES.get(message[:8], "another ISO 20022 message")
        return f"not a CAMT.053 statement: the namespace {qname.namespace} is {message}, {what}"
    return f"not a CAMT.053 statement: the XML namespace is {qname.namespace} (root element <{qname.localname}>)"


@dataclass(frozen=True)
class _Details:
    """What a transaction (TxDtls) says beyond its amount."""

    counterparty: str | None = None
    iban: str | None = None
    remittance: str = ""
    reference: str | None = None
    end_to_end: str | None = None
    return_reason: str | None = None


class _Reader:
    def __init__(self, ns: str, file: str):
        self.ns, self.file = ns, file

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" for step in path.split("/"))

    def all(self, el: Any, path: str) -> list[Any]:
        return list(el.iterfind(self._path(path)))

    def first(self, el: Any, path: str) -> Any:
        return el.find(self._path(path))

    def text(self, el: Any, *paths: str) -> str | None:
        """The first non-empty text among `paths`, stripped."""
        for path in paths:
            found = el.find(self._path(path))
            if found is not None and found.text and found.text.strip():
                return str(found.text.strip())
        return None

    def account(self, stmt: Any, number: int) -> str:
        account = self.text(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
        if account is None:
            raise StatementError(self.file, f"statement {number}", "no account (Acct/Id/IBAN or Acct/Id/Othr/Id)")
        return _compact(account)

    def booked(self, ntry: Any) -> bool:
        # v02..v07 write <Sts>BOOK</Sts>, v08 <Sts><Cd>BOOK</Cd></Sts>; a missing status is taken as booked.
        status = self.text(ntry, "Sts/Cd", "Sts/Prtry", "Sts")
        return status is None or status.upper() == _BOOKED

    def entry_lines(self, ntry: Any, entry: int, account: str) -> list[StatementLine]:
        where = f"entry {entry}"
        amount, currency = self.amount(self.first(ntry, "Amt"), where)
        indicator = self.text(ntry, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise StatementError(self.file, where, f"CdtDbtInd must be CRDT or DBIT, not {indicator!r}")
        credit = indicator == "CRDT"
        reversed_ = (self.text(ntry, "RvslInd") or "").lower() in ("true", "1")
        booked = self.booking_date(ntry, where)
        bank_reference = _provided(self.text(ntry, "AcctSvcrRef")) or _provided(self.text(ntry, "NtryRef"))
        entry_info = self.text(ntry, "AddtlNtryInf") or ""
        transactions = self.all(ntry, "NtryDtls/TxDtls")

        def line(amount: Decimal, details: _Details) -> StatementLine:
            return StatementLine(
                entry=entry, account=account, booked=booked, amount=amount, currency=currency, credit=credit,
                reversal=reversed_ or details.return_reason is not None, counterparty=details.counterparty,
                iban=details.iban, remittance=details.remittance or entry_info, reference=details.reference,
                bank_reference=bank_reference, end_to_end=details.end_to_end, return_reason=details.return_reason)

        parts = self.batch(transactions, amount, currency, where)
        if parts:
            return [line(part, self.details(tx, credit)) for tx, part in zip(transactions, parts, strict=True)]
        return [line(amount, _combined([self.details(tx, credit) for tx in transactions]))]

    def batch(self, transactions: list[Any], total: Decimal, currency: str, where: str) -> list[Decimal]:
        """The amounts of a batch's transactions when each has its own and together they make up the entry:
        then every transaction is a payment of its own (one bank entry settling several invoices)."""
        if len(transactions) < 2:
            return []
        parts = []
        for tx in transactions:
            element = self.first(tx, "AmtDtls/TxAmt/Amt")
            element = element if element is not None else self.first(tx, "Amt")
            if element is None:
                return []
            amount, ccy = self.amount(element, where)
            if ccy != currency:
                return []
            parts.append(amount)
        # Parts that do not add up cannot say which payment is which: keep the entry whole, as booked.
        return parts if sum(parts) == total else []

    def details(self, tx: Any, credit: bool) -> _Details:
        party, party_account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        unstructured = [t.text.strip() for t in self.all(tx, "RmtInf/Ustrd") if t.text and t.text.strip()]
        references = [r.text.strip() for r in self.all(tx, "RmtInf/Strd/CdtrRefInf/Ref") if r.text and r.text.strip()]
        remittance = " ".join(unstructured) or self.text(tx, "AddtlTxInf") or ""
        if len(references) > 1:
            # One payment for several invoices: the matcher finds the other references in the text.
            remittance = " ".join([remittance, *references[1:]]).strip()
        iban = self.text(tx, f"RltdPties/{party_account}/Id/IBAN")
        return _Details(
            counterparty=self.text(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"),
            iban=_compact(iban) if iban else None,
            remittance=remittance,
            reference=references[0] if references else None,
            end_to_end=_provided(self.text(tx, "Refs/EndToEndId")),
            return_reason=self.text(tx, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"),
        )

    def amount(self, element: Any, where: str) -> tuple[Decimal, str]:
        if element is None:
            raise StatementError(self.file, where, "no amount (Amt)")
        raw = (element.text or "").strip()
        if not _AMOUNT.fullmatch(raw):
            raise StatementError(self.file, where, f"amount {raw!r} is not a positive decimal like 1234.56 "
                                 "(a point before the cents, no sign, no thousands separators)")
        amount = Decimal(raw)
        if amount != amount.quantize(_CENT):
            raise StatementError(self.file, where, f"amount {raw} has fractions of a cent")
        currency = (element.get("Ccy") or "").strip()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise StatementError(self.file, where, f"amount {raw} has no valid currency (Ccy={currency!r})")
        return amount.quantize(_CENT), currency

    def booking_date(self, ntry: Any, where: str) -> date:
        raw = self.text(ntry, "BookgDt/Dt", "BookgDt/DtTm")
        if raw is None:
            raise StatementError(self.file, where, "no booking date (BookgDt)")
        try:
            # A DtTm is read as the bank wrote it: its date part is the bank's booking day.
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise StatementError(self.file, where, f"booking date {raw!r} is not a date (YYYY-MM-DD)") from None


def _combined(details: list[_Details]) -> _Details:
    """One line for an entry whose transactions are not separate payments: what they agree on."""
    if len(details) == 1:
        return details[0]
    if not details:
        return _Details()

    def same(values: list[str | None]) -> str | None:
        return values[0] if len(set(values)) == 1 else None

    texts = list(dict.fromkeys(d.remittance for d in details if d.remittance))
    references = [d.reference for d in details if d.reference]
    return _Details(
        counterparty=same([d.counterparty for d in details]), iban=same([d.iban for d in details]),
        remittance=" ".join(texts + references[1:]), reference=references[0] if references else None,
        end_to_end=same([d.end_to_end for d in details]), return_reason=same([d.return_reason for d in details]))


def _provided(value: str | None) -> str | None:
    return None if value is None or value.upper() == _NOT_PROVIDED else value


def _compact(account: str) -> str:
    return "".join(account.split()).upper()
