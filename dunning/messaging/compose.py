"""Composing a step's message for one invoice, on one channel, at one moment: the one path behind sending,
printing and every preview (`dunning preview`, the approver's sheet), so a preview shows what goes out.

`compose` reads the facts (the open amount, the claim as the law module states it, the deadline the step gives,
the promise, plan or dispute it answers, the collector's notes), lets the templates check them by the rule of
`dunning.domain.fields` and renders them; `email_for_outbox` and `letter_for_outbox` give what the outbox keeps
(the e-mail's exact bytes, the letter's PDF). A preview composes the same way with `preview=True`, which only
leaves things as they are (the notes stay waiting, nothing is attached); what a person previewing gives
(`Given`) stands in for facts not on file yet.

Data no message can carry (a control character in a name, a letter without a postal address) raises
`FieldError` naming the field; the caller refuses the message (`sending`) or shows the error (`preview`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dunning.bank.references import payment_reference, printed
from dunning.casework import human_tasks, invoices, personal_notes, plans, policies
from dunning.domain.errors import UserError
from dunning.domain.fields import email_address_problem
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, PaymentKind, TaskKind, TaskStatus
from dunning.domain.policy import Policy
from dunning.domain.statement import Statement, state_claim, together
from dunning.domain.steps import Message, Step
from dunning.domain.time import local
from dunning.law import (
    CostShare,
    combined_collection_costs,
    describe_row,
    fourteen_day_term,
    load_confirmations,
    load_rates,
    rates_holding,
)
from dunning.messaging.channels import route
from dunning.messaging.letters import render_letter_pdf
from dunning.messaging.mailer import Attachment, compose_email, message_bytes, smtp_settings
from dunning.messaging.outbox import Composed
from dunning.messaging.templating import FieldError, RenderedEmail, interest_rates, render_email
from dunning.storage.config import Installation
from dunning.storage.files import readable
from dunning.storage.models import Debtor, HumanTask, Invoice, OutboxMessage, PaymentPlan, PersonalNote


@dataclass(frozen=True)
class Given:
    """What a person previewing a message gives in place of facts not on file (`dunning preview --note ...`).
    Sending gives nothing: it states the facts."""

    personal_note: str | None = None  # instead of the collector's notes waiting for the next message
    promised_on: date | None = None  # betaalafspraak: instead of the call's promise
    promised_amount: Decimal | None = None
    plan: tuple[Mapping[str, Any], ...] = ()  # betalingsregeling: {due, amount} instead of the plan on file
    explanation: str | None = None  # betwisting-afgewezen: instead of the reason the dispute was rejected with
    agency: str | None = None  # incasso-aankondiging: the collection agency's name


@dataclass(frozen=True)
class Composition:
    """A step's message as the debtor reads it, and what it was made from."""

    step: Step
    channel: Channel
    language: str
    values: dict[str, Any]  # what the templates saw
    data: dict[str, Any]  # the facts it states, kept with it as evidence
    rendered: RenderedEmail | bytes  # the e-mail's parts, or the letter's PDF
    attachments: tuple[Attachment, ...] = ()  # e-mail only, and not for a preview

    @property
    def email(self) -> RenderedEmail:
        assert isinstance(self.rendered, RenderedEmail), f"{self.step} by {self.channel.value} is no e-mail"
        return self.rendered

    @property
    def pdf(self) -> bytes:
        assert isinstance(self.rendered, bytes), f"{self.step} by {self.channel.value} is no letter"
        return self.rendered


def render(
    message: str, language: str, channel: Channel, values: Mapping[str, Any], override_dir: Path | None
) -> RenderedEmail | bytes:
    """A message's templates rendered for a channel: the e-mail's subject, text and HTML, or the letter's PDF."""
    if channel is Channel.email:
        return render_email(message, language, values, override_dir)
    if channel is Channel.letter:
        return render_letter_pdf(message, language, values, override_dir)
    raise ValueError(f"no message is written for the {channel.value} channel")


