"""Waking a paused run: the domain's rule (`dunning.domain.wakeups`) applied to the stored task it waits on.
A question that went away is cancelled here; what the run is handed comes back as the form's input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dunning.casework import answers, human_tasks, invoices
from dunning.domain.ladder import collection_starts
from dunning.domain.policy import Policy
from dunning.domain.wakeups import Hand, PauseKey, answer_on_waking
from dunning.storage.models import HumanTask, Invoice


@dataclass(frozen=True)
class Waking:
    resume: bool
    run_input: dict | None = None


def on_waking(session: Session, invoice: Invoice, pause_key: str, now: datetime, policy: Policy) -> Waking:
    """The run of `invoice`, paused under `pause_key`, is to be woken now (its wake-up came, or its facts
    changed): clear the wake-up and say whether to resume it, and with what."""
    invoice.wake_at = None
    key = PauseKey.parse(pause_key)
    if key is None:
        return Waking(False)
    if key.kind is None:
        return Waking(True)  # waiting for a moment, or standing still: it looks at the facts again
    task = session.get(HumanTask, key.task_id)
    if task is None:
        return Waking(False)
    outcome = task.outcome or {}
    answer = answer_on_waking(
        task.step,
        task.status,
        outcome.get("cancelled"),
        invoices.open_amount(session, invoice),
        now,
        collection_starts(invoice.due_date, policy),
    )
    match answer.hand:
        case Hand.not_yet:
            invoice.wake_at = answer.until
            return Waking(False)
        case Hand.moot:
            human_tasks.cancel_open(session, invoice, now, answer.why)
            return Waking(True, answers.moot_form_input(task, answer.why))
        case Hand.set_aside:
            return Waking(True, answers.moot_form_input(task, answer.why))
        case Hand.recorded:
            return Waking(True, answers.form_input(task))
    return Waking(False)
