"""Composing the debtor's message for one ladder step: the facts, the law's figures and the template."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import human_tasks, invoices, personal_notes, plans
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus
from dunning.domain.ladder import ANNOUNCEMENT, CONFIRMATION, DISPUTE_REJECTED, PLAN_CONFIRMATION, message_of
from dunning.domain.policy import Policy
from dunning.domain.statement import Statement, state_claim
from dunning.domain.time import local
from dunning.law import fourteen_day_term
from dunning.messaging.channels import route
from dunning.messaging.mailer import Attachment, SmtpSettings, compose_email, message_bytes
from dunning.messaging.outbox import Composed
from dunning.messaging.templating import FieldError, render_email
from dunning.storage.config import Installation
from dunning.storage.models import Invoice, OutboxMessage, PaymentPlan


def smtp_settings(inst: Installation) -> SmtpSettings:
    return SmtpSettings(
        host=inst.smtp_host,
        port=inst.smtp_port,
        security=inst.smtp_security,  # type: ignore[arg-type]
        username=inst.smtp_username,
        password=inst.smtp_password,
        sender=inst.sender,
        reply_to=inst.creditor.email,
    )


def pay_by(
    step: str, invoice: Invoice, today: date, policy: Policy, law_dir: Path | None, *, by_post: bool
) -> tuple[date | None, dict]:
    """The deadline a message gives, and the facts to keep with it as evidence. When the step also goes by
    post, every channel states the letter's (later) deadline, so the debtor reads one date."""
    if step == "aanmaning":
        return today + timedelta(days=policy.aanmaning_term_days), {}
    if step == ANNOUNCEMENT:
        return today + timedelta(days=policy.incasso_notice_days), {}
    if step != "ingebrekestelling":
        return None, {}
    if invoice.debtor.kind is DebtorKind.consumer:
        # BW 6:96 lid 6: 14 days from the day after receipt; a letter posted today, an e-mail received today.
        term = fourteen_day_term(today, email=not by_post, directory=law_dir)
        return term.deadline, {"presumed_delivery": term.presumed_delivery.isoformat(), "sent_on": str(today)}
    return today + timedelta(days=policy.business_term_days), {}


def _aanmaning_deadline(session: Session, invoice: Invoice) -> date | None:
    """The term the aanmaning gave: the notice of default (BW 6:82) from which a consumer's interest runs."""
    sent = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.invoice_id == invoice.id,
            OutboxMessage.step == "aanmaning",
            OutboxMessage.status == OutboxStatus.sent,
        )
    ).first()
    deadline = (sent.data or {}).get("deadline") if sent else None
    return date.fromisoformat(deadline) if deadline else None


def _stated_deadline(session: Session, invoice: Invoice) -> date | None:
    """The latest deadline an ingebrekestelling that went out gave (letter and e-mail may differ)."""
    sent = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.invoice_id == invoice.id,
            OutboxMessage.step == "ingebrekestelling",
            OutboxMessage.status == OutboxStatus.sent,
        )
    )
    deadlines = [date.fromisoformat(m.data["deadline"]) for m in sent if (m.data or {}).get("deadline")]
    return max(deadlines, default=None)


def claim_statement(
    session: Session, inst: Installation, invoice: Invoice, today: date, term_deadline: date | None
) -> Statement:
    return state_claim(
        consumer=invoice.debtor.kind is DebtorKind.consumer,
        amount=invoice.amount,
        due_date=invoice.due_date,
        payments=[(p.paid_on, p.amount) for p in invoice.payments],
        today=today,
        default_notice_deadline=_aanmaning_deadline(session, invoice),
        term_deadline=term_deadline,
        vat_on_costs=inst.creditor.vat_on_collection_costs,
        law_dir=inst.law_dir,
    )


