"""Verbs over the installation's records: import, payments, the dossier, notes, credit holds, open tasks,
the daily overview and the print queue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from dunning.cli.common import (
    JsonOpt,
    clock,
    db,
    engine_call,
    installation,
    parse_date,
    prefect_env,
    print_json,
)
from dunning.domain.errors import InvalidInput, UserError

verbs = typer.Typer()
import_app = typer.Typer(no_args_is_help=True, help="Import data.")
verbs.add_typer(import_app, name="import")


# --- data -------------------------------------------------------------------------------------------------


EncodingOpt = Annotated[str | None, typer.Option(help="The file's encoding (default: UTF-8, else Windows-1252).")]
DelimiterOpt = Annotated[str | None, typer.Option(help="The column separator (default: told from the header).")]
ColumnsOpt = Annotated[
    Path | None, typer.Option("--columns", help="A mapping file: our field = their header (see README).")
]


def _read_options(inst, encoding: str | None, delimiter: str | None, columns: Path | None,  # type: ignore[no-untyped-def]
                  kind: str | None = None):
    from dunning.documents.reading import ReadOptions
    from dunning.domain.kinds import KIND_ALIASES, DebtorKind

    chosen = None
    if kind is not None:
        try:
            chosen = DebtorKind(KIND_ALIASES.get(kind, kind))
        except ValueError:
            raise UserError(f"--kind: consumer or business, got {kind!r}") from None
    return ReadOptions(encoding=encoding, delimiter=delimiter, columns=columns, kind=chosen,
                       default_kind=DebtorKind(inst.default_debtor_kind),
                       default_term_days=inst.default_payment_term_days)


@import_app.command("invoices")
def import_invoices(
    files: Annotated[list[Path], typer.Argument(help="UBL e-invoices / credit notes, or CSV exports.")],
    kind: Annotated[str | None, typer.Option(help="Every debtor in the files is this kind: consumer or business.")]
    = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    columns: ColumnsOpt = None,
) -> None:
    """Import invoices and credit notes: UBL 2.1 e-invoices or spreadsheet exports (see README), told apart by
    their content. Each file whole or not at all; an invoice the books changed is corrected."""
    from dunning.casework.importer import import_records, write_copies
    from dunning.documents.reading import read_invoice_file

    inst = installation()
    options = _read_options(inst, encoding, delimiter, columns, kind)
    failed = False
    for file in files:
        try:
            records = read_invoice_file(file, options)
            with db.transaction(inst) as s:
                result = import_records(s, str(file), records, clock.now(s), options.default_kind)
        except UserError as e:
            typer.echo(f"dunning: error: {e}", err=True)
            failed = True
            continue
        write_copies(inst, result.pdfs)
        typer.echo(result.summary(str(file)))
    if failed:
        raise SystemExit(2)  # each refused file was named above; the good ones went in


@import_app.command("open-items")
def import_open_items(
    file: Annotated[Path, typer.Argument(help="The ledger's open items: invoice_number,open_amount.")],
    as_of: Annotated[str, typer.Option("--as-of", help="The day the ledger's list is of (YYYY-MM-DD).")],
    force: Annotated[bool, typer.Option(help="Settle even when it is more than half of what is open.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; change nothing.")] = False,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    columns: ColumnsOpt = None,
) -> None:
    """Follow the accounting package's open items: an invoice no longer in the list is settled in the ledger (its
    run ends, nothing more goes out); a lower open amount there is a part payment."""
    from dunning.casework.books import sync_open_items
    from dunning.documents.reading import read_open_items_file

    inst = installation()
    day = parse_date(as_of, "--as-of")
    items = read_open_items_file(file, _read_options(inst, encoding, delimiter, columns))
    with db.transaction(inst) as s:
        report = sync_open_items(s, str(file), items, day, clock.now(s), force=force,
                                 max_share=inst.open_items_max_settle_share)
        if dry_run:
            s.rollback()
    typer.echo(("would be: " if dry_run else "") + report.summary(str(file)))
    for number, amount in report.settled:
        typer.echo(f"  {number}: settled in the ledger ({amount:.2f} was open here)")
    for number, amount in report.part_paid:
        typer.echo(f"  {number}: part paid, {amount:.2f}")
    for number in report.higher:
        typer.echo(f"  {number}: more open in the ledger than here (import the corrected invoice)")
    if report.unknown:
        typer.echo(f"  not known here: {', '.join(report.unknown[:20])}" + (" ..." if len(report.unknown) > 20 else ""))


# A negative AMOUNT ("-5") is an amount to refuse in words, not an unknown option.
@verbs.command(context_settings={"ignore_unknown_options": True})
def pay(
    invoice: str,
    amount: str,
    on: Annotated[str | None, typer.Option("--date", help="Payment date (default: today).")] = None,
    overpayment: Annotated[bool, typer.Option("--overpayment", help="The debtor paid more than is open: take it "
                                              "all (the rest is a credit).")] = False,
) -> None:
    """Register a payment on an invoice."""
    from dunning.casework import desk_actions

    paid_on = parse_date(on, "--date") if on else None
    inst = installation()
    try:
        with db.transaction(inst) as s:
            done = desk_actions.register_payment(s, invoice, amount, paid_on, clock.now(s), overpayment)
    except InvalidInput as e:
        if e.field != "amount":
            raise
        raise UserError(e.phrased("AMOUNT")) from None  # the verb's argument, not an --amount option
    typer.echo(done.line)  # the next sweep hands the payment to the run


@verbs.command()
def dossier(invoice: str, as_json: JsonOpt = False) -> None:
    """The evidence on an invoice, in order."""
    from dunning.casework import dossier as dossier_
    from dunning.casework import invoices

    inst = installation()
    with db.transaction(inst) as s:
        entries = [dossier_.as_json(e) for e in dossier_.entries(s, invoices.get(s, invoice))]
    if as_json:
        print_json(entries)
        return
    for e in entries:
        at = clock.local(datetime.fromisoformat(e["at"])).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{at}  {e['kind']:<18} {e['channel'] or '':<6} {e['by'] or '':<12} {e['summary']}")


@verbs.command()
def note(
    invoice: str,
    text: Annotated[str, typer.Argument(help="A paragraph in your own words, in the debtor's language.")],
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Add a personal paragraph to the next message of an invoice (every channel of that step carries it)."""
    from dunning.casework import desk_actions

    inst = installation()
    with db.transaction(inst) as s:
        done = desk_actions.add_note(s, invoice, text, by, clock.now(s))
    typer.echo(done.line)


