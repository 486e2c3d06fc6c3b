"""Sending a step's message through the outbox: queued once, delivered at most once, recorded exactly once.

The decisions live here, over the outbox rows in the caller's transaction; the caller (a task) does the SMTP
I/O in between and holds no transaction while it does:

    decision = prepare_email(...)      # in one transaction
    Deliver      -> hand `content` to the mail server, then record_delivery(...) in a new transaction
    WaitForLead  -> another invoice's run sends this one message; try again later
    Held         -> (a WaitForLead) it would state interest at a rate row nobody confirmed; try again later
    Settled      -> nothing to hand over: sent, refused, voided, or no longer due

A message is composed once, when it is first queued; from then on every retry sends the same bytes. Messages
to one debtor at one moment go out as one (`combining`): the first invoice's run (the lead) claims and sends
every row, the others wait for it. A row found `sending` belongs to a run that stopped while handing it over:
never sent again, recorded as unconfirmed. Data no message can carry (`compose` raises `FieldError`) is a
business refusal noted in the dossier, by e-mail and by letter alike; so is a permanent SMTP error.

Mail server faults (`record_delivery`): a temporary one waits out the back-off (`not_before`), a permanent one
sends the step by letter where there is an address (`letter_instead`), and a message whose connection ended after
its data went out is in doubt like one left `sending`: a person confirms it or has it sent again (`confirm`,
`resend`), never the engine on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from dunning.casework import dossier, policies
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.policy import Policy
from dunning.domain.steps import Step
from dunning.messaging import channels, combining, compose, outbox, print_queue
from dunning.messaging.mailer import InDoubtMailError, PermanentMailError, TransientMailError
from dunning.messaging.templating import FieldError
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice, OutboxMessage

NOT_DUE = "not due"
# A combined message left `sending` by a lead's run that never came back is recorded as in doubt after this.
IN_DOUBT_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Deliver:
    """Hand `content` to the mail server for `recipient`, then `record_delivery` for these outbox rows."""

    key: str  # the outbox key of the message (its lead row)
    rows: tuple[int, ...]  # the lead row and the rows of the other invoices it covers, all claimed
    content: bytes
    recipient: str
    warnings: tuple[str, ...] = ()  # about the figures it states (e.g. an unverified interest rate)


@dataclass(frozen=True)
class WaitForLead:
    """Another invoice's run sends this one message (and records it for this invoice too): try again later."""

    lead: str  # that invoice's number


@dataclass(frozen=True)
class Settled:
    """Nothing to hand over now. `status`: sent, refused, voided, queued (a letter to post) or not due."""

    status: str
    why: str = ""  # for the log: the refusal's reason, an unconfirmed delivery, where a letter waits


@dataclass(frozen=True)
class Held(WaitForLead):
    """The message would state interest at a rate row marked unverified that no person confirmed: it waits, noted
    in the dossier and named in the daily overview, until someone runs `dunning law confirm-rate`. A kind of
    WaitForLead, so a caller that knows only that waits too; `lead` says what it waits for."""

    rows: tuple[str, ...] = ()


HELD_KEY = "held-rates"  # in the dossier note's key: <invoice>:<step>:held-rates:<rows>


Decision = Deliver | WaitForLead | Settled


