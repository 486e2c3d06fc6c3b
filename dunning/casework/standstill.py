"""Escalation stands still (a dispute, a payment plan): what the run waited on is set aside, nothing queued
goes out, and the run is woken to see the new facts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework.human_tasks import cancel
from dunning.casework.unsent import void_unsent
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.storage.models import HumanTask, Invoice


def stand_still(session: Session, invoice: Invoice, now: datetime, why: str) -> None:
    """Escalation stops at once: a call or approval the run waits on is set aside (asked again when escalation
    takes up), and the run is woken so it sees the new facts."""
    waiting = select(HumanTask).where(
        HumanTask.invoice_id == invoice.id,
        HumanTask.status == TaskStatus.open,
        HumanTask.kind.in_((TaskKind.call, TaskKind.approval)),
    )
    for task in list(session.scalars(waiting)):
        cancel(session, task, now, why)
    void_unsent(session, invoice, why)
    invoice.wake_at = now
