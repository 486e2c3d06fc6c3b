"""The invoices as a finance team reads them: amount, paid, credited, open, where each stands and the last step
of the ladder taken."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.domain.kinds import PaymentKind
from dunning.storage.models import Debtor, DossierEntry, Invoice, Payment

# The ladder's steps as the dossier names them, in the order they are taken.
LADDER_KINDS = ("herinnering", "aanmaning", "ingebrekestelling", "incasso-aankondiging", "incasso")
ZERO = Decimal("0.00")


def invoice_rows(session: Session, debtor: str | None = None, only_open: bool = False) -> list[dict]:
    query = select(Invoice).join(Debtor, Debtor.id == Invoice.debtor_id).order_by(Invoice.due_date, Invoice.number)
    if debtor is not None:
        query = query.where(Debtor.number == debtor)
    found = list(session.scalars(query))
    # The same invoices as a subquery, not a list of ids: 100,000 parameters are more than PostgreSQL takes.
    ids = select(Invoice.id).join(Debtor, Debtor.id == Invoice.debtor_id)
    if debtor is not None:
        ids = ids.where(Debtor.number == debtor)
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    credited: dict[int, Decimal] = defaultdict(lambda: ZERO)
    written_off: set[int] = set()
    settled: set[int] = set()
    for invoice_id, amount, kind in session.execute(
        select(Payment.invoice_id, Payment.amount, Payment.kind)
        .where(Payment.invoice_id.in_(ids), Payment.reversed_at.is_(None))
    ):
        if kind in (PaymentKind.payment, PaymentKind.settled):  # settled in the ledger: paid there, as far as we know
            paid[invoice_id] += amount
            if kind is PaymentKind.settled:
                settled.add(invoice_id)
        else:
            credited[invoice_id] += amount
            if kind is PaymentKind.write_off:
                written_off.add(invoice_id)
    last_step: dict[int, str] = {}
    for invoice_id, step in session.execute(
        select(DossierEntry.invoice_id, DossierEntry.kind)
        .where(DossierEntry.invoice_id.in_(ids), DossierEntry.kind.in_(LADDER_KINDS))
        .order_by(DossierEntry.at, DossierEntry.id)
    ):
        if LADDER_KINDS.index(step) >= LADDER_KINDS.index(last_step.get(invoice_id, step)):
            last_step[invoice_id] = step
    rows = []
    for invoice in found:
        open_ = invoice.amount - paid[invoice.id] - credited[invoice.id]
        if only_open and open_ <= 0:
            continue
        rows.append({
            "invoice": invoice.number,
            "debtor": invoice.debtor.number,
            "amount": f"{invoice.amount:.2f}",
            "paid": f"{paid[invoice.id]:.2f}",
            "credited": f"{credited[invoice.id]:.2f}",
            "open": f"{open_:.2f}",
            "currency": invoice.currency,
            "due_date": invoice.due_date.isoformat(),
            "status": "settled" if open_ <= 0 and invoice.id in settled else _status(
                invoice, open_, invoice.id in written_off, paid[invoice.id]),
            "step": last_step.get(invoice.id),
            "payment_reference": invoice.payment_reference,
        })
    return rows


def _status(invoice: Invoice, open_: Decimal, written_off: bool, paid: Decimal) -> str:
    if open_ <= 0:
        if written_off:
            return "written_off"
        return "paid" if paid > 0 or invoice.amount <= 0 else "credited"
    if invoice.closed_reason and invoice.closed_reason != "paid":
        return invoice.closed_reason.replace(" ", "_")  # "incasso", "stopped", ...
    return "open"
