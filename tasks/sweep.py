"""The sweep: start runs for newly due invoices, wake runs whose time has come, restart crashed runs.

Used by the scheduled `sweep` deployment and by `dunning sweep` alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run
from prefect.states import Scheduled
from sqlalchemy import select

from dunning.casework import human_tasks, invoices, policies
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.ladder import usually_late, working_moment
from dunning.domain.steps import StepKind
from dunning.law import missing_rate_warning
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import HumanTask, Invoice

SETTLED = {StateType.PAUSED, StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@dataclass
class SweepReport:
    started: dict[str, str] = field(default_factory=dict)  # invoice number -> flow run id
    woken: dict[str, str] = field(default_factory=dict)
    restarted: dict[str, str] = field(default_factory=dict)

    @property
    def touched(self) -> dict[str, str]:
        return {**self.started, **self.woken, **self.restarted}


def rate_warnings(inst: Installation) -> list[str]:
    """Statutory interest tables that lack a row for the current half-year (dunning/law/data/README.md)."""
    with db.transaction(inst) as s:
        today = clock.local(clock.now(s)).date()
    found = (missing_rate_warning(kind, today, inst.law_dir) for kind in ("commercial", "non-commercial"))
    return [w for w in found if w]


def deployment_name(inst: Installation) -> str:
    return f"collect-invoice/{inst.instance}"


async def sweep_once(inst: Installation) -> SweepReport:
    report = SweepReport()
    with db.transaction(inst) as s:
        now = clock.now(s)
        today = clock.local(now).date()
        newly_due = [
            (i.number, i.debtor.number)
            for i in s.scalars(
                select(Invoice).where(
                    Invoice.flow_run_id.is_(None), Invoice.closed_reason.is_(None), Invoice.due_date < today
                )
            )
            if invoices.open_amount(s, i) > 0
        ]
        newly_due += [(i.number, i.debtor.number) for i in _courtesy_calls_due(s, inst, today)]
        due_wakes = [
            (i.number, i.flow_run_id)
            for i in s.scalars(select(Invoice).where(Invoice.flow_run_id.is_not(None), Invoice.wake_at <= now))
        ]
    async with get_client() as client:
        for number, debtor_number in newly_due:
            run = await run_deployment(
                deployment_name(inst),
                parameters={"invoice_number": number},
                timeout=0,
                flow_run_name=number,
                tags=[f"debtor:{debtor_number}"],
                idempotency_key=f"{inst.instance}:collect-invoice:{number}",
                client=client,
                # Each invoice run stands on its own: a subflow of the sweep could never be suspended.
                as_subflow=False,
            )
            with db.transaction(inst) as s:
                invoices.get(s, number).flow_run_id = str(run.id)
            report.started[number] = str(run.id)
        for number, run_id in due_wakes:
            if await wake(client, inst, number, run_id):
                report.woken[number] = str(run_id)
        for run in await _crashed_runs(client, inst):
            await client.set_flow_run_state(run.id, Scheduled(name="Restarting"), force=True)
            report.restarted[run.name] = str(run.id)
    return report


def _courtesy_calls_due(s, inst: Installation, today: date) -> list[Invoice]:  # type: ignore[no-untyped-def]
    """Not yet due, but the debtor pays late as a rule and the courtesy call's day has come."""
    soon = select(Invoice).where(
        Invoice.flow_run_id.is_(None),
        Invoice.closed_reason.is_(None),
        Invoice.due_date >= today,
        Invoice.due_date <= today + timedelta(days=31),
    )
    found = []
    for invoice in s.scalars(soon):
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        if invoice.due_date - timedelta(days=policy.courtesy_call_days) > today:
            continue
        history = invoices.lateness_history(s, invoice.debtor, but=invoice)
        if usually_late(history, policy) and invoices.open_amount(s, invoice) > 0:
            found.append(invoice)
    return found


