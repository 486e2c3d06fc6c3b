"""Money in: importing bank statements, the payments they held and what a person decides about a line no rule
matched, the invoices with what is open on them, and credits left by paying too much."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from dunning.cli.common import JsonOpt, clock, db, installation, parse_amount, print_json
from dunning.cli.records import import_app
from dunning.domain.errors import UserError
from dunning.domain.fields import require_line, require_text

verbs = typer.Typer()
payments_app = typer.Typer(help="Bank statement lines: what they paid, and the ones a person decides.")
credits_app = typer.Typer(help="What debtors paid beyond what was open.")
verbs.add_typer(payments_app, name="payments")
verbs.add_typer(credits_app, name="credits")


@import_app.command("bank")
def import_bank(files: Annotated[list[Path], typer.Argument(help="CAMT.053 or MT940 statement files.")]) -> None:
    """Import bank statements (CAMT.053 or MT940, told apart by their content): each file whole or not at all.
    Importing a file again, or an overlapping statement, changes nothing."""
    from dunning.bank.formats import read_statement_file
    from dunning.casework import bank

    inst = installation()
    failed = []
    for file in files:
        try:
            statement = read_statement_file(file)
            with db.transaction(inst) as s:
                report = bank.import_statement(s, statement, inst.creditor.own_accounts, clock.now(s))
        except UserError as e:
            failed.append(str(e))
            typer.echo(f"dunning: error: {e}", err=True)
            continue
        typer.echo(report.summary())
    if failed:
        raise SystemExit(2)  # each refused file was named above; the good ones went in


@payments_app.callback(invoke_without_command=True)
def payments(
    ctx: typer.Context,
    unmatched: Annotated[bool, typer.Option("--unmatched", help="Only the lines a person must decide.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every imported statement line: what it paid, or why not."""
    if ctx.invoked_subcommand is not None:
        return
    from dunning.casework import bank

    inst = installation()
    with db.transaction(inst) as s:
        found = bank.lines(s, unmatched_only=unmatched)
        rows = [bank.as_json(r) for r in found]
        hints = {} if as_json else bank.suggestions(s, found)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No statement lines." if not unmatched else "No unmatched lines.")
    for r in rows:
        sign = "" if r["credit"] else "-"
        paid = ", ".join(f"{i['invoice']} {i['amount']}" for i in r["invoices"])
        typer.echo(f"{r['id']:>5}  {r['booked']}  {sign}{r['amount']:>11}  {r['status']:<9}  "
                   f"{(r['counterparty'] or '')[:28]:<28}  {r['remittance'][:40]}")
        if paid:
            typer.echo(f"       paid: {paid}")
        if r["note"]:
            typer.echo(f"       {r['note']}")
        if hints.get(r["id"]):
            typer.echo(f"       likely: {', '.join(hints[r['id']])}")


@payments_app.command("match")
def match(
    line: Annotated[int, typer.Argument(help="The line's id (see `dunning payments --unmatched`).")],
    invoice: Annotated[list[str], typer.Option("--invoice", help="An invoice it pays; repeat for several.")],
    amount: Annotated[
        list[str] | None,
        typer.Option("--amount", help="How much of the line goes to each --invoice, in the same order "
                     "(default: oldest first, up to what is open)."),
    ] = None,
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Say which invoices an unmatched line pays. What is left over stays as a credit on the debtor."""
    from dunning.casework import bank

    require_line("by", by)
    amounts: list[Decimal | None] = [parse_amount(a) for a in amount or []]
    if amounts and len(amounts) != len(invoice):
        raise UserError(f"give one --amount per --invoice ({len(invoice)} invoices, {len(amounts)} amounts)")
    wanted = list(zip(invoice, amounts or [None] * len(invoice), strict=True))
    inst = installation()
    with db.transaction(inst) as s:
        row = bank.match_by_hand(s, line, wanted, by.strip() or None, clock.now(s))
        out = bank.as_json(row)
    paid = ", ".join(f"{i['invoice']} {i['amount']}" for i in out["invoices"])
    typer.echo(f"line {line}: matched to {paid}")


@payments_app.command("ignore")
def ignore(
    line: Annotated[int, typer.Argument(help="The line's id.")],
    reason: Annotated[str, typer.Option(help="Why it is not a debtor's payment.")],
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Set an unmatched line aside: not a debtor payment."""
    from dunning.casework import bank

    require_text("reason", reason)
    require_line("by", by)
    inst = installation()
    with db.transaction(inst) as s:
        bank.ignore(s, line, reason, by.strip() or None, clock.now(s))
    typer.echo(f"line {line}: set aside ({reason.strip()})")


@verbs.command("invoices")
def list_invoices(
    debtor: Annotated[str | None, typer.Option(help="Only this debtor's invoices (its number).")] = None,
    only_open: Annotated[bool, typer.Option("--open", help="Only invoices with something still to pay.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Invoices with what was paid, credited and is still open, and the last step of the ladder taken."""
    from dunning.casework import ledger

    inst = installation()
    with db.transaction(inst) as s:
        rows = ledger.invoice_rows(s, debtor=debtor, only_open=only_open)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No invoices.")
    for r in rows:
        typer.echo(f"{r['invoice']:<16} {r['debtor']:<12} {r['amount']:>11} open {r['open']:>11}  "
                   f"{r['status']:<12} {r['step'] or '':<22} {r['payment_reference']}")


@credits_app.callback(invoke_without_command=True)
def credits(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Credits debtors have with us, not yet applied."""
    if ctx.invoked_subcommand is not None:
        return
    from dunning.casework import bank

    inst = installation()
    with db.transaction(inst) as s:
        rows = [
            {"id": c.id, "debtor": c.debtor.number, "amount": f"{c.amount:.2f}", "since": c.created_at.isoformat(),
             "next_invoice": next(iter(_open_of(s, c.debtor)), None)}
            for c in bank.open_credits(s)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No open credits.")
    for r in rows:
        offer = f"  apply to {r['next_invoice']}? dunning credits apply {r['id']} --invoice {r['next_invoice']}" \
            if r["next_invoice"] else ""
        typer.echo(f"{r['id']:>5}  {r['debtor']:<12} {r['amount']:>11}{offer}")


def _open_of(s, debtor) -> list[str]:  # type: ignore[no-untyped-def]
    from dunning.casework import invoices

    return [i.number for i in invoices.open_of_debtor(s, debtor)]


@credits_app.command("apply")
def apply_credit(
    credit: Annotated[int, typer.Argument(help="The credit's id (see `dunning credits`).")],
    invoice: Annotated[str, typer.Option("--invoice", help="The debtor's invoice it pays.")],
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Apply a debtor's credit to one of their open invoices."""
    from dunning.casework import bank, invoices

    require_line("by", by)
    inst = installation()
    with db.transaction(inst) as s:
        inv = invoices.get(s, invoice)
        payment = bank.apply_credit(s, credit, inv, by.strip() or None, clock.now(s))
        remaining = invoices.open_amount(s, inv)
    typer.echo(f"{invoice}: credit of {inv.currency} {payment.amount:.2f} applied; open {inv.currency} "
               f"{remaining:.2f}")
