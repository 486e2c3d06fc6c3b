"""Looking up invoices and what is still open on them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dunning.bank.references import payment_reference
from dunning.casework import dossier
from dunning.domain.errors import UserError
from dunning.domain.kinds import PaymentKind
from dunning.domain.time import local
from dunning.storage.models import BankLine, Debtor, Invoice, Payment

ZERO = Decimal("0.00")
HALF_CENT = Decimal("0.005")
CHUNK = 500  # ids per IN (...): well within every database's limit on bound parameters


def get(session: Session, number: str) -> Invoice:
    invoice = session.scalars(select(Invoice).where(Invoice.number == number)).one_or_none()
    if invoice is None:
        raise UserError(f"unknown invoice {number!r}")
    return invoice


def paid_amount(session: Session, invoice: Invoice) -> Decimal:
    """Payments and credits that stand: a payment the bank took back no longer counts."""
    total = session.scalar(
        select(func.sum(Payment.amount)).where(Payment.invoice_id == invoice.id, Payment.reversed_at.is_(None))
    )
    return Decimal(total or 0)


def standing(payments: list[Payment]) -> list[Payment]:
    return [p for p in payments if p.reversed_at is None]


def new_payment_reference(session: Session, number: str, given: set[str]) -> str:
    """The invoice's payment reference, unique: readable unless another invoice's number has the same letters
    and digits ("F-1" and "F1"). `given` holds those handed out in this transaction and not yet flushed."""
    reference = payment_reference(number)
    taken = reference in given or session.scalar(select(Invoice.id).where(Invoice.payment_reference == reference))
    if taken:
        reference = payment_reference(number, hashed=True)
    given.add(reference)
    return reference


def open_amount(session: Session, invoice: Invoice) -> Decimal:
    return invoice.amount - paid_amount(session, invoice)


def open_amounts(session: Session, of: Collection[Invoice]) -> dict[int, Decimal]:
    """`open_amount` of each invoice by its id, in one query per CHUNK invoices rather than one per invoice (a
    debtor with fifty open invoices is named in each message to them)."""
    ids = [i.id for i in of]
    paid: dict[int, Decimal] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Payment.invoice_id, func.sum(Payment.amount))
            .where(Payment.invoice_id.in_(ids[start:start + CHUNK]), Payment.reversed_at.is_(None))
            .group_by(Payment.invoice_id)
        )
        paid.update((invoice_id, Decimal(total or 0)) for invoice_id, total in rows)
    return {i.id: i.amount - paid.get(i.id, ZERO) for i in of}


def open_of_debtor(session: Session, debtor: Debtor) -> list[Invoice]:
    """Every invoice of the debtor with something still to pay, oldest due date first."""
    return list(owed_by(session, debtor))


def owed_by(session: Session, debtor: Debtor) -> dict[Invoice, Decimal]:
    """`open_of_debtor`, each with what is open on it (two queries, however many invoices)."""
    query = select(Invoice).where(Invoice.debtor_id == debtor.id, Invoice.closed_reason.is_(None))
    found = list(session.scalars(query.order_by(Invoice.due_date, Invoice.number)))
    amounts = open_amounts(session, found)
    return {i: amounts[i.id] for i in found if amounts[i.id] > 0}


def register_payment(
    session: Session,
    invoice: Invoice,
    amount: Decimal,
    paid_on: date,
    now: datetime,
    reference: str | None = None,
    bank_line: BankLine | None = None,
    source: str = "recorded by hand",
) -> Payment:
    """A payment on the invoice, from a statement line or, without one, from `source` (a person, the ledger)."""
    if not amount.is_finite() or amount <= 0:
        raise UserError(f"payment amount must be positive, got {amount}")
    if amount != amount.quantize(Decimal("0.01")):
        # The column keeps cents: a rounded amount would differ from the one stated in the dossier.
        raise UserError(f"payment amount has more than two decimals, got {amount}")
    payment = Payment(
        invoice=invoice, amount=amount, paid_on=paid_on, reference=reference, recorded_at=now, bank_line=bank_line
    )
    session.add(payment)
    session.flush()
    remaining = open_amount(session, invoice)
    summary, data = payment_evidence(invoice.currency, amount, paid_on, remaining, bank_line, source)
    dossier.record(
        session, invoice, key=f"{invoice.number}:payment:{payment.id}", kind="payment", at=now, summary=summary,
        data=data,
    )
    # A payment is a changed fact: the run should look at it at the next sweep, not at its next wake-up.
    invoice.wake_at = now
    return payment


class StatementLineSource(Protocol):
    """Where a payment came from: a stored statement line (`BankLine`, or the same facts during a bulk import)."""

    @property
    def id(self) -> int: ...
    @property
    def counterparty(self) -> str | None: ...
    @property
    def iban(self) -> str | None: ...
    @property
    def file(self) -> str: ...
    @property
    def entry(self) -> int: ...


def payment_evidence(currency: str, amount: Decimal, paid_on: date, remaining: Decimal,
                     bank_line: StatementLineSource | None, source: str = "recorded by hand"
                     ) -> tuple[str, dict[str, str | int | None]]:
    """What the dossier says of a payment: how much, when, from whom and which statement line, what is left."""
    data: dict[str, str | int | None] = {"amount": str(amount), "paid_on": paid_on.isoformat(), "open": str(remaining)}
    if bank_line is not None:
        who = f" from {bank_line.counterparty}" if bank_line.counterparty else ""
        iban = f" ({bank_line.iban})" if bank_line.iban else ""
        source = f"bank{who}{iban}, {bank_line.file} entry {bank_line.entry}"
        data |= {"bank_line": bank_line.id, "counterparty": bank_line.counterparty, "iban": bank_line.iban,
                 "statement": bank_line.file, "entry": bank_line.entry}
    summary = (f"payment of {currency} {amount:.2f} on {paid_on.isoformat()} ({source}); "
               f"open {currency} {remaining:.2f}")
    return summary, data


def register_credit(
    session: Session, invoice: Invoice, amount: Decimal, kind: PaymentKind, why: str, now: datetime
) -> Payment:
    """A credit note or write-off: lowers what is open like a payment, but is not money received."""
    credit = Payment(
        invoice=invoice, amount=amount, paid_on=local(now).date(), reference=why, recorded_at=now, kind=kind
    )
    session.add(credit)
    session.flush()
    remaining = open_amount(session, invoice)
    what = "credit note" if kind is PaymentKind.credit_note else "write-off"
    dossier.record(
        session,
        invoice,
        key=f"{invoice.number}:credit:{credit.id}",
        kind="credit",
        at=now,
        summary=f"{what} of {invoice.currency} {amount:.2f} ({why}); open {invoice.currency} {remaining:.2f}",
        data={"amount": str(amount), "kind": kind.value, "open": str(remaining)},
    )
    invoice.wake_at = now
    return credit


def lateness_history(session: Session, debtor: Debtor, but: Invoice | None = None) -> tuple[int, ...]:
    """How many days late the debtor paid each of their paid invoices, the latest due first (0: on time).
    Credited or written-off invoices say nothing about paying habits and are left out."""
    return lateness_histories(session, [debtor.id], but={but.id} if but is not None else set()).get(debtor.id, ())


def lateness_histories(session: Session, debtor_ids: Collection[int], but: Collection[int] = ()
                       ) -> dict[int, tuple[int, ...]]:
    """`lateness_history` of many debtors in one query per chunk of them, leaving out the invoices in `but`:
    only invoices with a payment that stands are read, so the cost is that of their paid history."""
    rows: dict[int, list] = {}  # invoice id -> [debtor id, due date, amount, paid, kinds, last paid on]
    ids = sorted(set(debtor_ids))
    for start in range(0, len(ids), CHUNK):
        query = (select(Invoice.id, Invoice.debtor_id, Invoice.due_date, Invoice.amount, Payment.amount,
                        Payment.kind, Payment.paid_on)
                 .join(Payment, Payment.invoice_id == Invoice.id)
                 .where(Invoice.debtor_id.in_(ids[start:start + CHUNK]), Payment.reversed_at.is_(None)))
        for invoice_id, debtor_id, due_date, amount, paid, kind, paid_on in session.execute(query):
            row = rows.setdefault(invoice_id, [debtor_id, due_date, amount, ZERO, set(), paid_on])
            row[3] += paid
            row[4].add(kind)
            row[5] = max(row[5], paid_on)
    found: dict[int, list[tuple[date, int, int]]] = {}
    for invoice_id, (debtor_id, due_date, amount, paid, kinds, paid_on) in rows.items():
        if invoice_id in but or amount - paid > 0 or kinds != {PaymentKind.payment}:
            continue
        found.setdefault(debtor_id, []).append((due_date, invoice_id, max(0, (paid_on - due_date).days)))
    # The latest due first, then in the order they were taken in.
    return {debtor_id: tuple(days for _due, _id, days in sorted(paid, key=lambda p: (-p[0].toordinal(), p[1])))
            for debtor_id, paid in found.items()}


def open_amount_sql() -> ColumnElement[Decimal]:
    """What is open on each invoice of a query, in SQL: one correlated sum per row (by the payment index)."""
    paid = (select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.invoice_id == Invoice.id, Payment.reversed_at.is_(None))
            .correlate(Invoice).scalar_subquery())
    return Invoice.amount - paid


def is_open_sql() -> ColumnElement[bool]:
    """`open_amount(...) > 0` in SQL. Half a cent, not zero: SQLite sums cents as floating point, so 0.1 + 0.2
    may come to a hair more or less than 0.3; amounts are whole cents, so this is the same rule."""
    return open_amount_sql() > HALF_CENT
