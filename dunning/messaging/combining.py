"""Messages to one debtor on one day are combined: when an invoice's herinnering, aanmaning or betaalafspraak
(the confirmation of a promise made in one call about several invoices) goes out, the debtor's other invoices
for which the same message is due at this moment go in the same message (each keeps its own outbox row and
dossier evidence, pointing at the one message).

The formal steps too, by e-mail and by letter: one ingebrekestelling (the 14-dagenbrief) and one
incasso-aankondiging naming every invoice due for it, with one term and the costs over the principal sums added
together (`compose`). Always for a consumer; for a business as its policy says (`one_formal_letter`). Their
approvals are asked once for all of them (`human_tasks.open_approval`), so they fall due together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import facts, invoices, policies
from dunning.casework.human_tasks import find
from dunning.casework.unsent import lead_of, sent_with
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus
from dunning.domain.ladder import Send, decide
from dunning.domain.policy import Policy
from dunning.domain.steps import Message, Step
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice, OutboxMessage

COMBINABLE = frozenset({Message.herinnering, Message.aanmaning, Message.betaalafspraak})
# One demand naming several claims: the costs are computed over their total (BW 6:96, Besluit BIK art. 2).
FORMAL = frozenset({Message.ingebrekestelling, Message.incasso_aankondiging})
# What a letter can name several invoices in (its template lists them); a confirmation goes by e-mail alone.
BY_LETTER = frozenset({Message.herinnering, Message.aanmaning, *FORMAL})


def combines(message: Message, debtor: Debtor, policy: Policy) -> bool:
    """Whether this debtor's invoices due for `message` together get one message."""
    if message in COMBINABLE:
        return True
    return message in FORMAL and (debtor.kind is DebtorKind.consumer or policy.one_formal_letter)


def companions(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    now: datetime,
    channel: Channel = Channel.email,
) -> list[tuple[Invoice, Step]]:
    """The debtor's other invoices for which the ladder says: send this message now, and that have no message
    of it on this channel yet; with their own step (a confirmation names the call it confirms)."""
    if not step.is_message or not combines(step.sends, invoice.debtor,
                                                 policies.policy_for(inst.home, invoice.debtor.number)):
        return []
    found = []
    query = select(Invoice).where(
        Invoice.debtor_id == invoice.debtor_id, Invoice.id != invoice.id, Invoice.closed_reason.is_(None)
    )
    others = list(session.scalars(query.order_by(Invoice.due_date, Invoice.number)))
    amounts = invoices.open_amounts(session, others)
    for other in others:
        if amounts[other.id] <= 0 or other.flow_run_id is None:
            continue
        policy = policies.policy_for(inst.home, other.debtor.number)
        action = decide(facts.load(session, other), policy, now, inst.law_dir)
        if not isinstance(action, Send) or action.step.sends is not step.sends:
            continue
        if _has_message(session, other, action.step, channel):
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


def _has_message(session: Session, invoice: Invoice, step: Step, channel: Channel) -> bool:
    """A message for this step on `channel` that is not voided: queued, being sent, sent or refused."""
    query = select(OutboxMessage.id).where(
        OutboxMessage.invoice_id == invoice.id,
        OutboxMessage.step == step,
        OutboxMessage.channel == channel,
        OutboxMessage.status != OutboxStatus.voided,
    )
    return session.scalars(query).first() is not None


def still_due(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> bool:
    """The ladder still says: send this step now (asked again before a new message is composed)."""
    policy = policies.policy_for(inst.home, invoice.debtor.number)
    return decide(facts.load(session, invoice), policy, now, inst.law_dir) == Send(step)


def covered_by_email(session: Session, invoice: Invoice, step: Step) -> list[tuple[Invoice, Step]] | None:
    """The letter of a step that also went by e-mail names the invoices that e-mail named: one demand, whichever
    way it reaches the debtor (the e-mail went first, so the ladder no longer says "send" for the others). The
    other invoices without a letter of it yet; None when this invoice's e-mail of it named no other."""
    query = select(OutboxMessage).where(
        OutboxMessage.invoice_id == invoice.id,
        OutboxMessage.step == step,
        OutboxMessage.channel == Channel.email,
        OutboxMessage.status != OutboxStatus.voided,
    )
    email = session.scalars(query.order_by(OutboxMessage.id.desc())).first()
    if email is None:
        return None
    lead = lead_of(session, email) or email
    rows = [lead, *sent_with(session, lead)]
    if len(rows) < 2:
        return None
    found = []
    for row in rows:
        other = session.get_one(Invoice, row.invoice_id)
        if other.id != invoice.id and not _has_message(session, other, row.step, Channel.letter):
            found.append((other, row.step))
    return sorted(found, key=lambda pair: (pair[0].due_date, pair[0].number))
