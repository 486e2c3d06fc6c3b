"""The statement of account (rekeningoverzicht): one debtor's open invoices with the payments and credits on them,
the debtor's credit not applied yet, the total and how to pay; shown to a person, and sent to the debtor on request
(`dunning statement DEBTOR [--send]`). An overview, not a step of the ladder: `decide` never sends it, and it gives
no deadline and claims no costs.

What it lists (`build`):

- every open invoice of the debtor (`invoices.open_of_debtor`: something still to pay, its case not closed),
  oldest due date first, with its amount, what was paid (payments, and what the books settled), what was
  credited (credit notes, write-offs), what is open and its payment reference;
- the payments and credits on those invoices, in date order, from the `payment` table; a payment the bank took
  back (`reversed_at`) is listed, marked as returned, and counts in neither paid nor open;
- the debtor's credits (`debtor_credit`) neither applied to an invoice nor released;
- the total open per currency and the creditor's IBAN.

Sending goes through the outbox like the ladder's messages, with the same guarantees: at most once per debtor,
channel and day, recorded exactly once. The outbox key is ``<debtor>:rekeningoverzicht:<date>:<channel>:<attempt>``
(a new attempt only after the row was voided, e.g. a queued e-mail whose facts changed); the row hangs on the first
invoice listed (the oldest due date), and once it is sent every invoice listed gets a dossier entry "statement of
account sent (<channel>)" (the first one under the row's own key). The decisions are here, over rows in the
caller's transaction; the caller does the SMTP I/O between them, holding no transaction:

    decision = prepare(...)        # one transaction: composed once, claimed (queued -> sending)
    Deliver -> deliver_raw(...), then record_delivery(...) in a new transaction
    Settled -> sent (today's went out already), refused, or a letter waiting in the print queue

A letter counts as sent once it is marked posted (`print_queue.mark_posted`, which records the first invoice's
evidence); `record_posted` then records it on the other invoices listed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.bank.references import payment_reference, printed
from dunning.casework import dossier, invoices
from dunning.domain.errors import UserError
from dunning.domain.fields import email_address_problem
from dunning.domain.kinds import Channel, OutboxStatus, PaymentKind
from dunning.domain.steps import Message, Step
from dunning.domain.time import local
from dunning.messaging import channels, outbox, preview, print_queue
from dunning.messaging.compose import Composition, debtor_values, render
from dunning.messaging.mailer import (
    PermanentMailError,
    TransientMailError,
    compose_email,
    message_bytes,
    smtp_settings,
)
from dunning.messaging.sending import Deliver, Settled
from dunning.messaging.templating import FieldError
from dunning.storage.config import Installation
from dunning.storage.models import BankLine, Debtor, DebtorCredit, Invoice, OutboxMessage

MESSAGE = Message.rekeningoverzicht
STEP = Step.send(MESSAGE)
KIND = MESSAGE.value  # the dossier's kind of its evidence
PAID = (PaymentKind.payment, PaymentKind.settled)  # as the ledger counts them: the rest was credited
ZERO = Decimal("0.00")


# -- what it states ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A payment or credit on an invoice."""

    on: date
    amount: Decimal
    kind: PaymentKind
    reversed: bool  # the bank took it back: listed, not counted

    def as_context(self) -> dict[str, Any]:
        return {"on": self.on, "amount": self.amount, "kind": self.kind.value, "reversed": self.reversed}

    def as_json(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "amount": str(self.amount), "kind": self.kind.value,
                "reversed": self.reversed}


