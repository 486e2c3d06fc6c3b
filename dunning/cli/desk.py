"""The collector's desk from the command line: disputes and payment plans.

Each verb is its desk action (`dunning.casework.desk_actions`, the one the Prefect UI's Run form starts too) in
one transaction, and prints the action's line. It records in the database first (it is the truth) and then wakes
the invoice's run so it sees the new facts at once; when the engine is not running, the next sweep does that."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dunning.cli import common
from dunning.domain.errors import UserError

if TYPE_CHECKING:
    from dunning.casework.desk_actions import Done


def register(app: typer.Typer) -> None:
    @app.command()
    def dispute(
        invoice: str,
        reason: Annotated[str, typer.Option(help="What the debtor contests, in a sentence.")] = "",
        by: Annotated[str, typer.Option(help="Your name.")] = "",
        responsible: Annotated[str, typer.Option(help="Who sorts it out (shown with the task).")] = "",
        due: Annotated[str | None, typer.Option(help="Sort it out by YYYY-MM-DD (default: policy).")] = None,
    ) -> None:
        """Register a dispute: escalation of this invoice stands still until it is resolved."""
        from dunning.casework import desk_actions

        due_on = common.parse_date(due, "--due") if due else None
        inst = common.installation()
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            done = desk_actions.register_dispute(s, inst.home, invoice, reason, by, responsible, due_on,
                                                 common.clock.now(s))
        _report(inst, done, mark)

    @app.command()
    def resolve(
        invoice: str,
        upheld: Annotated[
            bool | None, typer.Option("--upheld/--rejected", help="Upheld: the debtor is right. Rejected: not.")
        ] = None,
        reason: Annotated[str, typer.Option(help="Why; with --rejected this is what the debtor is told.")] = "",
        credit: Annotated[
            str | None, typer.Option(help="With --upheld: the amount credited (default: all that is open).")
        ] = None,
        write_off: Annotated[
            bool, typer.Option("--write-off", help="With --upheld: write off instead of a credit note.")
        ] = False,
        by: Annotated[str, typer.Option(help="Your name.")] = "",
    ) -> None:
        """Resolve the open dispute: upheld (credit note or write-off) or rejected (the debtor is told why and
        the ladder goes on where it stopped)."""
        from dunning.casework import desk_actions

        if upheld is None:
            raise UserError("say --upheld or --rejected")
        inst = common.installation()
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            done = desk_actions.resolve_dispute(s, invoice, upheld, reason, credit, write_off, by,
                                                common.clock.now(s))
        _report(inst, done, mark)

    @app.command()
    def plan(
        invoice: str,
        instalment: Annotated[
            list[str] | None, typer.Option("--instalment", help="DATE=AMOUNT, once per instalment, in order.")
        ] = None,
        costs: Annotated[str, typer.Option(help="Costs agreed on top of the open amount.")] = "0.00",
        by: Annotated[str, typer.Option(help="Your name.")] = "",
    ) -> None:
        """Agree a payment plan: the instalments add up to the open amount plus agreed costs. The debtor gets
        the plan in writing; the run waits instalment by instalment."""
        from dunning.casework import desk_actions

        instalments = [_instalment(text, n) for n, text in enumerate(instalment or [], start=1)]
        inst = common.installation()
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            done = desk_actions.agree_plan(s, invoice, instalments, costs, by, common.clock.now(s))
        _report(inst, done, mark)

    @app.command()
    def disputes(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
        """Open disputes, the earliest due first: who sorts them out, and by when."""
        from dunning.casework import disputes as disputes_

        with common.db.transaction(common.installation()) as s:
            rows = [
                {
                    "invoice": t.invoice.number,
                    "debtor": t.invoice.debtor.name,
                    "step": str(t.step),
                    "reason": (t.outcome or {}).get("reason"),
                    "responsible": t.assignee,
                    "due_on": t.due_on.isoformat() if t.due_on else None,
                    "since": t.created_at.isoformat(),
                }
                for t in disputes_.due_disputes(s)
            ]
        if as_json:
            common.print_json(rows)
            return
        if not rows:
            typer.echo("No open disputes.")
        for r in rows:
            who = r["responsible"] or "nobody named"
            typer.echo(f"{r['invoice']:<14} due {r['due_on']}  {who:<16} {r['debtor']}: {r['reason']}")


def _instalment(text: str, n: int) -> tuple[date, str]:
    """'2026-03-01=150.00' -> (the date, the amount as typed): the amount is the desk action's to read, as it
    reads the form's. Errors name the instalment by its place."""
    day, sep, amount = text.partition("=")
    if not sep:
        raise UserError(f"instalment {n} {text!r}: write it as DATE=AMOUNT, e.g. 2026-03-01=150.00")
    from dunning.domain.fields import parse_day

    try:
        return parse_day(day), amount
    except ValueError as e:
        raise UserError(f"instalment {n} {text!r}: date {e}") from None


def _report(inst: Any, done: Done, mark: int) -> None:
    """What the desk action did, as it says it; then its invoice's run is handed the new facts, if it names one."""
    typer.echo(done.line)
    if done.wake is not None:
        _wake(inst, done.wake, mark)


def _wake(inst: Any, invoice: str, mark: int) -> None:
    """Hand the new facts to the invoice's run now; without a running engine the next sweep does it."""
    import asyncio

    from dunning.casework import invoices

    with common.db.transaction(inst) as s:
        run_id = invoices.get(s, invoice).flow_run_id
    if run_id is None:
        return  # not due yet: its run starts with these facts
    common.prefect_env(inst)
    from prefect.client.orchestration import get_client

    from tasks.sweep import wait_until_settled, wake

    async def wake_it() -> bool:
        async with get_client() as client:
            return await wake(client, inst, invoice, run_id)

    try:
        woken = common.engine_call(lambda: asyncio.run(wake_it()), inst)
    except UserError as e:
        typer.echo(f"{invoice}: recorded; {e} (the next sweep hands it to the run)", err=True)
        return
    if woken:
        state = asyncio.run(wait_until_settled([run_id]))[run_id]
        typer.echo(f"{invoice}: run -> {state}: {common.describe(inst, invoice, mark)}")
