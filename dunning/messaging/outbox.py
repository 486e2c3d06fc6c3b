"""Every message passes through the outbox. Its unique key (invoice + step + channel + attempt) makes sending
at most once, and the evidence is recorded in the same transaction that marks the message sent.

States: queued -> sending -> sent, or -> refused (a business refusal, never retried), or -> voided (its facts
changed before it went out; a new attempt is composed). A message found in `sending` after a crash may or may
not have been accepted by the mail server; it is never sent again (at most once) and its evidence is recorded
with `confirmed: false`, the row `in_doubt` until a person confirms it or has it sent again (`dunning outbox`);
so is a message whose connection dropped after its data went out. A temporary mail server fault puts the message
back in the queue, not to be handed over before `next_try_at` (`backoff`). These are the rows; `sending` decides
what to do with them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from dunning.casework import dossier
from dunning.casework.unsent import lead_of, sent_with, void_unsent  # noqa: F401  (part of the outbox's API)
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.steps import Step
from dunning.storage.models import Invoice, OutboxMessage


@dataclass(frozen=True)
class Composed:
    recipient: str
    subject: str
    content: bytes
    message_id: str | None  # e-mail only
    data: dict[str, Any]


def key_for(invoice: Invoice, step: Step, channel: Channel, attempt: int = 1) -> str:
    return f"{invoice.number}:{step}:{channel.value}:{attempt}"


def find(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()


def prepare(
    session: Session,
    invoice: Invoice,
    step: Step,
    channel: Channel,
    now: datetime,
    compose: Callable[[], Composed],
    attempt: int = 1,
    *,
    absent: bool = False,
) -> OutboxMessage:
    """The outbox row for this message, composed once: a replay finds it and reuses the same bytes. `absent`:
    the caller found no row for this attempt in this transaction already (`current`), so none is looked for."""
    key = key_for(invoice, step, channel, attempt)
    message = None if absent else find(session, key)
    if message is not None:
        return message
    composed = compose()
    message = OutboxMessage(
        key=key,
        invoice_id=invoice.id,
        step=step,
        channel=channel,
        attempt=attempt,
        status=OutboxStatus.queued,
        recipient=composed.recipient,
        subject=composed.subject,
        content=composed.content,
        message_id=composed.message_id,
        sha256=hashlib.sha256(composed.content).hexdigest(),
        data=composed.data,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def add_companions(
    session: Session,
    message: OutboxMessage,
    others: list[tuple[Invoice, Step]],
    data: dict[Invoice, dict[str, Any]],
) -> list[OutboxMessage]:
    """The same message, on record for the other invoices it covers (each under its own step): each gets its
    own row (returned) and, once it is sent, its own evidence; only the first invoice's run sends it."""
    rows = []
    for other, step in others:
        attempt = next_attempt(session, other, step, message.channel)
        row = OutboxMessage(
            key=key_for(other, step, message.channel, attempt),
            invoice_id=other.id,
            step=step,
            channel=message.channel,
            attempt=attempt,
            status=OutboxStatus.queued,
            recipient=message.recipient,
            subject=message.subject,
            content=message.content,
            message_id=message.message_id,
            sha256=message.sha256,
            data={**data[other], "sent_with": message.key},
            created_at=message.created_at,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def next_attempt(session: Session, invoice: Invoice, step: Step, channel: Channel) -> int:
    """The attempt to use now: the latest one, or a new one when the latest was voided."""
    return current(session, invoice, step, channel)[0]


def current(session: Session, invoice: Invoice, step: Step, channel: Channel) -> tuple[int, OutboxMessage | None]:
    """The attempt to use now and its row, if it has one: the latest attempt, or a new one (no row yet) when the
    latest was voided. One query: the latest row is the current attempt's own unless it was voided."""
    latest = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.invoice_id == invoice.id, OutboxMessage.step == step, OutboxMessage.channel == channel)
        .order_by(OutboxMessage.attempt.desc())
    ).first()
    if latest is None:
        return 1, None
    if latest.status is OutboxStatus.voided:
        return latest.attempt + 1, None
    return latest.attempt, latest