def context(
    session: Session, inst: Installation, invoice: Invoice, step: str, today: date, policy: Policy,
    *, preview: bool = False,
) -> tuple[dict, dict]:
    """What a message for `step` says (the template context) and the facts to keep with it as evidence. A
    preview shows the collector's waiting notes without handing them to the step."""
    debtor = invoice.debtor
    open_amount = invoices.open_amount(session, invoice)
    by_post = Channel.letter in route(step, debtor, policy.by_post).channels
    deadline, term_facts = pay_by(step, invoice, today, policy, inst.law_dir, by_post=by_post)
    statement = statement_for(session, inst, invoice, step, today, deadline)
    values = {
        **base_values(session, inst, invoice, today, deadline),
        "claim": statement,
        "by_post": by_post,
        "personal_note": _personal_note(session, invoice, step, preview),
        "copy_attached": invoice_copy(inst, invoice).is_file(),
    }
    if message_of(step) == CONFIRMATION:
        values["agreement"] = _agreement(session, invoice, step.partition("@")[2])
    elif message_of(step) == PLAN_CONFIRMATION:
        values["plan"] = _plan(session, step.partition("@")[2])
    elif message_of(step) == DISPUTE_REJECTED:
        values["dispute"] = _dispute(session, invoice, step.partition("@")[2])
    data = {"open_amount": str(open_amount), **term_facts}
    if statement is not None:
        data["claim"] = statement.as_data()
        data["warnings"] = list(statement.warnings)
    if deadline:
        data["deadline"] = deadline.isoformat()
    return values, data


def _agreement(session: Session, invoice: Invoice, call_step: str) -> dict:
    """What the call agreed. The collector's own note stays internal: only the date and amount are confirmed."""
    call = human_tasks.find(session, invoice, call_step)
    outcome = (call.outcome if call else None) or {}
    return {
        "promised_on": date.fromisoformat(outcome["promised_on"]),
        "amount": Decimal(outcome.get("promised_amount") or invoices.open_amount(session, invoice)),
        "spoke_with": outcome.get("spoke_with") or "",
        "note": None,
    }


def _plan(session: Session, plan_step: str) -> list[dict]:
    plan = session.get_one(PaymentPlan, int(plan_step.removeprefix("plan-")))
    return plans.schedule(plan)


def _dispute(session: Session, invoice: Invoice, dispute_step: str) -> dict:
    """When the debtor raised it and why it does not stand: the explanation given when it was rejected."""
    task = human_tasks.find(session, invoice, dispute_step)
    assert task is not None and task.outcome is not None
    return {"raised_on": local(task.created_at).date(), "answer": task.outcome.get("resolution") or ""}


def _personal_note(session: Session, invoice: Invoice, step: str, preview: bool) -> str | None:
    if preview:
        return "\n\n".join(n.text for n in personal_notes.waiting(session, invoice)) or None
    return personal_notes.take(session, invoice, step)


def base_values(session: Session, inst: Installation, invoice: Invoice, today: date, deadline: date | None) -> dict:
    """What every message's template gets (the contract in dunning.templating): debtor, invoice, the debtor's
    open invoices, creditor, dates."""
    debtor = invoice.debtor
    return {
        "debtor": {
            "name": debtor.name,
            "number": debtor.number,
            "kind": debtor.kind.value,
            "street": debtor.street,
            "postcode": debtor.postcode,
            "city": debtor.city,
            "country": debtor.country,
        },
        "invoice": _invoice(session, invoice),
        "open_invoices": [_invoice(session, i) for i in invoices.open_of_debtor(session, debtor)],
        "creditor": inst.creditor,
        "today": today,
        "sent_on": today,
        "reference": invoice.number,
        "pay_by": deadline,
    }


def statement_for(
    session: Session, inst: Installation, invoice: Invoice, step: str, today: date, deadline: date | None
) -> Statement | None:
    """The claim a step states: the ingebrekestelling up to its own deadline; the incasso announcement what the
    agency will claim (a consumer's costs are due once the 14-dagenbrief's term has run)."""
    if step == "ingebrekestelling":
        return claim_statement(session, inst, invoice, today, deadline)
    if step == ANNOUNCEMENT:
        term = _stated_deadline(session, invoice)
        return claim_statement(session, inst, invoice, today, term) if term else None
    return None