@dataclass(frozen=True)
class Item:
    """An open invoice as the statement states it."""

    number: str
    issue_date: date
    due_date: date
    amount: Decimal
    paid: Decimal
    credited: Decimal
    open_amount: Decimal
    currency: str
    payment_reference: str  # printed in groups of four
    entries: tuple[Entry, ...]

    def as_invoice(self) -> dict[str, Any]:
        """The invoice mapping of the templates' contract (`templating`)."""
        return {"number": self.number, "issue_date": self.issue_date, "due_date": self.due_date,
                "amount": self.amount, "open_amount": self.open_amount, "currency": self.currency,
                "payment_reference": self.payment_reference}

    def as_context(self) -> dict[str, Any]:
        return {**self.as_invoice(), "paid": self.paid, "credited": self.credited,
                "entries": [e.as_context() for e in self.entries]}

    def as_json(self) -> dict[str, Any]:
        return {
            "invoice": self.number,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "amount": str(self.amount),
            "paid": str(self.paid),
            "credited": str(self.credited),
            "open": str(self.open_amount),
            "currency": self.currency,
            "payment_reference": self.payment_reference,
            "entries": [e.as_json() for e in self.entries],
        }


@dataclass(frozen=True)
class Credit:
    """What the debtor paid beyond what was open, not applied to an invoice yet."""

    since: date
    amount: Decimal
    currency: str
    reference: str | None

    def as_context(self) -> dict[str, Any]:
        return {"since": self.since, "amount": self.amount, "currency": self.currency, "reference": self.reference}

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "amount": str(self.amount), "currency": self.currency,
                "reference": self.reference}


@dataclass(frozen=True)
class StatementOfAccount:
    debtor: str  # its number
    name: str
    as_of: date
    items: tuple[Item, ...]
    credits: tuple[Credit, ...]
    iban: str

    @property
    def totals(self) -> dict[str, Decimal]:
        """What is open, per currency."""
        found: dict[str, Decimal] = {}
        for item in self.items:
            found[item.currency] = found.get(item.currency, ZERO) + item.open_amount
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "debtor": self.debtor,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "invoices": [i.as_json() for i in self.items],
            "credits": [c.as_json() for c in self.credits],
            "total_open": {currency: str(total) for currency, total in self.totals.items()},
            "iban": self.iban,
        }


def debtor_of(session: Session, number: str) -> Debtor:
    debtor = session.scalars(select(Debtor).where(Debtor.number == number)).one_or_none()
    if debtor is None:
        raise UserError(f"unknown debtor {number!r}")
    return debtor


def build(session: Session, inst: Installation, debtor: Debtor, today: date) -> StatementOfAccount:
    """The debtor's statement of account as of `today` (see the module docstring for what it lists)."""
    items = tuple(_item(invoice, amount) for invoice, amount in invoices.owed_by(session, debtor).items())
    credits = session.scalars(
        select(DebtorCredit)
        .where(DebtorCredit.debtor_id == debtor.id, DebtorCredit.applied_at.is_(None),
               DebtorCredit.released_at.is_(None))
        .order_by(DebtorCredit.created_at, DebtorCredit.id)
    )
    fallback = items[0].currency if items else "EUR"
    return StatementOfAccount(
        debtor=debtor.number,
        name=debtor.name,
        as_of=today,
        items=items,
        credits=tuple(_credit(session, c, fallback) for c in credits),
        iban=inst.creditor.iban,
    )


def _item(invoice: Invoice, open_amount: Decimal) -> Item:
    payments = sorted(invoice.payments, key=lambda p: (p.paid_on, p.id))
    standing = invoices.standing(payments)
    paid = sum((p.amount for p in standing if p.kind in PAID), ZERO)
    credited = sum((p.amount for p in standing if p.kind not in PAID), ZERO)
    return Item(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        amount=invoice.amount,
        paid=paid,
        credited=credited,
        open_amount=open_amount,
        currency=invoice.currency,
        payment_reference=printed(invoice.payment_reference or payment_reference(invoice.number)),
        entries=tuple(Entry(p.paid_on, p.amount, p.kind, p.reversed_at is not None) for p in payments),
    )


def _credit(session: Session, credit: DebtorCredit, fallback: str) -> Credit:
    line = session.get(BankLine, credit.bank_line_id) if credit.bank_line_id is not None else None
    return Credit(local(credit.created_at).date(), credit.amount, line.currency if line else fallback,
                  credit.reference)


