"""Calls and approvals that a person must complete. Completing is idempotent: the UI form and the CLI may
both report the same outcome (the CLI records first, then resumes the run with the same input)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dunning.casework import dossier
from dunning.domain.errors import UserError
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.steps import Step, StepKind
from dunning.storage.models import Debtor, HumanTask, Invoice


@dataclass(frozen=True)
class CallOutcome:
    reached: bool
    spoke_with: str = ""  # name and role
    promised_on: date | None = None
    note: str = ""
    by: str = ""
    promised_amount: Decimal | None = None  # None: the whole open amount
    excuse: str = ""  # from the team's list (dunning.desk.excuses) or the collector's words
    summarised: bool = False  # the agreement was read back to the debtor before hanging up
    dispute: str = ""  # what the debtor contests; not empty: a dispute is registered
    plan_requested: bool = False
    send_copy: bool = False  # a copy of the invoice goes out

    def summary(self) -> str:
        if not self.reached:
            text = "not reached"
        else:
            text = f"reached {self.spoke_with}".rstrip()
            if self.promised_on:
                amount = f" {self.promised_amount:.2f}" if self.promised_amount is not None else ""
                text += f"; promised to pay{amount} on {self.promised_on.isoformat()}"
            if self.excuse:
                text += f"; excuse: {self.excuse}"
            if self.dispute:
                text += f"; disputes the invoice: {self.dispute}"
            if self.plan_requested:
                text += "; asks for a payment plan"
            if self.send_copy:
                text += "; a copy of the invoice is sent"
            if self.promised_on and self.summarised:
                text += "; agreement summarised to the debtor"
        return f"{text}. {self.note}".strip() if self.note else text

    def as_data(self) -> dict[str, Any]:
        """JSON-safe, as kept on the task and in the dossier."""
        return {
            **asdict(self),
            "promised_on": self.promised_on and self.promised_on.isoformat(),
            "promised_amount": None if self.promised_amount is None else str(self.promised_amount),
        }


@dataclass(frozen=True)
class ApprovalAnswer:
    approved: bool
    by: str
    reason: str = ""


def open_task(session: Session, invoice: Invoice, kind: TaskKind, step: Step, now: datetime) -> HumanTask:
    task = find(session, invoice, step)
    if task is None:
        task = HumanTask(invoice_id=invoice.id, kind=kind, step=step, status=TaskStatus.open, created_at=now)
        session.add(task)
        session.flush()
    return task


def open_call(session: Session, invoice: Invoice, step: Step, now: datetime) -> HumanTask:
    """The call task for `step`. One call per debtor: a new call joins another invoice's call of the same
    debtor that is still to be made, whose outcome then answers both; if that call goes away unanswered (its
    invoice paid, disputed), this one takes its place."""
    # A courtesy call ("anything unclear?") and a collection call are different conversations.
    joins = step.kind is not StepKind.courtesy_call
    return _open_joining(session, invoice, TaskKind.call, step, now,
                         lambda: _call_to_join(session, invoice) if joins else None,
                         "one call with invoice {lead} ({lead_step}) about all open invoices")


def open_approval(session: Session, invoice: Invoice, step: Step, now: datetime, *, joins: bool) -> HumanTask:
    """The approval task for `step`. One formal letter per debtor (`joins`, see `messaging.combining`): a new
    approval joins another invoice's approval of the same gate for this debtor that is still to be given, whose
    answer then answers both; the letter it approves names both invoices."""
    return _open_joining(session, invoice, TaskKind.approval, step, now,
                         lambda: _approval_to_join(session, invoice, step.gate) if joins else None,
                         "asked once with invoice {lead} ({lead_step}): one letter for both")


def _open_joining(
    session: Session,
    invoice: Invoice,
    kind: TaskKind,
    step: Step,
    now: datetime,
    lead_to_join: Callable[[], HumanTask | None],
    why: str,
) -> HumanTask:
    """The task for `step`, joined (when new) to the debtor's task `lead_to_join` finds, with a dossier note
    saying so; one that lost its lead (answered without it, cancelled) stands on its own again."""
    # One debtor's tasks are opened one at a time (two invoices due the same day start together): a row lock
    # on PostgreSQL, the write lock on SQLite.
    session.execute(update(Debtor).where(Debtor.id == invoice.debtor_id).values(number=Debtor.number))
    task = find(session, invoice, step)
    if task is None:
        task = open_task(session, invoice, kind, step, now)
        lead = lead_to_join()
        if lead is not None:
            task.joined_to_id = lead.id
            dossier.record(
                session,
                invoice,
                key=f"{invoice.number}:{step}:joined",
                kind="note",
                at=now,
                summary=f"{step}: " + why.format(lead=lead.invoice.number, lead_step=lead.step),
            )
    elif task.status is TaskStatus.open and task.joined_to_id is not None and lead_of(session, task) is None:
        task.joined_to_id = None
    return task


def _approval_to_join(session: Session, invoice: Invoice, gate: str) -> HumanTask | None:
    return next((t for t in _open_of_debtor(session, invoice, TaskKind.approval) if t.step.gate == gate), None)


def joined_with(session: Session, lead: HumanTask) -> list[HumanTask]:
    """Every task ever joined to `lead`, answered or not (the invoices its answer answered)."""
    query = select(HumanTask).where(HumanTask.joined_to_id == lead.id)
    return list(session.scalars(query.order_by(HumanTask.id)))


def lock(session: Session, task: HumanTask) -> None:
    """PostgreSQL: wait for a call that is joining this one right now, so its join is seen (and it sees ours)."""
    session.execute(select(HumanTask.id).where(HumanTask.id == task.id).with_for_update())
    session.refresh(task)


def lead_of(session: Session, task: HumanTask) -> HumanTask | None:
    """The still open call (or approval) whose answer answers `task`, if it is joined to one."""
    if task.joined_to_id is None:
        return None
    lead = session.get_one(HumanTask, task.joined_to_id)
    return lead if lead.status is TaskStatus.open else None


def joined_to(session: Session, lead: HumanTask) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.joined_to_id == lead.id, HumanTask.status == TaskStatus.open)
    return list(session.scalars(query.order_by(HumanTask.id)))


def _call_to_join(session: Session, invoice: Invoice) -> HumanTask | None:
    return next((t for t in _open_of_debtor(session, invoice, TaskKind.call) if t.step != Step.courtesy_call()), None)


def _open_of_debtor(session: Session, invoice: Invoice, kind: TaskKind) -> list[HumanTask]:
    """The debtor's other open tasks of this kind that stand on their own (another may join them), oldest first."""
    query = (
        select(HumanTask)
        .join(Invoice, HumanTask.invoice_id == Invoice.id)
        .where(
            Invoice.debtor_id == invoice.debtor_id,
            Invoice.id != invoice.id,
            HumanTask.kind == kind,
            HumanTask.status == TaskStatus.open,
            HumanTask.joined_to_id.is_(None),
        )
        .order_by(HumanTask.id)
        .with_for_update(of=HumanTask)  # PostgreSQL: a task being answered right now is not joined half-way
    )
    return list(session.scalars(query))


