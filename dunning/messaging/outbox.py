"""Every message passes through the outbox. Its unique key (invoice + step + channel + attempt) makes sending
at most once, and the evidence is recorded in the same transaction that marks the message sent.

States: queued -> sending -> sent, or -> refused (a business refusal, never retried), or -> voided (its facts
changed before it went out; a new attempt is composed). A message found in `sending` after a crash may or may
not have been accepted by the mail server; it is never sent again (at most once) and its evidence is recorded
with `confirmed: false` so a person can check. These are the rows; `sending` decides what to do with them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
) -> OutboxMessage:
    """The outbox row for this message, composed once: a replay finds it and reuses the same bytes."""
    key = key_for(invoice, step, channel, attempt)
    message = find(session, key)
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
) -> None:
    """The same message, on record for the other invoices it covers (each under its own step): each gets its
    own row and, once it is sent, its own evidence; only the first invoice's run sends it."""
    for other, step in others:
        attempt = next_attempt(session, other, step, message.channel)
        session.add(
            OutboxMessage(
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
        )
    session.flush()


def next_attempt(session: Session, invoice: Invoice, step: Step, channel: Channel) -> int:
    """The attempt to use now: the latest one, or a new one when the latest was voided."""
    latest = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.invoice_id == invoice.id, OutboxMessage.step == step, OutboxMessage.channel == channel)
        .order_by(OutboxMessage.attempt.desc())
    ).first()
    if latest is None:
        return 1
    return latest.attempt + 1 if latest.status is OutboxStatus.voided else latest.attempt


def refuse(
    session: Session, invoice: Invoice, step: Step, channel: Channel, now: datetime, reason: str, attempt: int = 1
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
        )
        session.add(message)
        session.flush()
    refuse_in_place(session, message, invoice, now, reason)


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
        session.refresh(m)
    return done.rowcount == len(ids)


def back_to_queue(message: OutboxMessage, error: str) -> None:
    if message.status is OutboxStatus.sending:
        message.status = OutboxStatus.queued
        message.last_error = error


def refuse_in_place(session: Session, message: OutboxMessage, invoice: Invoice, now: datetime, reason: str) -> None:
    """This very message cannot go out (no address, or the mail server refused it for good): this row, and no
    other attempt, is refused, and the dossier says why."""
    if message.status in (OutboxStatus.sent, OutboxStatus.refused):
        return
    message.status = OutboxStatus.refused
    message.last_error = reason
    message.sent_at = now
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
    session: Session, message: OutboxMessage, invoice: Invoice, now: datetime, *, confirmed: bool
) -> None:
    message.status = OutboxStatus.sent
    message.sent_at = now
    kind = message.step.sends.value
    data = message.data or {}
    summary = f"{kind} sent by {message.channel.value} to {message.recipient}: {message.subject!r}"
    if data.get("sent_with"):
        summary += f" (one message with invoice {data['sent_with'].rsplit(':', 3)[0]})"
    if not confirmed:
        summary += " (delivery unconfirmed: the process stopped while sending; check the mail server's log)"
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
