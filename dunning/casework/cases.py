"""A case as a whole: its end (paid, stopped, handed off), a refused hand-off, the policy's credit hold, and
what is noted when a call is offered. Each is recorded once, however often a run replays the step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from dunning.casework import dossier, holds, human_tasks, plans
from dunning.casework.unsent import void_unsent
from dunning.domain.kinds import PlanStatus
from dunning.domain.steps import Step
from dunning.storage.models import Invoice


def close(session: Session, invoice: Invoice, reason: str, now: datetime) -> None:
    """Nothing more happens on the case: open questions and queued e-mails go, a running plan ends (kept when
    the invoice is paid)."""
    why = f"case closed: {reason}"
    human_tasks.cancel_open(session, invoice, now, why)
    void_unsent(session, invoice, why)
    if (plan := plans.active_plan(session, invoice)) is not None:
        kept = reason == "paid"
        plans.end(session, plan, PlanStatus.kept if kept else PlanStatus.ended,
                  "every instalment paid" if kept else why, now)
    invoice.closed_reason = reason
    invoice.wake_at = None
    reopened = _times_reopened(session, invoice)
    key = f"{invoice.number}:closed" + (f":{reopened}" if reopened else "")
    dossier.record(session, invoice, key=key, kind="note", at=now, summary=why)


def reopen(session: Session, invoice: Invoice, why: str, now: datetime) -> None:
    """A closed case is open again (the payment that closed it was taken back): its run goes on at the next
    sweep, from where the evidence stands."""
    invoice.closed_reason = None
    invoice.wake_at = now
    times = _times_reopened(session, invoice) + 1
    dossier.record(session, invoice, key=f"{invoice.number}:reopened:{times}", kind="note", at=now,
                   summary=f"case reopened: {why}")


def _times_reopened(session: Session, invoice: Invoice) -> int:
    return sum(1 for e in dossier.entries(session, invoice) if e.key.startswith(f"{invoice.number}:reopened:"))


def refuse_incasso(session: Session, invoice: Invoice, missing: tuple[str, ...], now: datetime) -> str:
    """The incasso gate found the ladder incomplete: nothing is handed off, the dossier says what is missing."""
    text = "incasso refused, missing: " + ", ".join(missing)
    invoice.wake_at = None
    dossier.record(session, invoice, key=f"{invoice.number}:incasso-refused", kind="note", at=now, summary=text)
    return text


def hold_by_policy(session: Session, invoice: Invoice, reason: str, now: datetime) -> bool:
    """The policy's credit hold: once per invoice (a hold lifted by hand afterwards stays lifted)."""
    key = f"{invoice.number}:hold"
    if dossier.exists(session, holds.note_key(key, invoice)):
        return False
    if holds.put_on_hold(session, invoice.debtor, reason, now, key=key):
        return True
    summary = "credit hold by policy: the debtor was already on hold"
    dossier.record(session, invoice, key=holds.note_key(key, invoice), kind="note", at=now, summary=summary)
    return False


def note_broken_promise(session: Session, invoice: Invoice, call: Step, promised_on: date, now: datetime) -> None:
    summary = f"promise to pay by {promised_on.isoformat()} broken: the invoice is still open; call again"
    key = f"{invoice.number}:{call}:promise-broken"
    dossier.record(session, invoice, key=key, kind="note", at=now, summary=summary)
