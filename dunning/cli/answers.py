"""Verbs that talk to the engine: a sweep now, and answering a run's call or approval as the UI form does."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import typer

from dunning.cli.common import (
    clock,
    db,
    describe,
    dossier_mark,
    engine_call,
    installation,
    parse_amount,
    parse_date,
    prefect_env,
)
from dunning.domain.errors import UserError
from dunning.domain.fields import require_line, require_text
from dunning.storage import config

verbs = typer.Typer()


# --- the engine -------------------------------------------------------------------------------------------


@verbs.command()
def sweep(timeout: Annotated[float, typer.Option(help="Seconds to wait for the runs.")] = 300) -> None:
    """Start, wake and restart runs now; return when they have reached their next pause or end."""
    import asyncio

    inst = installation()
    from dunning.casework import policies
    from dunning.desk import excuses

    # A mistake in the policy or excuses file is named here, not by every run that reads it.
    policies.load(inst.home)
    excuses.load(inst.home)
    prefect_env(inst)
    from tasks.sweep import exit_code, rate_warnings, sweep_once, wait_until_settled

    for warning in rate_warnings(inst):
        typer.echo(warning, err=True)
    mark = dossier_mark(inst)
    report = engine_call(lambda: asyncio.run(sweep_once(inst)), inst)
    if not report.touched:
        typer.echo("Nothing to do.")
    states = asyncio.run(wait_until_settled(list(report.touched.values()), timeout))
    for label, runs in (("started", report.started), ("woken", report.woken), ("restarted", report.restarted)):
        for number, run_id in sorted(runs.items()):
            typer.echo(f"{number}: {label} -> {states.get(run_id)}: {describe(inst, number, mark)}")
    for name, run_id in sorted(report.asked.items()):
        line = name.removeprefix("payment ")
        typer.echo(f"{name}: no rule matched it -> {states.get(run_id)}: match it in its run's form in the Prefect "
                   f"UI, or with `dunning payments match {line} --invoice ...`")
    # Done what it could; what still stops a case (a file that does not load, a run that stays failed) is named,
    # and the exit code says so (tasks/sweep.exit_code).
    for problem in report.problems:
        typer.echo(f"dunning: error: {problem}", err=True)
    if code := exit_code(report):
        sys.exit(code)


@verbs.command()
def call(
    invoice: str,
    reached: Annotated[bool | None, typer.Option("--reached/--not-reached", help="Did you reach the debtor?")] = None,
    spoke_with: Annotated[str, typer.Option(help="Name and role of who you spoke with.")] = "",
    promise: Annotated[str | None, typer.Option(help="Promised payment date, YYYY-MM-DD.")] = None,
    amount: Annotated[str | None, typer.Option(help="Promised amount (default: all that is open).")] = None,
    excuse: Annotated[str, typer.Option(help="The excuse heard (see the call sheet's list).")] = "",
    dispute: Annotated[str, typer.Option(help="What the debtor disputes: registers a dispute.")] = "",
    plan_requested: Annotated[
        bool, typer.Option("--plan-requested", help="Asks for a payment plan: escalation waits for one to be agreed.")
    ] = False,
    summarised: Annotated[bool, typer.Option("--summarised", help="You read the agreement back.")] = False,
    send_copy: Annotated[bool, typer.Option("--send-copy", help="Send the debtor a copy of the invoice.")] = False,
    note: Annotated[str, typer.Option(help="What was said.")] = "",
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Complete the open call task of an invoice and resume its run, as the UI form does."""
    from dunning.casework.answers import complete_call
    from dunning.casework.human_tasks import CallOutcome
    from dunning.domain.kinds import TaskKind

    if reached is None:
        raise UserError("say --reached or --not-reached")
    for field, value in (("spoke_with", spoke_with), ("excuse", excuse), ("by", by)):
        require_line(field, value)
    for field, value in (("note", note), ("dispute", dispute)):
        require_text(field, value)
    heard = {
        "--promise": promise,
        "--excuse": excuse,
        "--dispute": dispute,
        "--plan-requested": plan_requested,
        "--send-copy": send_copy,
    }
    if not reached and any(heard.values()):
        raise UserError(f"{next(k for k, v in heard.items() if v)} needs --reached")
    if amount is not None and not promise:
        raise UserError("--amount goes with --promise")
    outcome = CallOutcome(
        reached=reached,
        spoke_with=spoke_with,
        promised_on=parse_date(promise, "--promise") if promise else None,
        note=note,
        by=by,
        promised_amount=parse_amount(amount) if amount is not None else None,
        excuse=excuse.strip(),
        summarised=summarised,
        dispute=dispute.strip(),
        plan_requested=plan_requested,
        send_copy=send_copy,
    )
    if outcome.promised_on is not None:
        _require_future(outcome.promised_on)

    def complete(s: Any, t: Any, now: datetime) -> bool:
        from dunning.casework import invoices, policies

        if t.invoice.number != invoice and (outcome.dispute or outcome.promised_amount is not None):
            raise UserError(
                f"the call about {invoice} is one call with {t.invoice.number}: answer it there, and register a "
                f"dispute about {invoice} with `dunning dispute {invoice}`"
            )
        open_now = invoices.open_amount(s, t.invoice)
        if outcome.promised_amount is not None and outcome.promised_amount > open_now:
            raise UserError(f"--amount {outcome.promised_amount} is more than the open {open_now:.2f}")
        days = policies.policy_for(config.home(), t.invoice.debtor.number).dispute_days
        return complete_call(s, t, outcome, now, dispute_days=days)

    _answer(invoice, TaskKind.call, complete)