def compose(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    channel: Channel,
    now: datetime,
    policy: Policy,
    *,
    also: Iterable[Invoice] = (),
    preview: bool = False,
    language: str | None = None,
    given: Given | None = None,
) -> Composition:
    """The message `step` sends to the invoice's debtor by `channel` at `now`. `also`: the debtor's other
    invoices this one e-mail covers (`combining`). Sending uses up the collector's notes it carries (every
    channel of the step carries them); a preview leaves them waiting and attaches nothing."""
    today = local(now).date()
    others = list(also)
    shares = _shares(session, inst, [invoice, *others], step, today, policy) if others else {}
    values, data = _context(session, inst, invoice, step, today, policy, given, shares.get(invoice.id))
    if others:
        _combine(session, inst, invoice, others, step, today, policy, shares, values, data)
    lang = language or invoice.debtor.language
    if channel is not Channel.email:
        values["copy_attached"] = False  # only an e-mail carries the invoice's PDF: a letter offers to send it
    rendered = render(step.sends.value, lang, channel, values, _override_dir(inst))
    attachments: tuple[Attachment, ...] = ()
    if channel is Channel.email and not preview:
        attachments = _attachments(inst, invoice, step, lang, values)
    if channel is Channel.letter:
        data["printed_on"] = today.isoformat()  # to be posted that day: the terms it states count from then
    if not preview and (given is None or given.personal_note is None):
        personal_notes.take(session, invoice, str(step))
    return Composition(step, channel, lang, values, data, rendered, attachments)


def email_for_outbox(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    now: datetime,
    policy: Policy,
    key: str,
    *,
    also: Iterable[Invoice] = (),
) -> Composed:
    """The e-mail as it goes on the wire: the same bytes for the same outbox `key` (Message-ID, boundaries)."""
    debtor = invoice.debtor
    address = debtor.email or ""
    problem = email_address_problem(address) if address else "is missing"
    if problem:
        raise FieldError("debtor.email", problem, debtor.email)
    composition = compose(session, inst, invoice, step, Channel.email, now, policy, also=also)
    email = composition.email
    message = compose_email(
        settings=smtp_settings(inst),
        to_name=debtor.name,
        to_address=address,
        subject=email.subject,
        text=email.text,
        html=email.html,
        message_id_key=key,
        now=now,
        attachments=composition.attachments,
    )
    return Composed(
        recipient=address,
        subject=email.subject,
        content=message_bytes(message),
        message_id=str(message["Message-ID"]),
        data=composition.data,
    )


def letter_for_outbox(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    now: datetime,
    policy: Policy,
    *,
    also: Iterable[Invoice] = (),
) -> Composed:
    """The letter as printed: a PDF that states the same as the e-mail, dated the day it is printed. `also`: the
    debtor's other invoices this one letter covers (`combining`)."""
    debtor = invoice.debtor
    others = list(also)
    composition = compose(session, inst, invoice, step, Channel.letter, now, policy, also=others)
    address = ", ".join(v for v in (debtor.name, debtor.street, debtor.postcode, debtor.city) if v)
    return Composed(
        recipient=address,
        subject=f"{step.sends.value} {', '.join(i.number for i in [invoice, *others])}",
        content=composition.pdf,
        message_id=None,
        data=composition.data,
    )


def preview_email(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    now: datetime,
    policy: Policy,
    *,
    also: Iterable[Invoice] = (),
) -> tuple[str, str]:
    """Subject and plain text of the e-mail `step` would send now (covering the invoices `also` too), for the
    approver; nothing is used up. Data no message can carry is said instead: the approver learns the message
    would be refused."""
    try:
        email = compose(session, inst, invoice, step, Channel.email, now, policy, also=also, preview=True).email
    except FieldError as error:
        if not refusable(error):
            raise
        return f"{step} cannot go out by e-mail", f"It would be refused: {error}"
    return email.subject, email.text


def refusable(error: FieldError) -> bool:
    """The case's own data (the debtor, the invoice, a note) no message can carry: a business refusal. Not the
    creditor's settings: a mistake there would refuse every message, so it fails loudly instead."""
    return not error.field.startswith("creditor.")


def stated_facts(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    now: datetime,
    policy: Policy,
    group: list[Invoice] | None = None,
) -> dict[str, Any]:
    """The facts a message for `step` states about this invoice (its deadline, its claim), as if it went on
    its own: the evidence of an invoice that another invoice's message covers. `group`: every invoice that
    message covers, the lead first (a formal demand's costs are this invoice's share of the costs over them)."""
    today = local(now).date()
    shares = _shares(session, inst, group, step, today, policy) if group else {}
    data = _context(session, inst, invoice, step, today, policy, None, shares.get(invoice.id))[1]
    if invoice.id in shares:
        data["cost_share"] = _share_data(shares, invoice, group or [])
    return data


