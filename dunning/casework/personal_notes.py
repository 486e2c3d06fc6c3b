"""A collector's own paragraph for the next message of one invoice ("we spoke on Monday; as agreed...")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dunning.domain.errors import UserError
from dunning.storage.models import Invoice, PersonalNote

MAX_LENGTH = 2000


def add(session: Session, invoice: Invoice, text: str, by: str | None, now: datetime) -> PersonalNote:
    text = text.strip()
    if not text:
        raise UserError("the note is empty")
    if len(text) > MAX_LENGTH:
        raise UserError(f"the note is longer than {MAX_LENGTH} characters")
    note = PersonalNote(invoice_id=invoice.id, text=text, by=by or None, created_at=now)
    session.add(note)
    session.flush()
    return note


def take(session: Session, invoice: Invoice, step: str) -> str | None:
    """The notes waiting for the next message, now given to `step` (all its channels carry them)."""
    query = select(PersonalNote).where(
        PersonalNote.invoice_id == invoice.id, or_(PersonalNote.used_for.is_(None), PersonalNote.used_for == step)
    )
    notes = list(session.scalars(query.order_by(PersonalNote.id)))
    for note in notes:
        note.used_for = step
    return "\n\n".join(n.text for n in notes) or None


def waiting(session: Session, invoice: Invoice) -> list[PersonalNote]:
    query = select(PersonalNote).where(PersonalNote.invoice_id == invoice.id, PersonalNote.used_for.is_(None))
    return list(session.scalars(query.order_by(PersonalNote.id)))