# -- composing ---------------------------------------------------------------------------------------------


def values(inst: Installation, debtor: Debtor, statement: StatementOfAccount) -> dict[str, Any]:
    """The template context (`templating`'s contract): the first invoice listed is the message's `invoice`, the
    debtor's number its reference."""
    if not statement.items:
        raise UserError(f"debtor {debtor.number} has no open invoices: there is no statement of account to give")
    return {
        "debtor": debtor_values(debtor),
        "invoice": statement.items[0].as_invoice(),
        "open_invoices": [i.as_invoice() for i in statement.items],
        "statement_items": [i.as_context() for i in statement.items],
        "statement_credits": [c.as_context() for c in statement.credits],
        "creditor": inst.creditor,
        "today": statement.as_of,
        "sent_on": statement.as_of,
        "reference": debtor.number,
        "pay_by": None,
    }


def compose(
    session: Session, inst: Installation, debtor: Debtor, channel: Channel, now: datetime,
    *, language: str | None = None,
) -> Composition:
    """The statement for `channel` at `now`, in the debtor's language: what a preview shows and what is sent.
    Data no message can carry raises `FieldError` (a `UserError`) naming the field."""
    statement = build(session, inst, debtor, local(now).date())
    context = values(inst, debtor, statement)
    lang = language or debtor.language
    rendered = render(KIND, lang, channel, context, inst.home / "templates")
    data: dict[str, Any] = {"statement": statement.as_json()}
    if channel is Channel.letter:
        data["printed_on"] = statement.as_of.isoformat()  # the print queue's day
    return Composition(STEP, channel, lang, context, data, rendered)


def email_bytes(inst: Installation, debtor: Debtor, composition: Composition, key: str, now: datetime) -> bytes:
    """The e-mail exactly as it goes on the wire: the same bytes for the same key and moment."""
    return message_bytes(_email(inst, debtor, composition, key, now))


def _email(inst: Installation, debtor: Debtor, composition: Composition, key: str, now: datetime) -> EmailMessage:
    address = debtor.email or ""
    problem = email_address_problem(address) if address else "is missing"
    if problem:
        raise FieldError("debtor.email", problem, debtor.email)
    email = composition.email
    return compose_email(
        settings=smtp_settings(inst), to_name=debtor.name, to_address=address, subject=email.subject,
        text=email.text, html=email.html, message_id_key=key, now=now,
    )


def key_for(debtor: Debtor, today: date, channel: Channel, attempt: int = 1) -> str:
    return f"{debtor.number}:{KIND}:{today.isoformat()}:{channel.value}:{attempt}"


def channel_for(debtor: Debtor, asked: Channel | None = None) -> Channel:
    """The channel asked for, or the debtor's preferred one (the other when it has no usable address)."""
    if asked is not None:
        if asked not in (Channel.email, Channel.letter):
            raise UserError(f"a statement of account goes by email or letter, not {asked.value}")
        if asked is Channel.email and not channels.has_email(debtor):
            raise UserError(f"debtor {debtor.number} has no usable e-mail address; send it by letter")
        if asked is Channel.letter and not channels.has_postal_address(debtor):
            raise UserError(f"debtor {debtor.number} has no postal address; send it by e-mail")
        return asked
    route = channels.route(STEP, debtor, ())
    if not route.channels:
        raise UserError(f"debtor {debtor.number} has neither an e-mail address nor a postal address")
    return route.channels[0]