def preview_step(session: Session, invoice: Invoice, message: Message) -> Step:
    """The step `message` is for this invoice now: the confirmation of the latest call's promise, of the
    latest plan, the answer to the latest dispute, the copy promised in the latest call. Without one on file
    the bare message (what it confirms is then to be given)."""
    about: Step | None = None
    if message is Message.betaalafspraak:
        about = _latest_call(session, invoice, "promised_on")
    elif message is Message.factuurkopie:
        about = _latest_call(session, invoice, "send_copy")
    elif message is Message.betalingsregeling:
        plan = plans.latest_plan(session, invoice)
        about = Step.plan(plan.id) if plan else None
    elif message is Message.betwisting_afgewezen:
        query = select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute)
        dispute = session.scalars(query.order_by(HumanTask.id.desc())).first()
        about = dispute.step if dispute else None
    return Step.send(message, about)


def explanation(session: Session, invoice: Invoice, step: Step) -> str:
    """Why the dispute a betwisting-afgewezen answers does not stand, as the debtor reads it ("" while none)."""
    task = human_tasks.find(session, invoice, step.about) if step.about else None
    return str(((task.outcome if task else None) or {}).get("resolution") or "")


def claim_statement(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    today: date,
    term_deadline: date | None,
    policy: Policy | None = None,
    cost_share: CostShare | None = None,
) -> Statement:
    """Principal, statutory interest and collection costs as the law module states them today. A credit note
    (or a correction by the books, or a write-off) lowers the invoice itself; only money paid is a payment that
    BW 6:44 applies to costs and interest first. A business's costs as the debtor's policy says
    (`business_costs`; read from policies.toml when `policy` is not given). An invoice whose ingebrekestelling
    covered several invoices bears its share of the costs over their total (`cost_share`, else the one stated
    in that ingebrekestelling), in every later statement too (the incasso-aankondiging, the hand-off)."""
    if cost_share is None:
        cost_share = stated_cost_share(session, invoice)
    if policy is None:
        policy = policies.policy_for(inst.home, invoice.debtor.number)
    standing = invoices.standing(invoice.payments)
    paid = [p for p in standing if p.kind in (PaymentKind.payment, PaymentKind.settled)]
    credited = sum((p.amount for p in standing if p not in paid), Decimal("0.00"))
    return state_claim(
        consumer=invoice.debtor.kind is DebtorKind.consumer,
        amount=invoice.amount - credited,
        due_date=invoice.due_date,
        payments=[(p.paid_on, p.amount) for p in paid],
        today=today,
        # The term the aanmaning gave: the notice of default (BW 6:82) from which a consumer's interest runs.
        default_notice_deadline=next(iter(_sent_deadlines(session, invoice, Message.aanmaning)), None),
        term_deadline=term_deadline,
        vat_on_costs=inst.creditor.vat_on_collection_costs,
        law_dir=inst.law_dir,
        business_costs=policy.business_costs,
        cost_share=cost_share,
    )


def stated_cost_share(session: Session, invoice: Invoice) -> CostShare | None:
    """This invoice's share of the costs its latest ingebrekestelling stated, when that one covered several."""
    sent = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.invoice_id == invoice.id,
            OutboxMessage.step == Step.send(Message.ingebrekestelling),
            OutboxMessage.status == OutboxStatus.sent,
        )
        .order_by(OutboxMessage.id.desc())
    )
    for message in sent:
        share = (message.data or {}).get("cost_share")
        if share:
            return CostShare(Decimal(share["amount"]), Decimal(share["principal"]))
    return None


# -- the context -------------------------------------------------------------------------------------------


