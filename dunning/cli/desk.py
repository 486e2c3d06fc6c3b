"""The collector's desk from the command line: disputes and payment plans.

Each verb records in the database first (it is the truth) and then wakes the invoice's run so it sees the new
facts at once; when the engine is not running, the next sweep does that."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dunning.cli import common
from dunning.domain.errors import UserError
from dunning.domain.fields import require_line, require_text


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
        from dunning.casework import disputes, invoices, policies

        require_text("reason", reason)
        require_line("responsible", responsible)
        require_line("by", by)
        inst = common.installation()
        due_on = common.parse_date(due, "--due date") if due else None
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            inv = invoices.get(s, invoice)
            policy = policies.policy_for(inst.home, inv.debtor.number)
            task = disputes.raise_dispute(
                s, inv, reason, common.clock.now(s), by=by, responsible=responsible, due_on=due_on,
                days=policy.dispute_days,
            )
            step, due_text = task.step, task.due_on.isoformat() if task.due_on else "-"
        typer.echo(f"{invoice}: {step} registered, to be sorted out by {due_text}; escalation stands still")
        _wake(inst, invoice, mark)

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
        from dunning.casework import disputes, invoices

        if upheld is None:
            raise UserError("say --upheld or --rejected")
        require_text("reason", reason)
        require_line("by", by)
        amount = common.parse_amount(credit) if credit is not None else None
        inst = common.installation()
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            inv = invoices.get(s, invoice)
            task = disputes.resolve(
                s, inv, upheld=upheld, now=common.clock.now(s), by=by, reason=reason, credit=amount, write_off=write_off
            )
            step, left = task.step, invoices.open_amount(s, inv)
            currency = inv.currency
        verdict = "upheld" if upheld else "rejected"
        typer.echo(f"{invoice}: {step} {verdict}; open {currency} {left:.2f}")
        _wake(inst, invoice, mark)

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
        from decimal import Decimal, InvalidOperation

        from dunning.casework import invoices, plans

        require_line("by", by)
        instalments = [plans.parse_instalment(text, n) for n, text in enumerate(instalment or [], start=1)]
        try:
            extra = Decimal(costs)
        except InvalidOperation:
            raise UserError(f"--costs {costs!r} is not an amount (use a dot, e.g. 25.00)") from None
        inst = common.installation()
        mark = common.dossier_mark(inst)
        with common.db.transaction(inst) as s:
            inv = invoices.get(s, invoice)
            agreed = plans.agree(s, inv, instalments, common.clock.now(s), costs=extra, by=by)
            total = sum((i.amount for i in agreed.instalments), Decimal("0.00"))
            count, currency = len(agreed.instalments), inv.currency
        typer.echo(f"{invoice}: payment plan of {count} instalments, {currency} {total:.2f} in all, agreed")
        _wake(inst, invoice, mark)

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