def refuse(
    session: Session, invoice: Invoice, step: Step, channel: Channel, now: datetime, reason: str, attempt: int = 1,
    smtp_code: int | None = None, recipient: str | None = None,
) -> None:
    """A message that cannot go out (no usable address, data no message can carry): the ladder moves on, the
    dossier says why."""
    key = key_for(invoice, step, channel, attempt)
    message = find(session, key)
    if message is None:
        message = OutboxMessage(
            key=key,
            invoice_id=invoice.id,
            step=step,
            channel=channel,
            attempt=attempt,
            created_at=now,
            status=OutboxStatus.queued,
            recipient=recipient,
        )
        session.add(message)
        session.flush()
    refuse_in_place(session, message, invoice, now, reason, smtp_code)


# The mail server's answers that say the address itself is wrong (mailbox unknown or unavailable, not local, name
# not allowed): no later message to it fares better. A 554 may be about the message (a spam filter) and is not kept.
ADDRESS_REFUSED = (550, 551, 553)


def refused_address(session: Session, debtor_id: int, address: str) -> OutboxMessage | None:
    """The latest e-mail to this debtor at `address` that the mail server refused for the address's sake."""
    return session.scalars(
        select(OutboxMessage).join(Invoice, OutboxMessage.invoice_id == Invoice.id)
        .where(Invoice.debtor_id == debtor_id, OutboxMessage.channel == Channel.email,
               OutboxMessage.status == OutboxStatus.refused, OutboxMessage.smtp_code.in_(ADDRESS_REFUSED),
               OutboxMessage.recipient == address)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(1)
    ).first()


def claim(session: Session, group: list[OutboxMessage], now: datetime) -> bool:
    """queued -> sending for every row of one message, or for none: False when any of them changed meanwhile
    (voided because an invoice's facts changed, or taken by another run). A conditional update, so two
    processes cannot both claim it; `sent_at` says since when it is being handed over."""
    ids = [m.id for m in group]
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.queued)
        .values(status=OutboxStatus.sending, tries=OutboxMessage.tries + 1, sent_at=now)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(done, CursorResult)  # an UPDATE: its rowcount counts the rows claimed
    for m in group:
        session.expire(m, ["status", "tries", "sent_at"])  # read again when next used, not now
    return done.rowcount == len(ids)


# After the 1st, 2nd, 3rd failed try, then daily: a mail server that is down for a minute costs a quarter of an
# hour, one down for a weekend is not hammered, and a message never waits more than a day once it is back.
BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
BACKOFF_AFTER = timedelta(days=1)


def backoff(tries: int) -> timedelta:
    """How long to wait after the `tries`-th failed try to hand a message over."""
    return BACKOFF[tries - 1] if 1 <= tries <= len(BACKOFF) else BACKOFF_AFTER


def back_to_queue(message: OutboxMessage, error: str, now: datetime | None = None) -> None:
    """A temporary fault: queued again; with `now`, not to be handed over before the back-off has passed."""
    if message.status is OutboxStatus.sending:
        message.status = OutboxStatus.queued
        message.last_error = error
        message.next_try_at = now + backoff(message.tries) if now is not None else None


def refuse_in_place(
    session: Session, message: OutboxMessage, invoice: Invoice, now: datetime, reason: str, smtp_code: int | None = None
) -> None:
    """This very message cannot go out (no address, or the mail server refused it for good, `smtp_code` saying
    how): this row, and no other attempt, is refused, and the dossier says why."""
    if message.status in (OutboxStatus.sent, OutboxStatus.refused):
        return
    message.status = OutboxStatus.refused
    message.last_error = reason
    message.sent_at = now
    message.next_try_at = None
    message.smtp_code = smtp_code
    dossier.record(
        session,
        invoice,
        key=f"{message.key}:refused",
        kind="note",
        at=now,
        channel=message.channel.value,
        summary=f"{message.step} not sent by {message.channel.value}: {reason}",
    )


def mark_sent(
    session: Session, message: OutboxMessage, invoice: Invoice, now: datetime, *, confirmed: bool,
    why: str = "the process stopped while sending",
) -> None:
    """Sent, with its evidence; unconfirmed (`why` not knowing), it is in doubt until a person decides."""
    message.status = OutboxStatus.sent
    message.sent_at = now
    message.next_try_at = None
    message.in_doubt = not confirmed
    if not confirmed:
        message.last_error = why
    kind = message.step.sends.value
    data = message.data or {}
    summary = f"{kind} sent by {message.channel.value} to {message.recipient}: {message.subject!r}"
    if data.get("sent_with"):
        summary += f" (one message with invoice {data['sent_with'].rsplit(':', 3)[0]})"
    if not confirmed:
        summary += f" (delivery unconfirmed: {why}; check the mail server's log)"
    dossier.record(
        session,
        invoice,
        key=message.key,
        kind=kind,
        at=now,
        channel=message.channel.value,
        summary=summary,
        message_id=message.message_id,
        content_hash=message.sha256,
        data={**data, "confirmed": confirmed, "tries": message.tries},
    )