def _context(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    step: Step,
    today: date,
    policy: Policy,
    given: Given | None,
    cost_share: CostShare | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a message for `step` says (the template context, see `templating`) and the facts to keep with it."""
    message = step.sends
    owed = invoices.owed_by(session, invoice.debtor)
    open_amount = owed[invoice] if invoice in owed else invoices.open_amount(session, invoice)
    by_post = Channel.letter in route(step, invoice.debtor, policy.by_post).channels
    deadline, term_facts = _deadline(message, invoice, today, policy, inst.law_dir, by_post=by_post)
    statement = _statement(session, inst, invoice, message, today, deadline, policy, cost_share)
    note = given.personal_note if given is not None and given.personal_note is not None else None
    values: dict[str, Any] = {
        **_base_values(session, inst, invoice, open_amount, owed, today, deadline),
        "claim": statement,
        "by_post": by_post,
        "personal_note": note if note is not None else _notes(session, invoice, step),
        "copy_attached": inst.invoice_copy(invoice.number).is_file(),
        "tone": policy.tone,
        "interest_rates": interest_rates(statement, today, inst.law_dir),
    }
    if given is not None and given.agency:
        values["agency"] = given.agency
    if message is Message.betaalafspraak:
        values["agreement"] = _agreement(session, invoice, step, open_amount, given)
    elif message is Message.betalingsregeling:
        values["plan"] = _plan(session, step, given)
    elif message is Message.betwisting_afgewezen:
        values["dispute"] = _dispute(session, invoice, step, given)
    data: dict[str, Any] = {"open_amount": str(open_amount), **term_facts}
    if statement is not None:
        data["claim"] = statement.as_data()
        data["warnings"] = list(statement.warnings)
        # The rates the message states the interest at (BW 6:119/6:119a, and 6:120 for a change).
        data["interest_rates"] = [{"from": r["from"].isoformat(), "percent": str(r["percent"])}
                                  for r in values["interest_rates"]]
        held = unconfirmed_rates(inst, statement, today)
        if held:
            data["unconfirmed_rates"] = held
    if deadline:
        data["deadline"] = deadline.isoformat()
    return values, data


def unconfirmed_rates(inst: Installation, statement: Statement, today: date) -> list[dict[str, str]]:
    """The rate rows marked unverified, not confirmed by a person, that the interest `statement` states runs at
    (`dunning.law.rates_holding`): while there are any, the message waits (`sending`)."""
    kind = "non-commercial" if statement.consumer else "commercial"
    rates = load_rates(kind, inst.law_dir)
    held = rates_holding(kind, rates, load_confirmations(inst.law_dir), statement.interest_from, today)
    return [{"table": kind, "from": r.effective_from.isoformat(), "percent": str(r.percent),
             "row": describe_row(kind, r)} for r in held]


def held_for_rates(
    session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime, policy: Policy
) -> list[dict[str, str]]:
    """The unconfirmed rate rows that hold the message `step` would send now (empty: it may go). Only the messages
    that state a claim state interest (`_statement`): the others are never held."""
    if step.sends not in (Message.ingebrekestelling, Message.incasso_aankondiging):
        return []
    return list(_context(session, inst, invoice, step, local(now).date(), policy, None)[1].get("unconfirmed_rates", []))


def _deadline(
    message: Message, invoice: Invoice, today: date, policy: Policy, law_dir: Path | None, *, by_post: bool
) -> tuple[date | None, dict[str, Any]]:
    """The deadline a message gives, and the facts to keep with it as evidence. When the step also goes by
    post, every channel states the letter's (later) deadline, so the debtor reads one date."""
    if message is Message.aanmaning:
        return today + timedelta(days=policy.aanmaning_term_days), {}
    if message is Message.incasso_aankondiging:
        return today + timedelta(days=policy.incasso_notice_days), {}
    if message is not Message.ingebrekestelling:
        return None, {}
    if invoice.debtor.kind is DebtorKind.consumer:
        # BW 6:96 lid 6: 14 days from the day after receipt; a letter posted today, an e-mail received today.
        term = fourteen_day_term(today, email=not by_post, directory=law_dir)
        return term.deadline, {"presumed_delivery": term.presumed_delivery.isoformat(), "sent_on": str(today)}
    return today + timedelta(days=policy.business_term_days), {}


def _statement(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    message: Message,
    today: date,
    deadline: date | None,
    policy: Policy,
    cost_share: CostShare | None = None,
) -> Statement | None:
    """The claim a message states: the ingebrekestelling up to its own deadline; the incasso announcement what
    the agency will claim (a consumer's costs are due once the 14-dagenbrief's term has run)."""
    if message is Message.ingebrekestelling:
        return claim_statement(session, inst, invoice, today, deadline, policy, cost_share)
    if message is Message.incasso_aankondiging:
        # The latest deadline an ingebrekestelling that went out gave (letter and e-mail may differ).
        term = max(_sent_deadlines(session, invoice, Message.ingebrekestelling), default=None)
        return claim_statement(session, inst, invoice, today, term, policy) if term else None
    return None


def _sent_deadlines(session: Session, invoice: Invoice, message: Message) -> list[date]:
    """The deadlines the messages of this kind that went out gave, oldest first."""
    sent = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.invoice_id == invoice.id,
            OutboxMessage.step == Step.send(message),
            OutboxMessage.status == OutboxStatus.sent,
        )
        .order_by(OutboxMessage.id)
    )
    deadlines = ((m.data or {}).get("deadline") for m in sent)
    return [date.fromisoformat(d) for d in deadlines if d]