def _invoice(session: Session, invoice: Invoice) -> dict:
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "amount": invoice.amount,
        "open_amount": invoices.open_amount(session, invoice),
        "currency": invoice.currency,
    }


def compose(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: str,
    now: datetime,
    policy: Policy,
    key: str,
    *,
    also: list[Invoice] | None = None,
) -> Composed:
    """The e-mail for `step`; `also`: the debtor's other invoices this one message covers (dunning.combining)."""
    debtor = invoice.debtor
    assert debtor.email is not None
    values, data = context(session, inst, invoice, step, local(now).date(), policy)
    if also:
        values["combined"] = [_invoice(session, other) for other in also]
        data["combined_with"] = [other.number for other in also]
        agreement = values.get("agreement")
        if agreement is not None and agreement["amount"] == invoices.open_amount(session, invoice):
            # One promise in one call about all of them: the whole of what is open on them.
            agreement["amount"] += sum((invoices.open_amount(session, o) for o in also), Decimal("0.00"))
    rendered = render_email(message_of(step), debtor.language, values, override_dir=inst.home / "templates")
    attachments = _attachments(inst, invoice, step, values)
    message = compose_email(
        settings=smtp_settings(inst),
        to_name=debtor.name,
        to_address=debtor.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id_key=key,
        now=now,
        attachments=attachments,
    )
    return Composed(
        recipient=debtor.email,
        subject=rendered.subject,
        content=message_bytes(message),
        message_id=str(message["Message-ID"]),
        data=data,
    )


def preview_email(
    session: Session, inst: Installation, invoice: Invoice, step: str, now: datetime, policy: Policy
) -> tuple[str, str]:
    """Subject and plain text of the e-mail `step` would send now, for the approver; nothing is used up."""
    values, _ = context(session, inst, invoice, step, local(now).date(), policy, preview=True)
    rendered = render_email(message_of(step), invoice.debtor.language, values, override_dir=inst.home / "templates")
    return rendered.subject, rendered.text


def invoice_copy(inst: Installation, invoice: Invoice) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.number)
    return inst.home / "invoices" / f"{safe}.pdf"


def _attachments(inst: Installation, invoice: Invoice, step: str, values: dict) -> list[Attachment]:
    """The invoice copy when one is on file (DUNNING_HOME/invoices/<number>.pdf, any character but letters,
    digits, - and _ written as -), and for a step that also goes by post the letter itself, so the e-mail
    carries the formal document."""
    found = []
    copy = invoice_copy(inst, invoice)
    if copy.is_file():
        found.append(Attachment(copy.name, copy.read_bytes()))
    if values["by_post"]:
        from dunning.messaging.letters import render_letter_pdf

        try:
            pdf = render_letter_pdf(
                message_of(step), invoice.debtor.language, values, override_dir=inst.home / "templates"
            )
        except FieldError:
            return found  # the letter itself is refused with the reason; the e-mail still goes
        found.append(Attachment(f"{step}-{copy.name}", pdf))
    return found


def compose_letter(
    session: Session, inst: Installation, invoice: Invoice, step: str, now: datetime, policy: Policy
) -> Composed:
    """The letter as printed: a PDF that states the same as the e-mail, dated the day it is printed (and to be
    posted that day: the terms it states count from then)."""
    from dunning.messaging.letters import render_letter_pdf

    debtor = invoice.debtor
    today = local(now).date()
    values, data = context(session, inst, invoice, step, today, policy)
    pdf = render_letter_pdf(message_of(step), debtor.language, values, override_dir=inst.home / "templates")
    address = ", ".join(v for v in (debtor.name, debtor.street, debtor.postcode, debtor.city) if v)
    return Composed(
        recipient=address,
        subject=f"{message_of(step)} {invoice.number}",
        content=pdf,
        message_id=None,
        data={**data, "printed_on": today.isoformat()},
    )