def route(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> tuple[Channel, ...]:
    """The channels this step takes; fallbacks are noted in the dossier, and a step that no channel can carry
    is refused (the incasso gate will then name its evidence as missing)."""
    planned = channels.route(step, invoice.debtor, _policy(inst, invoice).by_post)
    for n, note in enumerate(planned.notes):
        dossier.record(session, invoice, key=f"{invoice.number}:{step}:route:{n}", kind="note", at=now, summary=note)
    if not planned.channels:
        outbox.refuse(session, invoice, step, Channel.email, now, "no e-mail address and no postal address")
    return planned.channels


# -- e-mail ------------------------------------------------------------------------------------------------


def prepare_email(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> Decision:
    """What to do about the e-mail for `step` now. Queues it the first time (composed once, combined with the
    debtor's other invoices due the same message); claims it for delivery (queued -> sending).

    Raises TransientMailError when the message changed between reading and claiming it (voided meanwhile,
    taken by another run): the caller's transaction must then roll back, undoing a claim made in part."""
    if not invoice.debtor.email:
        outbox.refuse(session, invoice, step, Channel.email, now, "the debtor has no e-mail address")
        return Settled(OutboxStatus.refused.value, "no e-mail address")
    _one_at_a_time(session, invoice)
    attempt, message = outbox.current(session, invoice, step, Channel.email)
    if message is None:
        if not combining.still_due(session, inst, invoice, step, now):
            # A retry after the facts changed (a message voided by a dispute, a payment): nothing new goes out;
            # the flow asks the ladder again.
            return Settled(NOT_DUE)
        held = _held(session, inst, invoice, step, now)
        if held is not None:
            return held
        if (earlier := outbox.refused_address(session, invoice.debtor.id, invoice.debtor.email)) is not None:
            # Refused for the address's sake before: not offered to it again (the step goes by letter, as then)
            # until the books give the debtor another address.
            reason = (f"the mail server refused {invoice.debtor.email} before ({earlier.smtp_code}, "
                      f"{earlier.key}); not tried again until the address changes")
            outbox.refuse(session, invoice, step, Channel.email, now, reason, attempt, earlier.smtp_code,
                          invoice.debtor.email)
            return Settled(OutboxStatus.refused.value, reason)
        try:
            message, rows = _queue_email(session, inst, invoice, step, now, attempt, absent=True)
        except FieldError as error:
            return _refuse(session, invoice, step, Channel.email, now, error, attempt)
        return _hand_over(session, message, now, rows)
    return _hand_over(session, message, now)


def queue_email(
    session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime, attempt: int = 1
) -> OutboxMessage:
    """The e-mail's outbox row, composed the first time: with the debtor's other invoices for which the same
    message is due now, each on record with its own row and the facts it states about that invoice."""
    return _queue_email(session, inst, invoice, step, now, attempt)[0]


def _queue_email(
    session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime, attempt: int,
    *, absent: bool = False,
) -> tuple[OutboxMessage, list[OutboxMessage]]:
    """`queue_email`, and every row of the message (its own first) when it was composed just now."""
    others = combining.companions(session, inst, invoice, step, now)
    key = outbox.key_for(invoice, step, Channel.email, attempt)
    message = outbox.prepare(
        session,
        invoice,
        step,
        Channel.email,
        now,
        lambda: compose.email_for_outbox(
            session, inst, invoice, step, now, _policy(inst, invoice), key, also=[o for o, _ in others]
        ),
        attempt=attempt,
        absent=absent,
    )
    return message, [message, *_add_companions(session, inst, invoice, message, others, now)]


def _add_companions(
    session: Session,
    inst: Installation,
    invoice: Invoice,
    message: OutboxMessage,
    others: list[tuple[Invoice, Step]],
    now: datetime,
) -> list[OutboxMessage]:
    """The other invoices a message just composed covers, each on record with its own row (returned)."""
    if not others:
        return []
    group = [invoice, *(o for o, _ in others)]
    # Each invoice's evidence states its own facts (its deadline, its claim, its share of the costs).
    data = {o: compose.stated_facts(session, inst, o, o_step, now, _policy(inst, o), group) for o, o_step in others}
    if message.channel is Channel.letter:
        for facts in data.values():
            facts["printed_on"] = (message.data or {})["printed_on"]  # posted with it, its terms count from then
    return outbox.add_companions(session, message, others, data)


def _hand_over(
    session: Session, message: OutboxMessage, now: datetime, composed: list[OutboxMessage] | None = None
) -> Decision:
    """Claim the message for delivery, or say why not. `composed`: its rows, when it was composed just now."""
    if message.status in (OutboxStatus.sent, OutboxStatus.refused):
        return Settled(message.status.value)
    lead = outbox.lead_of(session, message)
    if lead is not None and message.status is OutboxStatus.queued and lead.status is not OutboxStatus.queued:
        if lead.status in (OutboxStatus.refused, OutboxStatus.voided):
            # The one message will not go out: this invoice's goes its own way, composed afresh.
            message.status = OutboxStatus.voided
            message.last_error = f"the message of {lead.key} was {lead.status.value}"
            return Settled(OutboxStatus.voided.value, message.last_error)
    if lead is not None and not _in_doubt_too_long(message, now):
        return WaitForLead(lead.key.rsplit(":", 3)[0])
    if composed is not None:
        group = composed
    else:
        group = [message] if lead is not None else [message, *outbox.sent_with(session, message)]
    if message.status is OutboxStatus.sending:
        # We stopped after handing it to the server last time: never send twice, record what we know.
        for m in group:
            if m.status is OutboxStatus.sending:
                outbox.mark_sent(session, m, session.get_one(Invoice, m.invoice_id), now, confirmed=False)
        return Settled(OutboxStatus.sent.value, "it was being sent when the run stopped; recorded as unconfirmed")
    if not outbox.claim(session, group, now):
        raise TransientMailError(f"{message.step}: the message changed while it was being prepared; composed again")
    assert message.content is not None and message.recipient is not None
    warnings = tuple((message.data or {}).get("warnings", []))
    return Deliver(message.key, tuple(m.id for m in group), message.content, message.recipient, warnings)


MailFault = TransientMailError | PermanentMailError | InDoubtMailError


def record_delivery(session: Session, deliver: Deliver, now: datetime, error: MailFault | None = None) -> str:
    """What the mail server said, recorded for every row of the message; returns the outbox status. Accepted:
    sent, with evidence in each invoice's dossier. A transient error: back in the queue, to go again after the
    back-off (`outbox.backoff`). A permanent one: this message is refused (no other attempt), and each dossier
    says why. In doubt (the connection ended after the data went out): sent as far as the ladder goes, recorded
    unconfirmed and in doubt until a person confirms it or has it sent again; never resent on its own."""
    for row in deliver.rows:
        m = session.get_one(OutboxMessage, row)
        if isinstance(error, TransientMailError):
            outbox.back_to_queue(m, str(error), now)
        elif isinstance(error, InDoubtMailError):
            if m.status is OutboxStatus.sending:
                outbox.mark_sent(session, m, session.get_one(Invoice, m.invoice_id), now, confirmed=False,
                                 why="the connection ended after the message was handed over")
        elif error is not None:
            outbox.refuse_in_place(session, m, session.get_one(Invoice, m.invoice_id), now, str(error), error.code)
        elif m.status is OutboxStatus.sending:
            outbox.mark_sent(session, m, session.get_one(Invoice, m.invoice_id), now, confirmed=True)
    if isinstance(error, TransientMailError):
        return OutboxStatus.queued.value
    return OutboxStatus.refused.value if isinstance(error, PermanentMailError) else OutboxStatus.sent.value


def give_back(session: Session, deliver: Deliver, why: str) -> None:
    """The claim on this message undone before anything went to the mail server (no e-mail slot to be had, say):
    queued again, to go at the next try. Left `sending`, a retry would record as sent, in doubt, a message the
    debtor never got."""
    for row in deliver.rows:
        outbox.back_to_queue(session.get_one(OutboxMessage, row), why)


def not_before(session: Session, invoice: Invoice, step: Step, now: datetime) -> datetime | None:
    """When this step's e-mail, back in the queue after a temporary mail server fault, may be handed over again;
    None when it may go now (or is not queued at all)."""
    attempt, message = outbox.current(session, invoice, step, Channel.email)
    if message is None or message.status is not OutboxStatus.queued or message.next_try_at is None:
        return None
    return message.next_try_at if message.next_try_at > now else None


def letter_instead(session: Session, invoice: Invoice, step: Step, now: datetime) -> bool:
    """The mail server refused this step's e-mail for good (an SMTP 5xx): True when the debtor has a postal
    address, so the step goes by letter instead. Either way the dossier says what became of the step."""
    attempt, message = outbox.current(session, invoice, step, Channel.email)
    if message is None or message.status is not OutboxStatus.refused or message.smtp_code is None:
        return False  # not refused by the mail server: no address, or data no message can carry (so no letter)
    letter = channels.has_postal_address(invoice.debtor)
    then = "sent by letter instead" if letter else "no postal address is known, so no letter either"
    dossier.record(session, invoice, key=f"{message.key}:refused-route", kind="note", at=now,
                   summary=f"{step}: the mail server refused the e-mail ({message.smtp_code}); {then}")
    return letter


def in_doubt_message(session: Session, key: str) -> OutboxMessage:
    """The outbox row `key` names, when its message is in doubt; a UserError naming the key otherwise."""
    message = outbox.find(session, key)
    if message is None:
        raise UserError(f"outbox: no message with key {key!r} (the overview names the ones in doubt)")
    if not any(m.in_doubt for m in outbox.message_rows(session, message)):
        raise UserError(f"outbox: {key} is not in doubt ({message.status.value}); nothing to decide")
    return message


def resend(session: Session, key: str, now: datetime, by: str = "") -> Deliver:
    """A person decided the message in doubt did not arrive: hand the same bytes over again as a new attempt
    (then `record_delivery`, or `resend_failed` on a temporary fault)."""
    rows = outbox.resend(session, in_doubt_message(session, key), now, by)
    lead = rows[0]
    assert lead.content is not None and lead.recipient is not None
    return Deliver(lead.key, tuple(m.id for m in rows), lead.content, lead.recipient)


def resend_failed(session: Session, deliver: Deliver, error: TransientMailError) -> None:
    """The mail server had a temporary fault: the message stays in doubt, as it was."""
    outbox.resend_failed(session, [session.get_one(OutboxMessage, row) for row in deliver.rows], str(error))


def confirm(session: Session, key: str, now: datetime, by: str = "") -> list[OutboxMessage]:
    """A person checked that the message in doubt arrived."""
    return outbox.confirm(session, in_doubt_message(session, key), now, by)


def _in_doubt_too_long(message: OutboxMessage, now: datetime) -> bool:
    """A combined message left `sending` by a run that never came back: after a day, recorded as in doubt."""
    since = message.sent_at or message.created_at  # when it was handed to the server
    return message.status is OutboxStatus.sending and now - since > IN_DOUBT_AFTER


# -- letters -----------------------------------------------------------------------------------------------


def print_letter(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> Settled:
    """Compose the letter once and put it in the print queue (`queued`); it counts as sent when marked posted.
    A letter voided for not being posted in time is composed afresh, as a new attempt."""
    _one_at_a_time(session, invoice)
    attempt, message = outbox.current(session, invoice, step, Channel.letter)
    if message is None:
        held = _held(session, inst, invoice, step, now)
        if held is not None:
            # "queued": the flow looks again the next day, as for a letter waiting to be posted.
            return Settled(OutboxStatus.queued.value, held.lead)
    try:
        message = queue_letter(session, inst, invoice, step, now, attempt)
    except FieldError as error:
        return _refuse(session, invoice, step, Channel.letter, now, error, attempt)
    if message.status is not OutboxStatus.queued:
        return Settled(message.status.value)
    lead = outbox.lead_of(session, message)
    if lead is not None:
        # Another invoice's letter names this one too: that one letter is printed; posting it records both.
        return Settled(OutboxStatus.queued.value, f"goes in the letter of invoice {lead.key.split(':')[0]}")
    path: Path = print_queue.put(inst, message)
    return Settled(OutboxStatus.queued.value, f"waits in the print queue: {path}")


def queue_letter(
    session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime, attempt: int = 1
) -> OutboxMessage:
    """The letter's outbox row, composed the first time (printed today: the terms it states count from then),
    with the debtor's other invoices for which the same letter is due now (`combining`): one letter, a row each."""
    key = outbox.key_for(invoice, step, Channel.letter, attempt)
    others: list[tuple[Invoice, Step]] = []
    if outbox.find(session, key) is None and step.sends in combining.BY_LETTER:
        covered = combining.covered_by_email(session, invoice, step)
        others = covered if covered is not None else combining.companions(
            session, inst, invoice, step, now, Channel.letter)
    message = outbox.prepare(
        session,
        invoice,
        step,
        Channel.letter,
        now,
        lambda: compose.letter_for_outbox(
            session, inst, invoice, step, now, _policy(inst, invoice), also=[o for o, _ in others]
        ),
        attempt=attempt,
    )
    _add_companions(session, inst, invoice, message, others, now)
    return message


# -- both --------------------------------------------------------------------------------------------------


def _refuse(
    session: Session, invoice: Invoice, step: Step, channel: Channel, now: datetime, error: FieldError, attempt: int
) -> Settled:
    """Stored data no message can carry: a business refusal noted in the dossier; retrying would not change it."""
    if not compose.refusable(error):
        raise error
    outbox.refuse(session, invoice, step, channel, now, str(error), attempt)
    return Settled(OutboxStatus.refused.value, str(error))


def _held(session: Session, inst: Installation, invoice: Invoice, step: Step, now: datetime) -> Held | None:
    """A message not composed yet that would state interest at an unconfirmed unverified rate row: held, with a
    note in the dossier (once per set of rows) saying which rows and how to release it."""
    rows = compose.held_for_rates(session, inst, invoice, step, now, _policy(inst, invoice))
    if not rows:
        return None
    named = tuple(r["row"] for r in rows)
    why = (f"held: the {step} would state interest at statutory rate rows marked unverified that no person "
           f"confirmed: {', '.join(named)}; it goes once they are checked and confirmed "
           f"(dunning law confirm-rate TABLE DATE)")
    ids = "+".join(f"{r['table']}@{r['from']}" for r in rows)
    dossier.record(session, invoice, key=f"{invoice.number}:{step}:{HELD_KEY}:{ids}", kind="note", at=now,
                   summary=why, data={"step": str(step), "unconfirmed_rates": rows})
    return Held(lead=why, rows=named)


def _one_at_a_time(session: Session, invoice: Invoice) -> None:
    """One debtor's messages are composed one at a time: the runs of invoices due together, woken together, would
    otherwise each compose the one message that covers them all (a row lock on PostgreSQL, the write lock on
    SQLite); the second then finds its row, composed by the first."""
    session.execute(update(Debtor).where(Debtor.id == invoice.debtor_id).values(number=Debtor.number))


def _policy(inst: Installation, invoice: Invoice) -> Policy:
    return policies.policy_for(inst.home, invoice.debtor.number)