async def wake(client: PrefectClient, inst: Installation, number: str, run_id: UUID | str) -> bool:
    """Resume a paused run whose facts changed or whose time has come; False when it is not ours to wake."""
    run_id = UUID(str(run_id))
    run = await client.read_flow_run(run_id)
    if run.state is None or not run.state.is_paused():
        return False
    pause_key = run.state.state_details.pause_key or ""
    run_input = None
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        invoice.wake_at = None
        if not pause_key.startswith("wait-"):
            task = _task_of_pause(s, pause_key)
            if task is None:
                return False
            courtesy = task.status is TaskStatus.open and task.step.kind is StepKind.courtesy_call
            if courtesy and invoices.open_amount(s, invoice) > 0:
                policy = policies.policy_for(inst.home, invoice.debtor.number)
                overdue = working_moment(invoice.due_date + timedelta(days=policy.grace_days), policy)
                if clock.now(s) < overdue:
                    invoice.wake_at = overdue  # woken early (a part payment): the courtesy call still stands
                    return False
                # Nobody made the courtesy call before the invoice fell due: the collection call takes over.
                human_tasks.cancel_open(s, invoice, clock.now(s), "the due date passed")
                run_input = _moot_answer(task, "the due date passed")
            elif task.status is TaskStatus.open and invoices.open_amount(s, invoice) <= 0:
                # Paid while a person's answer was awaited: the question is moot; the run sees the payment.
                human_tasks.cancel_open(s, invoice, clock.now(s), "invoice paid")
                run_input = _moot_answer(task, "invoice paid")
            elif task.status is TaskStatus.cancelled:
                # Set aside (a dispute, a payment plan): the run goes on without an answer and sees why.
                run_input = _moot_answer(task, (task.outcome or {}).get("cancelled", "cancelled"))
            elif task.status is TaskStatus.done:
                # Answered in the database (CLI) but the run was not resumed: hand it the recorded answer.
                run_input = form_input(task)
            else:
                return False  # a person's answer is awaited; only they resume it
    try:
        await resume_flow_run(run_id, run_input=run_input)
    except Exception:  # another sweep or a person resumed it first: nothing lost, it runs
        with db.transaction(inst) as s:
            invoice = invoices.get(s, number)
            if invoice.wake_at is None:
                invoice.wake_at = clock.now(s)  # should it still be paused, the next sweep tries again
        return False
    return True


def _task_of_pause(s, pause_key: str) -> HumanTask | None:  # type: ignore[no-untyped-def]
    prefix, _, task_id = pause_key.partition("-")
    if prefix == "dispute":
        task_id = task_id.partition("-")[0]  # "dispute-12-0": task 12, first answer
    if prefix not in ("call", "approval", "dispute") or not task_id.isdigit():
        return None
    return s.get(HumanTask, int(task_id))


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


def _moot_answer(task: HumanTask, why: str) -> dict:
    """What the form hands the run when nobody answered; the task is cancelled, so nothing of it is recorded."""
    if task.kind is TaskKind.call:
        return {"reached": False, "note": f"cancelled: {why}"}
    if task.kind is TaskKind.dispute:
        return {"verdict": "rejected", "reason": f"cancelled: {why}", "resolved_by": "dunning"}
    return {"decision": "reject", "approver": "dunning", "reason": f"cancelled: {why}"}


async def _crashed_runs(client: PrefectClient, inst: Installation) -> list:
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED]))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
    )


async def wait_until_settled(run_ids: list[str], timeout: float = 180.0) -> dict[str, str]:
    """Wait until each run has reached its next pause or its end; returns run id -> state name."""
    deadline = asyncio.get_running_loop().time() + timeout
    states: dict[str, str] = {}
    async with get_client() as client:
        pending = set(run_ids)
        while pending:
            for run_id in list(pending):
                run = await client.read_flow_run(UUID(run_id))
                if run.state and run.state.type in SETTLED:
                    states[run_id] = run.state.name
                    pending.discard(run_id)
            if pending:
                if asyncio.get_running_loop().time() > deadline:
                    for run_id in pending:
                        states[run_id] = "still running (timed out waiting)"
                    break
                await asyncio.sleep(0.5)
    return states


def open_task_status(inst: Installation, number: str) -> tuple[HumanTask | None, datetime | None, str | None]:
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        task = s.scalars(
            select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.status == TaskStatus.open)
        ).first()
        return task, invoice.wake_at, invoice.closed_reason