@verbs.command()
def hold(
    debtor: str,
    reason: Annotated[str, typer.Option(help="Why deliveries stop.")] = "put on hold by hand",
    off: Annotated[bool, typer.Option("--off", help="Lift the hold.")] = False,
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Put a debtor on credit hold (no new deliveries), or lift it with --off."""
    from dunning.casework import desk_actions

    inst = installation()
    with db.transaction(inst) as s:
        done = desk_actions.credit_hold(s, debtor, reason, off, by, clock.now(s))
    typer.echo(done.line)


@verbs.command()
def holds(as_json: JsonOpt = False) -> None:
    """Debtors on credit hold."""
    from dunning.casework import holds as holds_

    with db.transaction(installation()) as s:
        rows = [
            {"debtor": d.number, "name": d.name, "since": d.hold_since.isoformat(), "reason": d.hold_reason}
            for d in holds_.on_hold(s)
            if d.hold_since is not None
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No debtors on hold.")
    for r in rows:
        since = clock.local(datetime.fromisoformat(str(r["since"]))).strftime("%Y-%m-%d")
        typer.echo(f"{r['debtor']:<12} since {since}  {r['name']}: {r['reason']}")


@verbs.command("tasks")
def list_tasks(as_json: JsonOpt = False) -> None:
    """Open calls, approvals and disputes, oldest first (a dispute with who sorts it out and by when)."""
    from dunning.casework import human_tasks

    inst = installation()
    with db.transaction(inst) as s:
        rows = [
            {
                "invoice": t.invoice.number,
                "debtor": t.invoice.debtor.name,
                "kind": t.kind.value,
                "step": str(t.step),
                "since": t.created_at.isoformat(),
                "responsible": t.assignee,
                "due_on": t.due_on.isoformat() if t.due_on else None,
                "also_for": [j.invoice.number for j in human_tasks.joined_to(s, t)],
            }
            for t in human_tasks.all_open(s)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No open tasks.")
    for r in rows:
        since = clock.local(datetime.fromisoformat(str(r["since"]))).strftime("%Y-%m-%d %H:%M")
        due = f"  due {r['due_on']} ({r['responsible'] or 'nobody named'})" if r["due_on"] else ""
        also = f"  (also for {', '.join(r['also_for'])})" if r["also_for"] else ""
        typer.echo(f"{r['invoice']:<14} {r['kind']:<9} {r['step']:<26} since {since}  {r['debtor']}{due}{also}")


@verbs.command()
def overview(as_json: JsonOpt = False) -> None:
    """What needs a person today: open tasks, letters to post, credit holds, warnings."""
    from dunning.desk import overview as overview_

    inst = installation()
    with db.transaction(inst) as s:
        found = overview_.build(s, inst, clock.now(s))
    failed = _failed_runs(inst)
    if failed:
        found["failed_runs"] = failed
    if as_json:
        print_json(found)
    else:
        typer.echo(overview_.as_markdown(found), nl=False)


def _failed_runs(inst: Any) -> list[dict] | None:
    """The invoice runs that ended Failed or Crashed, as the engine knows them (the database does not); None when
    the engine is not running (the overview then shows what the database knows)."""
    import asyncio
    import socket
    from urllib.parse import urlsplit

    from dunning.desk import overview as overview_

    url = urlsplit(inst.prefect_api_url)
    try:  # not running: say so at once, without waiting on the client's retries
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=0.5).close()
    except OSError:
        return None
    prefect_env(inst)
    from prefect.client.orchestration import get_client

    from tasks.sweep import failed_runs

    async def read() -> list[Any]:
        async with get_client() as client:
            await client.hello()
            return await failed_runs(client, inst)

    try:
        found = engine_call(lambda: asyncio.run(read()), inst)
    except UserError:
        return None
    return [overview_.failed_run(r.invoice, r.state, r.failed_at, r.error, r.retry_command) for r in found]


letters_app = typer.Typer(help="The print queue: letters waiting to be posted.")
verbs.add_typer(letters_app, name="letters")


@letters_app.callback(invoke_without_command=True)
def letters(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the letters waiting to be posted, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from dunning.messaging import print_queue

    inst = installation()
    with db.transaction(inst) as s:
        rows = [
            {
                "invoice": print_queue.invoice_number(s, m),
                "step": str(m.step),
                "printed_on": print_queue.printed_on(m).isoformat(),
                "address": m.recipient,
                "file": str(print_queue.file_for(inst, m)),
            }
            for m in print_queue.waiting(s)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("No letters waiting to be posted.")
    for r in rows:
        typer.echo(f"{r['printed_on']}  {r['invoice']:<14} {r['step']:<20} {r['file']}")


@letters_app.command("posted")
def letters_posted(
    on: Annotated[str | None, typer.Option("--date", help="Day the letters were posted (default: today).")] = None,
) -> None:
    """Mark the letters printed for that day as posted; their runs continue at the next sweep."""
    from dunning.messaging import print_queue, statement_of_account

    inst = installation()
    with db.transaction(inst) as s:
        now = clock.now(s)
        day = parse_date(on, "--date") if on else clock.local(now).date()
        if day > clock.local(now).date():
            raise UserError(f"--date {day.isoformat()} is in the future")
        done = print_queue.mark_posted(s, inst, day, now)
        statement_of_account.record_posted(s, done.posted, now)  # a posted statement's evidence on each invoice
        lines = print_queue.describe(s, done, day)
    typer.echo("\n".join(lines) if lines else f"No letters waiting to be posted on {day.isoformat()}.")
