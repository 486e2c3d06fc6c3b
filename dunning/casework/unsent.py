"""Messages queued but not yet sent, as the case sees them: when the facts change (paid, disputed, a plan) a
queued e-mail is voided, with every other invoice's row of the same combined message. The outbox
(`dunning.messaging.outbox`) builds on these rows; standing still needs them without sending anything."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.domain.kinds import Channel, OutboxStatus
from dunning.storage.models import Invoice, OutboxMessage


def sent_with(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
    """The rows of the other invoices this message covers (an e-mail's share its Message-ID, a letter's its
    bytes)."""
    same = (OutboxMessage.message_id == message.message_id if message.message_id is not None
            else OutboxMessage.sha256 == message.sha256)
    query = select(OutboxMessage).where(same, OutboxMessage.id != message.id)
    return [m for m in session.scalars(query) if (m.data or {}).get("sent_with") == message.key]


def lead_of(session: Session, message: OutboxMessage) -> OutboxMessage | None:
    """For a row that another invoice's message covers: that message's own row."""
    key = (message.data or {}).get("sent_with")
    if not key:
        return None
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()


def void_unsent(session: Session, invoice: Invoice, why: str) -> None:
    """The facts changed (paid, disputed, a plan) before an e-mail waiting for the mail server went out: it is
    voided, with every other invoice's row of the same combined message, whose content no longer holds. Those
    invoices compose afresh; a message being handed to the server right now is left alone (in doubt)."""
    query = select(OutboxMessage).where(
        OutboxMessage.invoice_id == invoice.id,
        OutboxMessage.channel == Channel.email,
        OutboxMessage.status == OutboxStatus.queued,
    )
    for message in list(session.scalars(query)):
        lead = lead_of(session, message) or message
        for m in [lead, *sent_with(session, lead)]:
            if m.status is OutboxStatus.queued:
                m.status = OutboxStatus.voided
                m.last_error = why
    session.flush()