def write_preview(
    session: Session, inst: Installation, debtor: Debtor, now: datetime, out_dir: Path
) -> tuple[list[Path], list[str]]:
    """The e-mail (its parts, as `dunning preview` writes them, and the .eml as sending today would hand it to
    the mail server) and the letter (PDF) to `out_dir`; nothing is recorded. Returns the files and, per channel
    that cannot carry it, why."""
    written: list[Path] = []
    problems: list[str] = []
    today = local(now).date()
    for channel in (Channel.email, Channel.letter):
        try:
            composition = compose(session, inst, debtor, channel, now)
            wire = None
            if channel is Channel.email and channels.has_email(debtor):
                attempt, _ = _current(session, debtor, today, channel)
                wire = email_bytes(inst, debtor, composition, key_for(debtor, today, channel, attempt), now)
        except FieldError as error:
            problems.append(f"no {channel.value}: {error}")
            continue
        files = preview.write(composition, out_dir)
        written += files
        if wire is not None:
            # Beside the parts, named as they are: <reference>-rekeningoverzicht.<lang>.eml
            path = files[0].with_name(files[0].name.removesuffix(".subject.txt") + ".eml")
            path.write_bytes(wire)
            written.append(path)
    return written, problems


# -- sending -----------------------------------------------------------------------------------------------


def prepare(
    session: Session, inst: Installation, debtor: Debtor, channel: Channel, now: datetime
) -> Deliver | Settled:
    """What to do about today's statement by `channel`: composed once (a retry sends the same bytes), claimed for
    delivery (queued -> sending). A letter goes into the print queue. Today's statement sent already: `Settled`.

    Raises `UserError` when there is nothing to state or the data cannot be carried (nothing is recorded then),
    and TransientMailError when the row changed between reading and claiming it."""
    today = local(now).date()
    attempt, row = _current(session, debtor, today, channel)
    if row is not None and channel is Channel.email and row.status is OutboxStatus.queued:
        stated = (row.data or {}).get("statement")
        if stated != build(session, inst, debtor, today).as_json():
            # Back in the queue after a transient error, and a payment or credit came in meanwhile (on any of
            # its invoices, not only the one its row hangs on): composed afresh, as a new attempt.
            row.status = OutboxStatus.voided
            row.last_error = "the statement's facts changed before it went out"
            attempt, row = attempt + 1, None
    if row is None:
        row = _queue(session, inst, debtor, channel, now, key_for(debtor, today, channel, attempt), attempt)
    if channel is Channel.letter:
        if row.status is OutboxStatus.queued:
            return Settled(OutboxStatus.queued.value, f"waits in the print queue: {print_queue.put(inst, row)}")
        return Settled(row.status.value)
    if row.status in (OutboxStatus.sent, OutboxStatus.refused):
        return Settled(row.status.value)
    if row.status is OutboxStatus.sending:
        # A run that stopped after handing it to the mail server: never sent again, recorded as unconfirmed.
        _mark_sent(session, row, now, confirmed=False)
        return Settled(OutboxStatus.sent.value, "it was being sent when the last attempt stopped; recorded as "
                                                "unconfirmed")
    if not outbox.claim(session, [row], now):
        raise TransientMailError(f"{row.key}: the statement changed while it was being prepared; try again")
    assert row.content is not None and row.recipient is not None
    return Deliver(row.key, (row.id,), row.content, row.recipient)


def record_delivery(
    session: Session, deliver: Deliver, now: datetime, error: TransientMailError | PermanentMailError | None = None
) -> str:
    """What the mail server said: sent (evidence on every invoice listed), back in the queue (transient), or
    refused for good (noted in the first invoice's dossier). Returns the outbox status."""
    row = session.get_one(OutboxMessage, deliver.rows[0])
    if isinstance(error, TransientMailError):
        outbox.back_to_queue(row, str(error))
        return OutboxStatus.queued.value
    if error is not None:
        outbox.refuse_in_place(session, row, session.get_one(Invoice, row.invoice_id), now, str(error))
        return OutboxStatus.refused.value
    if row.status is OutboxStatus.sending:
        _mark_sent(session, row, now, confirmed=True)
    return row.status.value


def record_posted(session: Session, rows: Iterable[OutboxMessage], now: datetime) -> None:
    """Statements among letters just marked posted (`print_queue.mark_posted`): the evidence on every invoice
    they list (the first one has it from the outbox already). Other rows are left alone; a second call is a
    no-op."""
    for row in rows:
        if row.step == STEP and row.status is OutboxStatus.sent:
            _record_listed(session, row, row.sent_at or now, confirmed=True)