@verbs.command()
def approve(
    invoice: str,
    by: Annotated[str, typer.Option(help="Your name.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    reason: Annotated[str, typer.Option(help="Why (required with --reject).")] = "",
) -> None:
    """Answer the open approval of an invoice and resume its run."""
    from dunning.casework.answers import complete_approval
    from dunning.casework.human_tasks import ApprovalAnswer
    from dunning.domain.kinds import TaskKind

    if not by.strip():
        raise UserError("--by needs a name")
    require_line("by", by)
    require_text("reason", reason)
    if reject and not reason.strip():
        raise UserError("--reject needs --reason")
    answer = ApprovalAnswer(approved=not reject, by=by.strip(), reason=reason.strip())
    _answer(invoice, TaskKind.approval, lambda s, t, now: complete_approval(s, t, answer, now))


def _require_future(promised_on: date) -> None:
    """A promise is to pay by a day to come (today counts), by the installation's clock."""
    from dunning.domain.time import local

    with db.transaction(installation()) as s:
        today = local(clock.now(s)).date()
    if promised_on < today:
        raise UserError(f"--promise {promised_on} is in the past (today is {today}): a promise is to pay by a day "
                        "to come")


def _answer(invoice: str, kind: Any, complete: Any) -> None:
    """Record the answer in the database first (it is the truth), then resume the run with the same input.
    Should the resume fail, the next sweep hands the run the recorded answer. A call joined to another
    invoice's call (one call per debtor) is answered there, and every run it answered goes on."""
    import asyncio

    from dunning.casework import human_tasks, invoices
    from dunning.storage.models import HumanTask

    inst = installation()
    with db.transaction(inst) as s:
        task = human_tasks.open_task_of(s, invoices.get(s, invoice), kind)
        lead = task.invoice
        if not lead.flow_run_id:
            raise UserError(f"invoice {lead.number} has no run")
        run_id, task_id, number = lead.flow_run_id, task.id, lead.number
    mark = dossier_mark(inst)
    prefect_env(inst)
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    def reachable() -> None:
        with get_client(sync_client=True) as client:
            client.hello()

    # Nothing is recorded unless the engine can take the answer now: an answer recorded while it is away would
    # leave the collector with an error and a retry told the task is done.
    engine_call(reachable, inst)

    from dunning.casework.answers import form_input
    from tasks.sweep import wait_until_settled, wake

    with db.transaction(inst) as s:
        task = s.get_one(HumanTask, task_id)
        others = [(j.invoice.number, j.invoice.flow_run_id) for j in human_tasks.joined_to(s, task)]
        complete(s, task, clock.now(s))
        run_input = form_input(task)
        invoices.get(s, number).wake_at = clock.now(s)  # if the resume below fails, the next sweep delivers it
    # The wake-up stays set: clearing it here could wipe the one the resumed run sets; at worst the next sweep
    # wakes the run once more, and it decides the same again.
    try:
        engine_call(lambda: resume_flow_run(UUID(run_id), run_input=run_input), inst)
    except UserError:
        raise
    except Exception as e:  # e.g. the run is not paused right now: the answer is safe in the database
        typer.echo(f"{number}: answer recorded; the run did not take it now ({type(e).__name__}: {e}); "
                   "the next sweep hands it over", err=True)
        return

    async def wake_others() -> list[str]:
        async with get_client() as client:
            return [r for n, r in others if r and await wake(client, inst, n, r)]

    woken = asyncio.run(wake_others()) if others else []
    states = asyncio.run(wait_until_settled([run_id, *woken]))
    for n, r in [(number, run_id), *others]:
        state = states.get(r or "", "not started")
        typer.echo(f"{n}: {kind.value} recorded; run -> {state}: {describe(inst, n, mark)}")
