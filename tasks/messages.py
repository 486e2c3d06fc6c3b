"""Sending one ladder step's message through the outbox: at most once, evidence exactly once."""

from __future__ import annotations

import os
from datetime import timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from dunning.casework import dossier, invoices, policies
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.policy import Policy
from dunning.messaging import channels, combining, messages, outbox, print_queue
from dunning.messaging.mailer import PermanentMailError, TransientMailError, deliver_raw
from dunning.messaging.templating import FieldError
from dunning.storage import clock, db
from dunning.storage.models import Invoice, OutboxMessage, Setting
from tasks.runtime import installation

CRASH_AFTER_SEND = "test.crash_after_send"  # fault injection for the crash test: the outbox key to die after


@task(cache_policy=NO_CACHE)
def plan_route(invoice_number: str, step: str) -> list[str]:
    """The channels this step takes; fallbacks are noted in the dossier, and a step that no channel can carry
    is refused (the incasso gate will then name its evidence as missing)."""
    inst = installation()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        planned = channels.route(step, invoice.debtor, _policy(inst, invoice).by_post)
        for n, note in enumerate(planned.notes):
            dossier.record(s, invoice, key=f"{invoice.number}:{step}:route:{n}", kind="note", at=now, summary=note)
        if not planned.channels:
            outbox.refuse(s, invoice, step, Channel.email, now, "no e-mail address and no postal address")
        return [c.value for c in planned.channels]