def debtor_values(debtor: Debtor) -> dict[str, Any]:
    """The debtor as every message's template sees them (templating's context contract)."""
    return {
        "name": debtor.name,
        "number": debtor.number,
        "kind": debtor.kind.value,
        "street": debtor.street,
        "postcode": debtor.postcode,
        "city": debtor.city,
        "country": debtor.country,
        "contact_name": debtor.contact_name,
        "contact_salutation": debtor.contact_salutation,
    }


def _base_values(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    open_amount: Decimal,
    owed: dict[Invoice, Decimal],
    today: date,
    deadline: date | None,
) -> dict[str, Any]:
    """What every message's template gets: debtor, invoice, the debtor's open invoices (`owed`: each with what is
    open on it), creditor, dates."""
    return {
        "debtor": debtor_values(invoice.debtor),
        "invoice": _invoice(session, invoice, open_amount),
        "open_invoices": [_invoice(session, i, amount) for i, amount in owed.items()],
        "creditor": inst.creditor,
        "today": today,
        "sent_on": today,
        "reference": invoice.number,
        "pay_by": deadline,
    }


def _invoice(session: Session, invoice: Invoice, open_amount: Decimal | None = None) -> dict[str, Any]:
    """An invoice as a message states it; every invoice a message names carries its own payment reference.
    `open_amount`: what is open on it, when the caller read it already."""
    return {
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "amount": invoice.amount,
        "open_amount": invoices.open_amount(session, invoice) if open_amount is None else open_amount,
        "currency": invoice.currency,
        "payment_reference": _payment_reference(invoice),
    }


def _payment_reference(invoice: Invoice) -> str:
    """The reference on file (bank matching knows that one; it may be a digest, see `dunning.bank.references`),
    printed in groups of four. An invoice not flushed yet has none on file: then the readable one of its number."""
    return printed(invoice.payment_reference or payment_reference(invoice.number))


def _notes(session: Session, invoice: Invoice, step: Step) -> str | None:
    """The collector's paragraphs this step carries: those waiting for the next message and those it took
    already (each of its channels carries them; `personal_notes.take` marks them when the message goes)."""
    query = select(PersonalNote).where(
        PersonalNote.invoice_id == invoice.id,
        or_(PersonalNote.used_for.is_(None), PersonalNote.used_for == str(step)),
    )
    return "\n\n".join(n.text for n in session.scalars(query.order_by(PersonalNote.id))) or None


def _agreement(
    session: Session, invoice: Invoice, step: Step, open_amount: Decimal, given: Given | None
) -> dict[str, Any]:
    """What the call agreed. The collector's own note stays internal: only the date and amount are confirmed."""
    call = human_tasks.find(session, invoice, step.about) if step.about else None
    outcome = (call.outcome if call else None) or {}
    promised = (given.promised_on if given else None) or outcome.get("promised_on")
    if not promised:
        raise UserError(f"invoice {invoice.number}: {step} confirms a promise to pay, and there is none")
    amount = given.promised_amount if given else None
    return {
        "promised_on": promised if isinstance(promised, date) else date.fromisoformat(promised),
        "amount": amount or Decimal(outcome.get("promised_amount") or open_amount),
        "spoke_with": outcome.get("spoke_with") or "",
        "note": None,
    }


def _plan(session: Session, step: Step, given: Given | None) -> list[dict[str, Any]]:
    if given is not None and given.plan:
        return [dict(instalment) for instalment in given.plan]
    if step.about is None:
        raise UserError(f"{step} confirms a payment plan, and there is none")
    return plans.schedule(session.get_one(PaymentPlan, step.about.number))


def _dispute(session: Session, invoice: Invoice, step: Step, given: Given | None) -> dict[str, Any]:
    """When the debtor raised it and why it does not stand: the explanation given when it was rejected."""
    task = human_tasks.find(session, invoice, step.about) if step.about else None
    if task is None:
        raise UserError(f"invoice {invoice.number} has no dispute")
    answer = (given.explanation if given else None) or explanation(session, invoice, step)
    if not answer:
        raise UserError(f"{task.step} has no explanation for the debtor yet (why the invoice stands)")
    return {"raised_on": local(task.created_at).date(), "answer": answer}


