"""A snapshot of everything `ladder.decide` needs, read in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import invoices
from dunning.domain.kinds import OutboxStatus, PlanStatus, TaskKind
from dunning.domain.ladder import ApprovalFact, CallFact, DisputeFact, Facts, PlanFact
from dunning.domain.steps import LADDER, Message, Step, StepKind
from dunning.storage.models import DossierEntry, HumanTask, Invoice, OutboxMessage, PaymentPlan


def load(session: Session, invoice: Invoice) -> Facts:
    tasks = list(
        session.scalars(select(HumanTask).where(HumanTask.invoice_id == invoice.id).order_by(HumanTask.id))
    )
    calls = tuple(
        CallFact(
            step=t.step,
            status=t.status,
            reached=(t.outcome or {}).get("reached"),
            promised_on=_date((t.outcome or {}).get("promised_on")),
            at=t.completed_at,
            promised_amount=_decimal((t.outcome or {}).get("promised_amount")),
            open_at_call=_decimal((t.outcome or {}).get("open_at_call")),
            send_copy=bool((t.outcome or {}).get("send_copy")),
            plan_requested=bool((t.outcome or {}).get("plan_requested")),
        )
        for t in tasks
        if t.kind is TaskKind.call
    )
    courtesy = next((c for c in calls if c.step.kind is StepKind.courtesy_call), None)
    calls = tuple(c for c in calls if c.step.kind is not StepKind.courtesy_call)
    # An approval asked again after escalation stood still ("approve-incasso@2") stands in for the earlier one.
    approvals = {
        t.step.gate: ApprovalFact(
            step=t.step,
            status=t.status,
            approved=(t.outcome or {}).get("approved"),
            by=t.completed_by,
            reason=(t.outcome or {}).get("reason"),
        )
        for t in tasks
        if t.kind is TaskKind.approval
    }
    disputes = tuple(
        DisputeFact(
            step=t.step,
            status=t.status,
            upheld=(t.outcome or {}).get("upheld"),
            resolved_at=t.completed_at,
        )
        for t in tasks
        if t.kind is TaskKind.dispute
    )
    messages = session.scalars(select(OutboxMessage).where(OutboxMessage.invoice_id == invoice.id))
    attempted = _attempted(m for m in messages if m.status is not OutboxStatus.voided)
    evidence: dict[Message, datetime] = {}
    term_deadline = presumed_delivery = None
    query = select(DossierEntry).where(DossierEntry.invoice_id == invoice.id, DossierEntry.kind.in_(LADDER))
    for e in session.scalars(query):
        evidence.setdefault(Message(e.kind), e.at)
        if e.kind == Message.ingebrekestelling and e.data:
            # Sent by letter and by e-mail: the later term governs, so nobody is cut short.
            term_deadline = _latest(term_deadline, _date(e.data.get("deadline")))
            presumed_delivery = _latest(presumed_delivery, _date(e.data.get("presumed_delivery")))
    open_amount = invoices.open_amount(session, invoice)
    return Facts(
        invoice_number=invoice.number,
        debtor_kind=invoice.debtor.kind,
        due_date=invoice.due_date,
        amount=invoice.amount,
        open_amount=open_amount,
        closed_reason=invoice.closed_reason,
        calls=calls,
        approvals=approvals,
        attempted=attempted,
        evidence=evidence,
        term_deadline=term_deadline,
        presumed_delivery=presumed_delivery,
        disputes=disputes,
        plan=_plan(session, invoice, open_amount),
        past_lateness=invoices.lateness_history(session, invoice.debtor, but=invoice),
        courtesy_call=courtesy,
    )


def _plan(session: Session, invoice: Invoice, open_amount: Decimal) -> PlanFact | None:
    query = select(PaymentPlan).where(PaymentPlan.invoice_id == invoice.id).order_by(PaymentPlan.id.desc())
    plan = session.scalars(query).first()
    if plan is None:
        return None
    paid_total = invoice.amount - open_amount
    return PlanFact(
        plan_id=plan.id,
        active=plan.status is PlanStatus.active,
        instalments=tuple((i.due_on, i.amount) for i in plan.instalments),
        paid_since=paid_total - plan.paid_before,
        broken_at=plan.ended_at if plan.status is PlanStatus.broken else None,
        agreed_at=plan.created_at,
    )


def _attempted(messages: Iterable[OutboxMessage]) -> dict[Step, datetime]:
    """step -> when it was dealt with on every channel it took (a letter still waiting to be posted is not)."""
    done: dict[Step, datetime] = {}
    pending: set[Step] = set()
    for m in messages:
        if m.status in (OutboxStatus.sent, OutboxStatus.refused):
            at = m.sent_at or m.created_at
            done[m.step] = max(done.get(m.step, at), at)
        else:
            pending.add(m.step)
    return {step: at for step, at in done.items() if step not in pending}


def _latest(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value else None