@task(cache_policy=NO_CACHE)
def print_letter(invoice_number: str, step: str) -> str:
    """Compose the letter once and put it in the print queue; it counts as sent when marked posted."""
    inst = installation()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        attempt = outbox.next_attempt(s, invoice, step, Channel.letter)
        try:
            message = outbox.prepare(
                s,
                invoice,
                step,
                Channel.letter,
                now,
                lambda: messages.compose_letter(s, inst, invoice, step, now, _policy(inst, invoice)),
                attempt=attempt,
            )
        except FieldError as error:
            # Debtor data no letter can carry (e.g. a name the font cannot print): a business refusal, noted in
            # the dossier; retrying would not change it.
            outbox.refuse(s, invoice, step, Channel.letter, now, str(error))
            get_run_logger().warning("%s: %s letter refused: %s", invoice_number, step, error)
            return OutboxStatus.refused.value
        if message.status is not OutboxStatus.queued:
            return message.status.value
        path = print_queue.put(inst, message)
    get_run_logger().info("%s: %s letter waits in the print queue: %s", invoice_number, step, path)
    return OutboxStatus.queued.value


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
async def send_step(invoice_number: str, step: str) -> str:
    """Queue (once), deliver (at most once), record (exactly once). Returns the outbox status."""
    inst = installation()
    log = get_run_logger()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        if not invoice.debtor.email:
            outbox.refuse(s, invoice, step, Channel.email, now, "the debtor has no e-mail address")
            log.warning("%s: %s not sent, no e-mail address", invoice_number, step)
            return OutboxStatus.refused.value
        attempt = outbox.next_attempt(s, invoice, step, Channel.email)
        key = outbox.key_for(invoice, step, Channel.email, attempt)
        first_time = not outbox.exists(s, key)
        if first_time and not combining.still_due(s, inst, invoice, step, now):
            # A retry after the facts changed (a message voided by a dispute, a payment): nothing new goes out;
            # the flow asks the ladder again.
            return "not due"
        # Messages to one debtor on one day are combined: decided once, when the message is composed.
        others = combining.companions(s, inst, invoice, step, now) if first_time else []
        message = outbox.prepare(
            s,
            invoice,
            step,
            Channel.email,
            now,
            lambda: messages.compose(
                s, inst, invoice, step, now, _policy(inst, invoice), key, also=[o for o, _ in others]
            ),
            attempt=attempt,
        )
        if others:
            # Each invoice's evidence states its own facts (its deadline, its claim), as if sent on its own.
            today = clock.local(now).date()
            data = {o: messages.context(s, inst, o, o_step, today, _policy(inst, o), preview=True)[1]
                    for o, o_step in others}
            outbox.add_companions(s, message, others, data)
        if message.status in (OutboxStatus.sent, OutboxStatus.refused):
            return message.status.value
        lead = outbox.lead_of(s, message)
        if lead is not None and message.status is OutboxStatus.queued and lead.status is not OutboxStatus.queued:
            if lead.status in (OutboxStatus.refused, OutboxStatus.voided):
                # The one message will not go out: this invoice's goes its own way, composed afresh.
                message.status = OutboxStatus.voided
                message.last_error = f"the message of {lead.key} was {lead.status.value}"
                return OutboxStatus.voided.value
        if lead is not None and not _in_doubt_too_long(message, now):
            # Another invoice's run sends this one message (and records it for us): not yet done, so wait.
            raise TransientMailError(f"goes out in one message with {lead.key.rsplit(':', 3)[0]}")
        for warning in (message.data or {}).get("warnings", []):
            log.warning("%s: %s: %s", invoice_number, step, warning)
        group = [message] if lead is not None else [message, *outbox.sent_with(s, message)]
        if message.status is OutboxStatus.sending:
            # We stopped after handing it to the server last time: never send twice, record what we know.
            for m in group:
                if m.status is OutboxStatus.sending:
                    outbox.mark_sent(s, m, s.get_one(Invoice, m.invoice_id), now, confirmed=False)
            log.warning("%s: %s was being sent when the run stopped; recorded as unconfirmed", invoice_number, step)
            return OutboxStatus.sent.value
        if not outbox.claim(s, group, now):
            raise TransientMailError(f"{step}: the message changed while it was being prepared; composed again")
        ids, content, recipient = [m.id for m in group], message.content, message.recipient
    assert content is not None and recipient is not None
    try:
        await deliver_raw(messages.smtp_settings(inst), content, [recipient])
    except TransientMailError as error:
        with db.transaction(inst) as s:
            for message_id in ids:
                outbox.back_to_queue(s.get_one(OutboxMessage, message_id), str(error))
        raise
    except PermanentMailError as error:
        with db.transaction(inst) as s:
            for message_id in ids:
                m = s.get_one(OutboxMessage, message_id)
                outbox.refuse_in_place(s, m, s.get_one(Invoice, m.invoice_id), clock.now(s), str(error))
        return OutboxStatus.refused.value
    _crash_here_if_asked(inst, key)
    with db.transaction(inst) as s:
        for message_id in ids:
            m = s.get_one(OutboxMessage, message_id)
            if m.status is OutboxStatus.sending:
                outbox.mark_sent(s, m, s.get_one(Invoice, m.invoice_id), clock.now(s), confirmed=True)
    also = f" (with {len(ids) - 1} other invoices)" if len(ids) > 1 else ""
    log.info("%s: %s sent to %s%s", invoice_number, step, recipient, also)
    return OutboxStatus.sent.value


def _in_doubt_too_long(message: OutboxMessage, now) -> bool:  # type: ignore[no-untyped-def]
    """A combined message left `sending` by a run that never came back: after a day, recorded as in doubt."""
    since = message.sent_at or message.created_at  # when it was handed to the server
    return message.status is OutboxStatus.sending and now - since > timedelta(days=1)


def _policy(inst, invoice) -> Policy:  # type: ignore[no-untyped-def]
    return policies.policy_for(inst.home, invoice.debtor.number)


def _crash_here_if_asked(inst, key: str) -> None:  # type: ignore[no-untyped-def]
    with db.transaction(inst) as s:
        setting = s.scalars(select(Setting).where(Setting.key == CRASH_AFTER_SEND)).one_or_none()
        if setting is None or setting.value != key:
            return
        s.delete(setting)
    os._exit(17)  # the process dies between the server's acceptance and our record, as a power cut would
