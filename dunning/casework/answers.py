"""A person's answer to a call or an approval, recorded once: the UI form and the CLI may both deliver it
(a replay, a retry), and only the first counts. A dispute heard on the phone is registered with the call."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime

from sqlalchemy.orm import Session

from dunning.casework import disputes, dossier, invoices
from dunning.casework.human_tasks import ApprovalAnswer, CallOutcome, joined_to, lock
from dunning.domain.errors import UserError
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.storage.models import HumanTask


def complete_call(
    session: Session, task: HumanTask, outcome: CallOutcome, now: datetime, *, dispute_days: int = 10
) -> bool:
    """Records the outcome once; False when the task was already completed or cancelled. A dispute heard on the
    phone is registered with it (due in `dispute_days`)."""
    lock(session, task)
    if task.status is not TaskStatus.open:
        return False
    open_now = invoices.open_amount(session, task.invoice)
    if outcome.promised_amount is not None and outcome.promised_amount >= open_now:
        outcome = replace(outcome, promised_amount=None)  # all that is open: the whole amount
    task.status = TaskStatus.done
    task.completed_at = now
    task.completed_by = outcome.by or None
    task.outcome = {**outcome.as_data(), "open_at_call": str(open_now)}
    dossier.record(
        session,
        task.invoice,
        key=f"{task.invoice.number}:{task.step}:outcome",
        kind="call",
        at=now,
        channel="phone",
        by=outcome.by or None,
        summary=outcome.summary(),
        data=task.outcome,
    )
    if outcome.dispute:
        _dispute_heard(session, task, outcome, now, dispute_days)
    # The same call answered the debtor's other invoices joined to it (a dispute or an amount was about this one).
    for other in joined_to(session, task):
        shared = replace(outcome, dispute="", promised_amount=None, note=f"{outcome.note} (one call with invoice "
                         f"{task.invoice.number})".strip())
        other.joined_to_id = None
        complete_call(session, other, shared, now, dispute_days=dispute_days)
        other.invoice.wake_at = now
    return True


def _dispute_heard(session: Session, task: HumanTask, outcome: CallOutcome, now: datetime, days: int) -> None:
    """Registered as a dispute when it can be; otherwise noted, so the person who reads the dossier acts on it."""
    try:
        disputes.raise_dispute(session, task.invoice, outcome.dispute, now, by=outcome.by, days=days)
    except UserError as why:
        dossier.record(
            session,
            task.invoice,
            key=f"{task.invoice.number}:{task.step}:dispute-not-registered",
            kind="note",
            at=now,
            by=outcome.by or None,
            summary=f"dispute heard on the phone not registered ({why}): {outcome.dispute}",
        )


def complete_approval(session: Session, task: HumanTask, answer: ApprovalAnswer, now: datetime) -> bool:
    """Records the answer once; False when it was already given (or the task cancelled). The approvals joined to
    this one (one letter for the debtor's invoices) get the same answer, and their runs are woken."""
    lock(session, task)
    if task.status is not TaskStatus.open:
        return False
    for other in joined_to(session, task):
        shared = replace(answer, reason=f"{answer.reason} (asked once with invoice {task.invoice.number})".strip())
        _record_approval(session, other, shared, now)
        other.invoice.wake_at = now
    _record_approval(session, task, answer, now)
    return True


def _record_approval(session: Session, task: HumanTask, answer: ApprovalAnswer, now: datetime) -> None:
    task.status = TaskStatus.done
    task.completed_at = now
    task.completed_by = answer.by
    task.outcome = asdict(answer)
    verdict = "approved" if answer.approved else f"rejected: {answer.reason}"
    dossier.record(
        session,
        task.invoice,
        key=f"{task.invoice.number}:{task.step}:answer",
        kind="approval",
        at=now,
        by=answer.by,
        summary=f"{task.step.gate} {verdict}",
        data=task.outcome,
    )


def form_input(task: HumanTask) -> dict:
    """The resume form's input that matches an answer recorded in the database (the CLI's way in)."""
    o = task.outcome or {}
    if task.kind is TaskKind.call:
        answer = {
            "reached": bool(o.get("reached")),
            "spoke_with": o.get("spoke_with") or "",
            "promised_payment_date": o.get("promised_on"),
            "note": o.get("note") or "",
            "collector": o.get("by") or "",
        }
        # Fields added later go only when filled in: a run paused on an older form (whose stored schema forbids
        # unknown keys) is still resumed by an answer that does not use them.
        later = {
            "promised_amount": o.get("promised_amount") or "",
            "excuse": o.get("excuse") or "",
            "dispute": o.get("dispute") or "",
            "plan_requested": bool(o.get("plan_requested")),
            "summarised": bool(o.get("summarised")),
            "send_copy": bool(o.get("send_copy")),
        }
        return answer | {k: v for k, v in later.items() if v}
    if task.kind is TaskKind.dispute:
        return {
            "verdict": "upheld" if o.get("upheld") else "rejected",
            "reason": o.get("resolution") or ("" if o.get("upheld") else "resolved"),
            "resolved_by": o.get("resolved_by") or "unknown",
        }
    return {
        "decision": "approve" if o.get("approved") else "reject",
        "approver": o.get("by") or "unknown",
        "reason": o.get("reason") or "",
    }


def moot_form_input(task: HumanTask, why: str) -> dict:
    """What the form hands the run when nobody answered; the task is cancelled, so nothing of it is recorded."""
    if task.kind is TaskKind.call:
        return {"reached": False, "note": f"cancelled: {why}"}
    if task.kind is TaskKind.dispute:
        return {"verdict": "rejected", "reason": f"cancelled: {why}", "resolved_by": "dunning"}
    return {"decision": "reject", "approver": "dunning", "reason": f"cancelled: {why}"}