def release_joined(session: Session, lead: HumanTask, now: datetime) -> None:
    """The call went away unanswered: the calls joined to it wake and stand on their own again."""
    for task in joined_to(session, lead):
        task.joined_to_id = None
        task.invoice.wake_at = now


def find(session: Session, invoice: Invoice, step: Step) -> HumanTask | None:
    query = select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.step == step)
    return session.scalars(query).one_or_none()


def open_task_of(session: Session, invoice: Invoice, kind: TaskKind) -> HumanTask:
    query = select(HumanTask).where(
        HumanTask.invoice_id == invoice.id, HumanTask.kind == kind, HumanTask.status == TaskStatus.open
    )
    task = session.scalars(query.order_by(HumanTask.id.desc())).first()
    if task is None:
        raise UserError(f"invoice {invoice.number} has no open {kind.value} task")
    return lead_of(session, task) or task


def cancel_open(session: Session, invoice: Invoice, now: datetime, why: str) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.status == TaskStatus.open)
    cancelled = list(session.scalars(query))
    for task in cancelled:
        cancel(session, task, now, why)
    return cancelled


def cancel(session: Session, task: HumanTask, now: datetime, why: str) -> None:
    lock(session, task)
    task.status = TaskStatus.cancelled
    task.completed_at = now
    task.outcome = {"cancelled": why}
    release_joined(session, task, now)


def all_open(session: Session) -> list[HumanTask]:
    """What people have to do: a call joined to another invoice's call is part of that one."""
    query = (
        select(HumanTask)
        .where(HumanTask.status == TaskStatus.open, HumanTask.joined_to_id.is_(None))
        .order_by(HumanTask.created_at, HumanTask.id)
    )
    return list(session.scalars(query))


def open_dispute(session: Session, invoice: Invoice) -> HumanTask | None:
    query = select(HumanTask).where(
        HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute, HumanTask.status == TaskStatus.open
    )
    return session.scalars(query).first()