# -- in doubt: a person decides ------------------------------------------------------------------------------


def in_doubt(session: Session) -> list[OutboxMessage]:
    """The messages whose delivery is in doubt, one row per message (the lead's of a combined one), oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.in_doubt.is_(True)).order_by(OutboxMessage.id)
    rows = list(session.scalars(query))
    keys = {m.key for m in rows}
    return [m for m in rows if (m.data or {}).get("sent_with") not in keys]


def message_rows(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
    """Every invoice's row of the one message `message` belongs to, the lead's first."""
    lead = lead_of(session, message) or message
    return [lead, *sent_with(session, lead)]


def confirm(session: Session, message: OutboxMessage, now: datetime, by: str) -> list[OutboxMessage]:
    """A person checked (the mail server's log, the debtor) that the message in doubt arrived: no longer in doubt,
    each dossier says so beside the unconfirmed evidence. Returns the rows confirmed."""
    rows = [m for m in message_rows(session, message) if m.in_doubt]
    for m in rows:
        m.in_doubt = False
        _note(session, m, f"{m.key}:confirmed", now, by, f"{m.step}: delivery of {m.key} confirmed by a person")
    return rows


def resend(session: Session, message: OutboxMessage, now: datetime, by: str) -> list[OutboxMessage]:
    """A person decided the message in doubt did not arrive: the same bytes (the same Message-ID, so a mailbox
    that did get the first copy can tell) as a new attempt of every invoice's row, claimed for handing over at
    once. The rows in doubt are no longer; their dossiers say it went again. Returns the new rows, lead first."""
    old = [m for m in message_rows(session, message) if m.in_doubt]
    new = [
        OutboxMessage(
            key=key_for(session.get_one(Invoice, m.invoice_id), m.step, m.channel, _last_attempt(session, m) + 1),
            invoice_id=m.invoice_id, step=m.step, channel=m.channel, attempt=_last_attempt(session, m) + 1,
            status=OutboxStatus.sending, recipient=m.recipient, subject=m.subject, content=m.content,
            message_id=m.message_id, sha256=m.sha256, data={**(m.data or {}), "resend_of": m.key}, tries=1,
            created_at=now, sent_at=now,
        )
        for m in old
    ]
    for row in new[1:]:  # the other invoices' rows point at the new lead
        row.data = {**(row.data or {}), "sent_with": new[0].key}
    for m, row in zip(old, new, strict=True):
        m.in_doubt = False
        m.last_error = f"in doubt; sent again as {row.key}"
        _note(session, m, f"{row.key}:resend", now, by,
              f"{m.step}: {m.key} was in doubt; a person had it sent again as {row.key}")
    session.add_all(new)
    session.flush()
    return new


def resend_failed(session: Session, rows: list[OutboxMessage], error: str) -> None:
    """Sending it again met a temporary fault: the new attempt is voided and the message is in doubt as before
    (nothing queued behind the ladder's back; the person tries again later)."""
    for row in rows:
        row.status = OutboxStatus.voided
        row.last_error = error
        old = find(session, (row.data or {}).get("resend_of", ""))
        if old is not None:
            old.in_doubt = True
            old.last_error = f"in doubt; sending it again failed: {error}"


def _note(session: Session, m: OutboxMessage, key: str, now: datetime, by: str, summary: str) -> None:
    dossier.record(session, session.get_one(Invoice, m.invoice_id), key=key, kind="note", at=now,
                   channel=m.channel.value, summary=summary, by=by or None)


def _last_attempt(session: Session, message: OutboxMessage) -> int:
    query = select(OutboxMessage.attempt).where(
        OutboxMessage.invoice_id == message.invoice_id, OutboxMessage.step == message.step,
        OutboxMessage.channel == message.channel,
    ).order_by(OutboxMessage.attempt.desc())
    return session.scalars(query).first() or message.attempt
