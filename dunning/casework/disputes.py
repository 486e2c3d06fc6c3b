"""Disputes: the debtor contests (part of) an invoice. Escalation of that invoice stands still while the person
responsible sorts it out by a due date; the debtor's other invoices go on. Upheld: a credit note or write-off
is recorded (in full, the case completes). Rejected: the debtor is told why and the ladder goes on where it
stopped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier, invoices
from dunning.casework.human_tasks import open_dispute
from dunning.casework.plans import active_plan, end
from dunning.casework.standstill import stand_still
from dunning.domain.errors import InvalidInput, UserError, check_name
from dunning.domain.kinds import PaymentKind, PlanStatus, TaskKind, TaskStatus
from dunning.domain.steps import Step
from dunning.domain.time import local
from dunning.storage.models import HumanTask, Invoice


@dataclass(frozen=True)
class Resolution:
    """How a dispute was sorted out, as the resume form or the CLI gives it."""

    upheld: bool
    by: str = ""
    reason: str = ""  # rejected: what the debtor is told
    credit: Decimal | None = None  # upheld: None credits all that is open
    write_off: bool = False


def raise_dispute(
    session: Session,
    invoice: Invoice,
    reason: str,
    now: datetime,
    *,
    by: str = "",
    responsible: str = "",
    due_on: date | None = None,
    days: int = 10,
) -> HumanTask:
    reason, by, responsible = reason.strip(), by.strip(), responsible.strip()
    if not reason:
        raise UserError("a dispute needs a reason: what does the debtor contest?")
    check_name("by", by)
    check_name("responsible", responsible)
    _must_be_open(session, invoice)
    if (current := open_dispute(session, invoice)) is not None:
        raise UserError(f"invoice {invoice.number} is already disputed ({current.step}): resolve that one first")
    _end_plan(session, invoice, now)
    today = local(now).date()
    due_on = due_on or today + timedelta(days=days)
    if due_on < today:
        raise InvalidInput("due", f"{{field}} {due_on.isoformat()} is in the past")
    count = session.scalars(
        select(HumanTask.id).where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute)
    ).all()
    task = HumanTask(
        invoice_id=invoice.id,
        kind=TaskKind.dispute,
        step=Step.dispute(len(count) + 1),
        status=TaskStatus.open,
        created_at=now,
        assignee=responsible or None,
        due_on=due_on,
        outcome={"reason": reason, "raised_by": by or None},
    )
    session.add(task)
    session.flush()
    who = f"{responsible} sorts it out" if responsible else "to be sorted out"
    dossier.record(
        session,
        invoice,
        key=f"{invoice.number}:{task.step}:raised",
        kind="dispute",
        at=now,
        by=by or None,
        summary=f"disputed: {reason}; escalation stands still ({who} by {due_on.isoformat()})",
        data={
            "step": str(task.step), "reason": reason, "responsible": responsible or None, "due_on": due_on.isoformat()
        },
    )
    stand_still(session, invoice, now, f"{task.step}: escalation stands still")
    return task


def resolve(
    session: Session,
    invoice: Invoice,
    *,
    upheld: bool,
    now: datetime,
    by: str = "",
    reason: str = "",
    credit: Decimal | None = None,
    write_off: bool = False,
) -> HumanTask:
    """Upheld: credit `credit` (default: all that is open) as a credit note, or write it off. Rejected: `reason`
    is what the debtor is told."""
    task = open_dispute(session, invoice)
    if task is None:
        raise UserError(f"invoice {invoice.number} has no open dispute")
    reason, by = reason.strip(), by.strip()
    check_name("by", by)
    if not upheld and not reason:
        raise InvalidInput("reason", "a rejection needs a {field}: the debtor is told why the invoice stands")
    if not upheld and (credit is not None or write_off):
        raise InvalidInput("credit", "a {field} or a write-off goes with a dispute upheld")
    open_now = invoices.open_amount(session, invoice)
    amount = Decimal("0.00")
    if upheld and open_now <= 0:
        raise UserError(f"invoice {invoice.number} has nothing open to credit; reject the dispute, or it closes "
                        "as paid at the next sweep")
    if upheld:
        amount = open_now if credit is None else credit
        if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise InvalidInput("credit", f"{{field}} must be a positive amount in cents, got {credit}")
        if amount > open_now:
            raise InvalidInput("credit", f"{{field}} {amount} is more than the open {invoice.currency} {open_now:.2f}")
    task.status = TaskStatus.done
    task.completed_at = now
    task.completed_by = by or None
    task.outcome = {**(task.outcome or {}), "upheld": upheld, "resolution": reason or None, "resolved_by": by or None}
    verdict = "upheld" if upheld else "rejected"
    dossier.record(
        session,
        invoice,
        key=f"{invoice.number}:{task.step}:resolved",
        kind="dispute",
        at=now,
        by=by or None,
        summary=f"dispute {verdict}{f': {reason}' if reason else ''}",
        data={"step": str(task.step), "upheld": upheld, "resolution": reason or None},
    )
    if upheld:
        kind = PaymentKind.write_off if write_off else PaymentKind.credit_note
        invoices.register_credit(session, invoice, amount, kind, f"{task.step} upheld", now)
        if amount == open_now:
            invoice.closed_reason = "dispute upheld"
    invoice.wake_at = now
    return task


def _end_plan(session: Session, invoice: Invoice, now: datetime) -> None:
    """A debtor who disputes the invoice is not held to instalments on it meanwhile; a new plan can follow."""
    if (plan := active_plan(session, invoice)) is not None:
        end(session, plan, PlanStatus.ended, "the invoice is disputed", now)


def _must_be_open(session: Session, invoice: Invoice) -> None:
    if invoice.closed_reason:
        raise UserError(f"invoice {invoice.number} is closed ({invoice.closed_reason})")
    if invoices.open_amount(session, invoice) <= 0:
        raise UserError(f"invoice {invoice.number} is paid")


def due_disputes(session: Session) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.kind == TaskKind.dispute, HumanTask.status == TaskStatus.open)
    return list(session.scalars(query.order_by(HumanTask.due_on)))
