"""The sweep: start runs for newly due invoices, wake runs whose time has come, restart crashed runs.

Used by the scheduled `sweep` deployment and by `dunning sweep` alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run
from prefect.states import Completed, Scheduled

from dunning.casework import invoices, policies, wakeups
from dunning.law import rate_table_warnings
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import BankLine

SETTLED = {StateType.PAUSED, StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@dataclass
class SweepReport:
    started: dict[str, str] = field(default_factory=dict)  # invoice number -> flow run id
    woken: dict[str, str] = field(default_factory=dict)
    restarted: dict[str, str] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)  # "payment N" -> the run asking a person to match it

    @property
    def touched(self) -> dict[str, str]:
        return {**self.started, **self.woken, **self.restarted, **self.asked}


def rate_warnings(inst: Installation) -> list[str]:
    """Statutory interest tables that lack a row for the current half-year, and rows marked unverified that no
    person confirmed (dunning/law/data/README.md)."""
    with db.transaction(inst) as s:
        today = clock.local(clock.now(s)).date()
    return [w for kind in ("commercial", "non-commercial") for w in rate_table_warnings(kind, today, inst.law_dir)]


def deployment_name(inst: Installation) -> str:
    return f"collect-invoice/{inst.instance}"


async def sweep_once(inst: Installation) -> SweepReport:
    """What is due (`wakeups.due`, no Prefect), then done through the Prefect API."""
    report = SweepReport()
    with db.transaction(inst) as s:
        found = wakeups.due(s, inst.home, clock.now(s))
    async with get_client() as client:
        for number, debtor_number in found.start:
            run: FlowRun = await run_deployment(  # type: ignore[misc]  # sync_compatible, awaited
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
        for number, run_id in found.wake:
            if run_id and await wake(client, inst, number, run_id):
                report.woken[number] = str(run_id)
        for line_id in found.ask:
            run = await run_deployment(  # type: ignore[misc]  # sync_compatible, awaited
                f"match-payment/{inst.instance}",
                parameters={"line_id": line_id},
                timeout=0,
                flow_run_name=f"payment {line_id}",
                tags=["payment"],
                idempotency_key=f"{inst.instance}:match-payment:{line_id}",
                client=client,
                as_subflow=False,
            )
            with db.transaction(inst) as s:
                s.get_one(BankLine, line_id).flow_run_id = str(run.id)
            report.asked[f"payment {line_id}"] = str(run.id)
        for line_id, run_id in found.decided:
            await _close_if_decided_elsewhere(client, run_id)
            with db.transaction(inst) as s:
                s.get_one(BankLine, line_id).flow_run_id = None  # looked at once: the run is over
        for run in await _crashed_runs(client, inst):
            await client.set_flow_run_state(run.id, Scheduled(name="Restarting"), force=True)
            report.restarted[run.name] = str(run.id)
    return report


async def wake(client: PrefectClient, inst: Installation, number: str, run_id: UUID | str) -> bool:
    """Resume a paused run whose facts changed or whose time has come; False when it is not ours to wake."""
    run_id = UUID(str(run_id))
    run = await client.read_flow_run(run_id)
    if run.state is not None and run.state.is_completed():
        return await _rerun_if_reopened(client, inst, number, run_id)
    if run.state is None or not run.state.is_paused():
        return False
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        waking = wakeups.on_waking(s, invoice, run.state.state_details.pause_key or "", clock.now(s), policy)
    if not waking.resume:
        return False
    try:
        await resume_flow_run(run_id, run_input=waking.run_input)  # type: ignore[misc]  # sync_compatible
    except Exception:  # another sweep or a person resumed it first: nothing lost, it runs
        with db.transaction(inst) as s:
            invoice = invoices.get(s, number)
            if invoice.wake_at is None:
                invoice.wake_at = clock.now(s)  # should it still be paused, the next sweep tries again
        return False
    return True


async def _rerun_if_reopened(client: PrefectClient, inst: Installation, number: str, run_id: UUID) -> bool:
    """A case closed as paid and reopened (the bank took the payment back): the invoice's own run goes on, from
    the top, where the evidence stands, instead of a second run for one invoice."""
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        reopened = invoice.closed_reason is None and invoices.open_amount(s, invoice) > 0
    if reopened:
        await client.set_flow_run_state(run_id, Scheduled(name="Reopened"), force=True)
    return reopened


async def _close_if_decided_elsewhere(client: PrefectClient, run_id: str) -> None:
    """A line matched or set aside with the CLI while its run waited on the form: the question is gone."""
    run = await client.read_flow_run(UUID(run_id))
    if run.state is not None and run.state.is_paused():
        await client.set_flow_run_state(run.id, Completed(message="decided outside this form"), force=True)
        # No longer waiting for anyone: off the "needs a person" list.
        await client.update_flow_run(run.id, tags=[t for t in run.tags if not t.startswith("awaiting:")])


async def _crashed_runs(client: PrefectClient, inst: Installation) -> list:
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED]))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
    )


async def wait_until_settled(run_ids: list[str], timeout: float = 180.0) -> dict[str, str]:
    """Wait until each run has reached its next pause or its end; returns run id -> state name."""
    deadline = asyncio.get_running_loop().time() + timeout
    states: dict[str, str] = {}
    pause = 0.05  # a run usually settles within a second: look often at first, then every half second
    async with get_client() as client:
        pending = set(run_ids)
        while pending:
            for run_id in list(pending):
                run = await client.read_flow_run(UUID(run_id))
                if run.state and run.state.type in SETTLED:
                    states[run_id] = run.state.name or run.state.type.value
                    pending.discard(run_id)
            if pending:
                if asyncio.get_running_loop().time() > deadline:
                    for run_id in pending:
                        states[run_id] = "still running (timed out waiting)"
                    break
                await asyncio.sleep(pause)
                pause = min(pause * 1.5, 0.5)
    return states
