"""Messages to one debtor on one day are combined: when an invoice's herinnering, aanmaning or betaalafspraak
(the confirmation of a promise made in one call about several invoices) goes out by e-mail, the debtor's other
invoices for which the same message is due at this moment go in the same message (each keeps its own outbox
row and dossier evidence, pointing at the one message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import facts, invoices, policies
from dunning.casework.human_tasks import find
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.ladder import Send, decide
from dunning.domain.steps import Message, Step
from dunning.storage.config import Installation
from dunning.storage.models import Invoice, OutboxMessage

# Formal steps stand alone: each has its own claim and term.
COMBINABLE = frozenset({Message.herinnering, Message.aanmaning, Message.betaalafspraak})


def companions(
    session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime
) -> list[tuple[Invoice, Step]]:
    """The debtor's other invoices for which the ladder says: send this message by e-mail now; with their own
    step (a confirmation names the call it confirms)."""
    if step.sends not in COMBINABLE:
        return []
    found = []
    query = select(Invoice).where(
        Invoice.debtor_id == invoice.debtor_id, Invoice.id != invoice.id, Invoice.closed_reason.is_(None)
    )
    for other in session.scalars(query.order_by(Invoice.due_date, Invoice.number)):
        if invoices.open_amount(session, other) <= 0 or other.flow_run_id is None:
            continue
        policy = policies.policy_for(inst.home, other.debtor.number)
        action = decide(facts.load(session, other), policy, now, inst.law_dir)
        if not isinstance(action, Send) or action.step.sends is not step.sends:
            continue
        if _has_message(session, other, action.step):
            continue
        # One confirmation states one date and the whole amount: only alike promises share it.
        alike = _promise(session, other, action.step) == _promise(session, invoice, step)
        if step.sends is Message.betaalafspraak and not alike:
            continue
        found.append((other, action.step))
    return found


def _promise(session: Session, invoice: Invoice, confirmation: Step) -> tuple[object, object]:
    call = find(session, invoice, confirmation.about) if confirmation.about else None
    outcome = (call.outcome if call else None) or {}
    return outcome.get("promised_on"), outcome.get("promised_amount")


def _has_message(session: Session, invoice: Invoice, step: Step) -> bool:
    """An e-mail for this step that is not voided: queued, being sent, sent or refused."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.invoice_id == invoice.id,
        OutboxMessage.step == step,
        OutboxMessage.channel == Channel.email,
        OutboxMessage.status != OutboxStatus.voided,
    )
    return session.scalars(query).first() is not None


def still_due(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> bool:
    """The ladder still says: send this step now (asked again before a new message is composed)."""
    policy = policies.policy_for(inst.home, invoice.debtor.number)
    return decide(facts.load(session, invoice), policy, now, inst.law_dir) == Send(step)
