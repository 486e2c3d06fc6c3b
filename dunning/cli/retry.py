"""`dunning retry`: a failed run is never the end of a case. Lists the invoice runs that ended Failed or Crashed
with their error, and restarts them (the invoice's own run, from the top: one run per invoice stays one run in the
UI) once what failed them is fixed. The sweep restarts them too, with a back-off (tasks/sweep.py); this is for a
person who fixed the cause and wants to see the runs go on now."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from dunning.cli.common import (
    JsonOpt,
    clock,
    db,
    describe,
    dossier_mark,
    engine_call,
    installation,
    prefect_env,
    print_json,
)
from dunning.domain.errors import UserError

verbs = typer.Typer()


@verbs.command()
def retry(
    invoice: Annotated[str | None, typer.Argument(help="The invoice whose failed run to restart.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Restart every failed invoice run.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the restarted runs.")] = 300,
    as_json: JsonOpt = False,
) -> None:
    """Restart the failed run of INVOICE (or of every invoice: --all); without either, list the failed runs."""
    import asyncio

    if invoice is not None and every:
        raise UserError("give an invoice or --all, not both")
    inst = installation()
    prefect_env(inst)
    from tasks import sweep

    problems = sweep.config_problems(inst.home)
    if invoice is None and not every:
        for problem in problems:
            typer.echo(f"warning: {problem}", err=True)
        _list(_engine(lambda: asyncio.run(_failed(inst)), inst), as_json)
        return
    if problems:
        # Where the cause can be checked and still stands, a restart would only fail again.
        raise UserError(f"{problems[0]} (fix it first: the runs would fail again)")
    if invoice is not None:
        _check_retryable(inst, invoice)
    failed = _engine(lambda: asyncio.run(_failed(inst)), inst)
    chosen = [r for r in failed if invoice is None or r.invoice == invoice]
    if invoice is not None and not chosen:
        state = _engine(lambda: asyncio.run(_state_of(inst, invoice)), inst)
        raise UserError(f"the run of invoice {invoice} is {state}, not failed: nothing to retry")
    if not chosen:
        typer.echo("No failed runs.")
        return
    mark = dossier_mark(inst)
    _engine(lambda: asyncio.run(_restart([r.run_id for r in chosen])), inst)
    states = asyncio.run(sweep.wait_until_settled([r.run_id for r in chosen], timeout))
    again = {r.invoice: r for r in asyncio.run(_failed(inst))}
    for run in chosen:
        if run.invoice in again:
            typer.echo(f"{run.invoice}: restarted -> {again[run.invoice].state} again: {again[run.invoice].error}")
        else:
            typer.echo(f"{run.invoice}: restarted -> {states.get(run.run_id)}: {describe(inst, run.invoice, mark)}")
    if failing := [n for n in (r.invoice for r in chosen) if n in again]:
        typer.echo(f"dunning: error: {len(failing)} run(s) failed again: {', '.join(failing)}", err=True)
        sys.exit(1)  # not typer.Exit: the app runs with standalone_mode=False, which returns that code unused


def _engine(fn: Any, inst: Any) -> Any:
    """`engine_call`, and an engine that asks for a password named as such (`dunning run --host` with
    PREFECT_SERVER_API_AUTH_STRING), not a traceback."""
    try:
        return engine_call(fn, inst)
    except Exception as e:
        if getattr(getattr(e, "response", None), "status_code", None) == 401:
            raise UserError(f"the engine at {inst.prefect_api_url} asks for a password: set PREFECT_API_AUTH_STRING="
                            "user:password (the server's PREFECT_SERVER_API_AUTH_STRING)") from None
        raise


def _check_retryable(inst: Any, number: str) -> None:
    """An invoice that exists, whose case is open and has a run: the rest is the run's state."""
    from dunning.casework import invoices

    with db.transaction(inst) as s:
        found = invoices.get(s, number)
        if found.closed_reason is not None:
            raise UserError(f"invoice {number} is closed ({found.closed_reason}): nothing to retry")
        if found.flow_run_id is None:
            raise UserError(f"invoice {number} has no run yet: the sweep starts it when it is due")


async def _failed(inst: Any) -> list:
    from prefect.client.orchestration import get_client

    from tasks.sweep import failed_runs

    async with get_client() as client:
        return await failed_runs(client, inst)


async def _state_of(inst: Any, number: str) -> str:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    from dunning.casework import invoices

    with db.transaction(inst) as s:
        run_id = invoices.get(s, number).flow_run_id
    async with get_client() as client:
        run = await client.read_flow_run(UUID(str(run_id)))
    return (run.state.name or run.state.type.value) if run.state else "without a state"


async def _restart(run_ids: list[str]) -> None:
    from prefect.client.orchestration import get_client

    from tasks.sweep import restart

    async with get_client() as client:
        for run_id in run_ids:
            await restart(client, run_id)


def _list(failed: list, as_json: bool) -> None:
    if as_json:
        print_json([{"invoice": r.invoice, "run": r.run_id, "state": r.state, "failed_at": r.failed_at.isoformat(),
                     "failures": r.failures, "error": r.error, "retry": r.retry_command} for r in failed])
        return
    if not failed:
        typer.echo("No failed runs.")
    for r in failed:
        at = clock.local(r.failed_at)
        typer.echo(f"{r.invoice:<14} {r.state:<8} {at:%Y-%m-%d %H:%M}  {r.error}  -> `{r.retry_command}`")