def _latest_call(session: Session, invoice: Invoice, having: str) -> Step | None:
    """The latest answered call whose outcome has `having` (a promised date, a copy to send)."""
    calls = session.scalars(
        select(HumanTask)
        .where(
            HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.call, HumanTask.status == TaskStatus.done
        )
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    )
    return next((call.step for call in calls if (call.outcome or {}).get(having)), None)


def _combine(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    others: list[Invoice],
    step: Step,
    today: date,
    policy: Policy,
    shares: dict[int, CostShare],
    values: dict[str, Any],
    data: dict[str, Any],
) -> None:
    values["combined"] = [_invoice(session, other) for other in others]
    data["combined_with"] = [other.number for other in others]
    agreement = values.get("agreement")
    if agreement is not None and agreement["amount"] == invoices.open_amount(session, invoice):
        # One promise in one call about all of them: the whole of what is open on them.
        agreement["amount"] += sum((invoices.open_amount(session, o) for o in others), Decimal("0.00"))
    if values.get("claim") is None:
        return
    # One demand for several claims: each invoice's claim, then the whole (its costs over the total principal).
    group = [invoice, *others]
    claims = [values["claim"]] + [
        _statement(session, inst, o, step.sends, today, values["pay_by"], policy, shares.get(o.id)) for o in others
    ]
    named = sorted(zip(group, claims, strict=True), key=lambda pair: (pair[0].due_date, pair[0].number))
    values["claims"] = [{"invoice": _invoice(session, i), "claim": c} for i, c in named if c is not None]
    values["claim"] = together([c for c in claims if c is not None])
    values["interest_rates"] = interest_rates(values["claim"], today, inst.law_dir)
    if invoice.id in shares:
        data["cost_share"] = _share_data(shares, invoice, group)


def _shares(
    session: Session, inst: Installation, group: list[Invoice], step: Step, today: date, policy: Policy
) -> dict[int, CostShare]:
    """An ingebrekestelling covering several invoices: each one's share of the costs over their principal sums
    added together (BW 6:96, Besluit BIK art. 2), by invoice id. Nothing for other steps: later ones state the
    shares their ingebrekestelling gave (`stated_cost_share`)."""
    if step.sends is not Message.ingebrekestelling or len(group) < 2:
        return {}
    alone = [_statement(session, inst, i, step.sends, today, None, policy, CostShare(Decimal(0), Decimal(1)))
             for i in group]
    principals = [s.principal if s is not None else Decimal("0.00") for s in alone]
    consumer = group[0].debtor.kind is DebtorKind.consumer
    amounts = combined_collection_costs(principals, consumer=consumer, vat=inst.creditor.vat_on_collection_costs)
    return {i.id: CostShare(a, p) for i, a, p in zip(group, amounts, principals, strict=True)}


def _share_data(shares: dict[int, CostShare], invoice: Invoice, group: list[Invoice]) -> dict[str, Any]:
    share = shares[invoice.id]
    return {
        "amount": str(share.amount),
        "principal": str(share.principal),
        "total_costs": str(sum((s.amount for s in shares.values()), Decimal("0.00"))),
        "total_principal": str(sum((s.principal for s in shares.values()), Decimal("0.00"))),
        "invoices": [i.number for i in group],
    }


# -- attachments -------------------------------------------------------------------------------------------


def _override_dir(inst: Installation) -> Path:
    return inst.home / "templates"


def _attachments(
    inst: Installation, invoice: Invoice, step: Step, language: str, values: Mapping[str, Any]
) -> tuple[Attachment, ...]:
    """The invoice copy when one is on file, and for a step that also goes by post the letter itself, so the
    e-mail carries the formal document."""
    found = []
    copy = inst.invoice_copy(invoice.number)
    shown = f"{readable(invoice.number)}.pdf"  # as the debtor sees it: F/1 -> F-1.pdf
    if copy.is_file():
        found.append(Attachment(shown, copy.read_bytes()))
    if values["by_post"]:
        try:
            pdf = render_letter_pdf(step.sends.value, language, values, _override_dir(inst))
        except FieldError:
            return tuple(found)  # the letter itself is refused with the reason; the e-mail still goes
        found.append(Attachment(f"{step}-{shown}", pdf))
    return tuple(found)
