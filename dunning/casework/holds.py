"""Credit hold: no new deliveries to a debtor until it is lifted. Shown on every call sheet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier, invoices
from dunning.domain.errors import UserError
from dunning.storage.models import Debtor, Invoice


def get_debtor(session: Session, number: str) -> Debtor:
    debtor = session.scalars(select(Debtor).where(Debtor.number == number)).one_or_none()
    if debtor is None:
        raise UserError(f"unknown debtor {number!r}")
    return debtor


def put_on_hold(session: Session, debtor: Debtor, reason: str, now: datetime, key: str) -> bool:
    """False when the debtor was already on hold. `key` makes the dossier note idempotent."""
    if debtor.hold_since is not None:
        return False
    debtor.hold_since, debtor.hold_reason = now, reason
    _note(session, debtor, f"credit hold: no new deliveries ({reason})", now, key)
    return True


def lift(session: Session, debtor: Debtor, now: datetime, by: str | None) -> bool:
    if debtor.hold_since is None:
        return False
    since = debtor.hold_since.isoformat()
    debtor.hold_since = debtor.hold_reason = None
    _note(session, debtor, f"credit hold lifted{f' by {by}' if by else ''}", now, f"{debtor.number}:hold:{since}:off")
    return True


def on_hold(session: Session) -> list[Debtor]:
    return list(session.scalars(select(Debtor).where(Debtor.hold_since.is_not(None)).order_by(Debtor.hold_since)))


def note_key(key: str, invoice: Invoice) -> str:
    return f"{key}:{invoice.number}"


def _note(session: Session, debtor: Debtor, summary: str, now: datetime, key: str) -> None:
    for invoice in invoices.open_of_debtor(session, debtor):
        dossier.record(session, invoice, key=note_key(key, invoice), kind="note", at=now, summary=summary)
