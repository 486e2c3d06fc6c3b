"""Payment plans: someone who cannot pay at once pays in instalments. The instalments add up to what is open
plus the costs agreed; the run waits instalment by instalment, a missed one (beyond the policy's grace days)
breaks the plan and the ladder takes up again, a kept plan completes the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier, facts, invoices
from dunning.casework.human_tasks import open_dispute
from dunning.casework.standstill import stand_still
from dunning.domain.errors import InvalidInput, UserError, check_name
from dunning.domain.kinds import PlanStatus, TaskKind
from dunning.domain.ladder import CallFact, unanswered_plan_request
from dunning.domain.steps import Step
from dunning.domain.time import local
from dunning.storage.models import HumanTask, Instalment, Invoice, PaymentPlan

CENT = Decimal("0.01")


def active_plan(session: Session, invoice: Invoice) -> PaymentPlan | None:
    query = select(PaymentPlan).where(PaymentPlan.invoice_id == invoice.id, PaymentPlan.status == PlanStatus.active)
    return session.scalars(query).first()


def latest_plan(session: Session, invoice: Invoice) -> PaymentPlan | None:
    query = select(PaymentPlan).where(PaymentPlan.invoice_id == invoice.id).order_by(PaymentPlan.id.desc())
    return session.scalars(query).first()


def agree(
    session: Session,
    invoice: Invoice,
    instalments: list[tuple[date, Decimal]],
    now: datetime,
    *,
    costs: Decimal = Decimal("0.00"),
    by: str = "",
) -> PaymentPlan:
    if invoice.closed_reason:
        raise UserError(f"invoice {invoice.number} is closed ({invoice.closed_reason})")
    open_now = invoices.open_amount(session, invoice)
    if open_now <= 0:
        raise UserError(f"invoice {invoice.number} is paid")
    if (dispute := open_dispute(session, invoice)) is not None:
        raise UserError(f"invoice {invoice.number} is disputed ({dispute.step}): resolve the dispute first")
    if (current := active_plan(session, invoice)) is not None:
        since = local(current.created_at).date().isoformat()
        raise UserError(f"invoice {invoice.number} already has a payment plan (agreed {since})")
    if not instalments:
        raise InvalidInput("instalment", "a payment plan needs at least one {field}")
    check_name("by", by.strip())
    _check_money("costs", costs, allow_zero=True)
    today = local(now).date()
    previous: date | None = None
    for n, (due_on, amount) in enumerate(instalments, start=1):
        _check_money(f"instalment {n}", amount)
        if due_on < today:
            raise UserError(f"instalment {n}: {due_on.isoformat()} is in the past")
        if previous is not None and due_on <= previous:
            raise UserError(f"instalment {n}: {due_on.isoformat()} is not after instalment {n - 1}")
        previous = due_on
    total, owed = sum((a for _, a in instalments), Decimal("0.00")), open_now + costs
    if total != owed:
        raise UserError(
            f"the instalments add up to {total:.2f}, but open {open_now:.2f} plus costs {costs:.2f} is {owed:.2f} "
            f"(difference {owed - total:.2f})"
        )
    plan = PaymentPlan(
        invoice_id=invoice.id,
        created_at=now,
        agreed_by=by.strip() or None,
        costs=costs,
        paid_before=invoice.amount - open_now,
        status=PlanStatus.active,
        instalments=[Instalment(seq=n, due_on=d, amount=a) for n, (d, a) in enumerate(instalments, start=1)],
    )
    session.add(plan)
    session.flush()
    listed = ", ".join(f"{d.isoformat()} {a:.2f}" for d, a in instalments)
    cost_text = f"; costs {costs:.2f}" if costs else ""
    dossier.record(
        session,
        invoice,
        key=f"{invoice.number}:plan-{plan.id}:agreed",
        kind="plan",
        at=now,
        by=by.strip() or None,
        summary=f"payment plan agreed: {len(instalments)} instalments ({listed}){cost_text}",
        data={"plan": plan.id, "instalments": [[d.isoformat(), str(a)] for d, a in instalments], "costs": str(costs)},
    )
    stand_still(session, invoice, now, f"{Step.plan(plan.id)}: paid by instalments")
    return plan


def end(session: Session, plan: PaymentPlan, status: PlanStatus, why: str, now: datetime) -> bool:
    """Kept or broken, once."""
    if plan.status is not PlanStatus.active:
        return False
    plan.status, plan.ended_at, plan.ended_because = status, now, why
    dossier.record(
        session,
        plan.invoice,
        key=f"{plan.invoice.number}:plan-{plan.id}:{status.value}",
        kind="plan",
        at=now,
        summary=f"payment plan {status.value}: {why}",
    )
    return True


@dataclass(frozen=True)
class PlanRequest:
    invoice: Invoice
    call: CallFact  # the call in which the debtor asked
    by: str | None  # who made that call


def requested(session: Session) -> list[PlanRequest]:
    """Payment plans debtors asked for that nobody has agreed yet, on invoices still open (the ladder's rule,
    over the facts of each invoice with a call that asked for one)."""
    query = (
        select(HumanTask)
        .join(Invoice, HumanTask.invoice_id == Invoice.id)
        .where(HumanTask.kind == TaskKind.call, Invoice.closed_reason.is_(None))
    )
    asking = {(t.invoice_id, t.step): t for t in session.scalars(query) if (t.outcome or {}).get("plan_requested")}
    found = []
    for invoice in {t.invoice for t in asking.values()}:
        known = facts.load(session, invoice)
        call = unanswered_plan_request(known)
        if call is not None and known.open_amount > 0:
            found.append(PlanRequest(invoice, call, (asking[invoice.id, call.step].outcome or {}).get("by") or None))
    return sorted(found, key=lambda r: (r.call.at, r.invoice.number))


def schedule(plan: PaymentPlan) -> list[dict]:
    """The instalments as the betalingsregeling template lists them."""
    return [{"due": i.due_on, "amount": i.amount} for i in plan.instalments]


def _check_money(what: str, amount: Decimal, allow_zero: bool = False) -> None:
    """`what` is a field ("costs") or an instalment by its place ("instalment 2")."""
    field = what if " " not in what else "instalment"
    label = "{field}" if field == what else what
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput(field, f"{label}: amount must be positive, got {amount}")
    if amount.adjusted() >= 12:
        raise InvalidInput(field, f"{label}: amount {amount} is too large")
    if amount != amount.quantize(CENT):
        raise InvalidInput(field, f"{label}: amount has more than two decimals, got {amount}")