def sent_today(session: Session, debtor: Debtor, now: datetime) -> list[OutboxMessage]:
    """Today's statements to the debtor, any channel and state but voided."""
    prefix = f"{debtor.number}:{KIND}:{local(now).date().isoformat()}:"
    query = select(OutboxMessage).where(OutboxMessage.step == STEP, OutboxMessage.key.startswith(prefix,
                                                                                                 autoescape=True))
    return [m for m in session.scalars(query.order_by(OutboxMessage.id)) if m.status is not OutboxStatus.voided]


def _current(session: Session, debtor: Debtor, today: date, channel: Channel) -> tuple[int, OutboxMessage | None]:
    """The attempt to use today: the latest row, or a new attempt after a voided one."""
    prefix = f"{debtor.number}:{KIND}:{today.isoformat()}:{channel.value}:"
    query = select(OutboxMessage).where(OutboxMessage.step == STEP, OutboxMessage.key.startswith(prefix,
                                                                                                 autoescape=True))
    latest = session.scalars(query.order_by(OutboxMessage.attempt.desc())).first()
    if latest is None:
        return 1, None
    if latest.status is OutboxStatus.voided:
        return latest.attempt + 1, None
    return latest.attempt, latest


def _queue(session: Session, inst: Installation, debtor: Debtor, channel: Channel, now: datetime, key: str,
           attempt: int) -> OutboxMessage:
    composition = compose(session, inst, debtor, channel, now)
    first = invoices.get(session, composition.values["invoice"]["number"])
    if channel is Channel.email:
        email = _email(inst, debtor, composition, key, now)
        content = message_bytes(email)
        recipient = debtor.email or ""
        subject = composition.email.subject
        message_id: str | None = str(email["Message-ID"])
    else:
        content = composition.pdf
        recipient = ", ".join(v for v in (debtor.name, debtor.street, debtor.postcode, debtor.city) if v)
        subject = f"{KIND} {debtor.number}"
        message_id = None
    row = OutboxMessage(
        key=key,
        invoice_id=first.id,
        step=STEP,
        channel=channel,
        attempt=attempt,
        status=OutboxStatus.queued,
        recipient=recipient,
        subject=subject,
        content=content,
        message_id=message_id,
        sha256=hashlib.sha256(content).hexdigest(),
        data=composition.data,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _mark_sent(session: Session, row: OutboxMessage, now: datetime, *, confirmed: bool) -> None:
    _record_listed(session, row, now, confirmed=confirmed)
    # Its own dossier entry is the first invoice's, recorded just now under the row's key.
    outbox.mark_sent(session, row, session.get_one(Invoice, row.invoice_id), now, confirmed=confirmed)


def _record_listed(session: Session, row: OutboxMessage, now: datetime, *, confirmed: bool) -> None:
    """The evidence on every invoice the statement listed: one entry each, under keys derived from the row's."""
    statement = (row.data or {}).get("statement") or {}
    listed = statement.get("invoices") or []
    numbers = [i["invoice"] for i in listed]
    summary = f"statement of account sent ({row.channel.value}) to {row.recipient}"
    if not confirmed:
        summary += " (delivery unconfirmed: the process stopped while sending; check the mail server's log)"
    for item in listed:
        invoice = invoices.get(session, item["invoice"])
        dossier.record(
            session,
            invoice,
            key=row.key if invoice.id == row.invoice_id else f"{row.key}:{invoice.number}",
            kind=KIND,
            at=now,
            channel=row.channel.value,
            summary=summary,
            message_id=row.message_id,
            content_hash=row.sha256,
            data={"outbox": row.key, "as_of": statement.get("as_of"), "invoices": numbers, "open": item["open"],
                  "confirmed": confirmed, "tries": row.tries},
        )
