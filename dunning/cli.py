"""The `dunning` command. Every verb acts on the installation in DUNNING_HOME (default ./var).

Prefect is imported only by the verbs that talk to the engine, so the others answer at once."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from dunning import config
from dunning.config import Installation
from dunning.errors import UserError


class _LazyModule:
    """Imported on first use: `dunning claim` and `letter-term` must answer well under a second, and
    SQLAlchemy alone costs a third of that."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


clock: Any = _LazyModule("dunning.clock")
db: Any = _LazyModule("dunning.db")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Credit management on the Dutch collection ladder.",
)
import_app = typer.Typer(no_args_is_help=True, help="Import data.")
clock_app = typer.Typer(no_args_is_help=True, help="Real or simulated time for this installation.")
app.add_typer(import_app, name="import")
app.add_typer(clock_app, name="clock")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _installation(migrate: bool = True) -> Installation:
    inst = config.load()
    if migrate:
        db.migrate(inst)
    return inst


def _prefect_env(inst: Installation) -> None:
    """Point this process's Prefect client at the installation's server, before prefect is imported."""
    os.environ["PREFECT_API_URL"] = inst.prefect_api_url
    os.environ.setdefault("PREFECT_HOME", str(inst.prefect_home))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def parse_date(value: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"malformed {what} {value!r}: use YYYY-MM-DD") from None


def parse_moment(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"malformed date and time {value!r}: use YYYY-MM-DDTHH:MM") from None
    return at if at.tzinfo else at.replace(tzinfo=clock.AMSTERDAM)


def parse_amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise UserError(f"malformed amount {value!r}: use digits with a dot, e.g. 125.50") from None
    if not amount.is_finite() or amount <= 0 or amount.adjusted() >= 12 or amount != amount.quantize(Decimal("0.01")):
        raise UserError(f"amount must be positive with at most two decimals, got {value!r}")
    return amount


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


# --- data -------------------------------------------------------------------------------------------------


@import_app.command("invoices")
def import_invoices(file: Path) -> None:
    """Import invoices from a CSV file (see README for the columns). All or nothing."""
    from dunning.importer import import_invoices as run_import

    inst = _installation()
    with db.transaction(inst) as s:
        r = run_import(s, file)
    typer.echo(
        f"{file}: {r.invoices_added} invoices added, {r.invoices_unchanged} unchanged; "
        f"{r.debtors_added} debtors added, {r.debtors_updated} updated"
    )


@app.command()
def pay(
    invoice: str,
    amount: str,
    on: Annotated[str | None, typer.Option("--date", help="Payment date (default: today).")] = None,
) -> None:
    """Register a payment on an invoice."""
    from dunning import invoices

    inst = _installation()
    value = parse_amount(amount)
    with db.transaction(inst) as s:
        inv = invoices.get(s, invoice)
        now = clock.now(s)
        paid_on = parse_date(on) if on else clock.local(now).date()
        invoices.register_payment(s, inv, value, paid_on, now)
        remaining = invoices.open_amount(s, inv)
    typer.echo(f"{invoice}: payment of {inv.currency} {value:.2f} registered; open {inv.currency} {remaining:.2f}")


@app.command()
def dossier(invoice: str, as_json: JsonOpt = False) -> None:
    """The evidence on an invoice, in order."""
    from dunning import dossier as dossier_
    from dunning import invoices

    inst = _installation()
    with db.transaction(inst) as s:
        entries = [dossier_.as_json(e) for e in dossier_.entries(s, invoices.get(s, invoice))]
    if as_json:
        _print_json(entries)
        return
    for e in entries:
        at = clock.local(datetime.fromisoformat(e["at"])).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{at}  {e['kind']:<18} {e['channel'] or '':<6} {e['by'] or '':<12} {e['summary']}")


@app.command()
def note(
    invoice: str,
    text: Annotated[str, typer.Argument(help="A paragraph in your own words, in the debtor's language.")],
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Add a personal paragraph to the next message of an invoice (every channel of that step carries it)."""
    from dunning import invoices, personal_notes

    inst = _installation()
    with db.transaction(inst) as s:
        inv = invoices.get(s, invoice)
        personal_notes.add(s, inv, text, by.strip() or None, clock.now(s))
    typer.echo(f"{invoice}: note added; it goes with the next message (see it with `dunning preview`)")


@app.command()
def hold(
    debtor: str,
    reason: Annotated[str, typer.Option(help="Why deliveries stop.")] = "put on hold by hand",
    off: Annotated[bool, typer.Option("--off", help="Lift the hold.")] = False,
    by: Annotated[str, typer.Option(help="Your name.")] = "",
) -> None:
    """Put a debtor on credit hold (no new deliveries), or lift it with --off."""
    from dunning import holds

    inst = _installation()
    with db.transaction(inst) as s:
        d = holds.get_debtor(s, debtor)
        now = clock.now(s)
        if off:
            changed = holds.lift(s, d, now, by.strip() or None)
            typer.echo(f"{debtor}: credit hold lifted" if changed else f"{debtor}: was not on hold")
            return
        changed = holds.put_on_hold(s, d, reason.strip(), now, key=f"{d.number}:hold:{now.isoformat()}")
        typer.echo(f"{debtor}: on credit hold" if changed else f"{debtor}: already on hold since {d.hold_since}")


@app.command()
def holds(as_json: JsonOpt = False) -> None:
    """Debtors on credit hold."""
    from dunning import holds as holds_

    with db.transaction(_installation()) as s:
        rows = [
            {"debtor": d.number, "name": d.name, "since": d.hold_since.isoformat(), "reason": d.hold_reason}
            for d in holds_.on_hold(s)
        ]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        typer.echo("No debtors on hold.")
    for r in rows:
        since = clock.local(datetime.fromisoformat(r["since"])).strftime("%Y-%m-%d")
        typer.echo(f"{r['debtor']:<12} since {since}  {r['name']}: {r['reason']}")


@app.command("tasks")
def list_tasks(as_json: JsonOpt = False) -> None:
    """Open calls, approvals and disputes, oldest first (a dispute with who sorts it out and by when)."""
    from dunning import human_tasks

    inst = _installation()
    with db.transaction(inst) as s:
        rows = [
            {
                "invoice": t.invoice.number,
                "debtor": t.invoice.debtor.name,
                "kind": t.kind.value,
                "step": t.step,
                "since": t.created_at.isoformat(),
                "responsible": t.assignee,
                "due_on": t.due_on.isoformat() if t.due_on else None,
                "also_for": [j.invoice.number for j in human_tasks.joined_to(s, t)],
            }
            for t in human_tasks.all_open(s)
        ]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        typer.echo("No open tasks.")
    for r in rows:
        since = clock.local(datetime.fromisoformat(r["since"])).strftime("%Y-%m-%d %H:%M")
        due = f"  due {r['due_on']} ({r['responsible'] or 'nobody named'})" if r["due_on"] else ""
        also = f"  (also for {', '.join(r['also_for'])})" if r["also_for"] else ""
        typer.echo(f"{r['invoice']:<14} {r['kind']:<9} {r['step']:<26} since {since}  {r['debtor']}{due}{also}")


@app.command()
def overview(as_json: JsonOpt = False) -> None:
    """What needs a person today: open tasks, letters to post, credit holds, warnings."""
    from dunning import overview as overview_

    inst = _installation()
    with db.transaction(inst) as s:
        found = overview_.build(s, inst, clock.now(s))
    if as_json:
        _print_json(found)
    else:
        typer.echo(overview_.as_markdown(found), nl=False)


letters_app = typer.Typer(help="The print queue: letters waiting to be posted.")
app.add_typer(letters_app, name="letters")


@letters_app.callback(invoke_without_command=True)
def letters(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the letters waiting to be posted, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from dunning import print_queue

    inst = _installation()
    with db.transaction(inst) as s:
        rows = [
            {
                "invoice": print_queue.invoice_number(s, m),
                "step": m.step,
                "printed_on": print_queue.printed_on(m).isoformat(),
                "address": m.recipient,
                "file": str(print_queue.file_for(inst, m)),
            }
            for m in print_queue.waiting(s)
        ]
    if as_json:
        _print_json(rows)
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
    from dunning import print_queue

    inst = _installation()
    with db.transaction(inst) as s:
        now = clock.now(s)
        day = parse_date(on) if on else clock.local(now).date()
        if day > clock.local(now).date():
            raise UserError(f"--date {day.isoformat()} is in the future")
        done = print_queue.mark_posted(s, inst, day, now)
        lines = print_queue.describe(s, done, day)
    typer.echo("\n".join(lines) if lines else f"No letters waiting to be posted on {day.isoformat()}.")


# --- the engine -------------------------------------------------------------------------------------------


@app.command()
def sweep(timeout: Annotated[float, typer.Option(help="Seconds to wait for the runs.")] = 300) -> None:
    """Start, wake and restart runs now; return when they have reached their next pause or end."""
    import asyncio

    inst = _installation()
    _prefect_env(inst)
    from dunning import policies
    from tasks.sweep import rate_warnings, sweep_once, wait_until_settled

    policies.load(inst.home)  # a mistake in the policy file is named here, not in every run

    for warning in rate_warnings(inst):
        typer.echo(warning, err=True)
    mark = _dossier_mark(inst)
    report = _engine_call(lambda: asyncio.run(sweep_once(inst)), inst)
    if not report.touched:
        typer.echo("Nothing to do.")
        return
    states = asyncio.run(wait_until_settled(list(report.touched.values()), timeout))
    for label, runs in (("started", report.started), ("woken", report.woken), ("restarted", report.restarted)):
        for number, run_id in sorted(runs.items()):
            typer.echo(f"{number}: {label} -> {states.get(run_id)}: {_describe(inst, number, mark)}")


@app.command()
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
    from dunning.human_tasks import CallOutcome, complete_call
    from dunning.models import TaskKind

    if reached is None:
        raise UserError("say --reached or --not-reached")
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
        promised_on=parse_date(promise, "promise date") if promise else None,
        note=note,
        by=by,
        promised_amount=parse_amount(amount) if amount is not None else None,
        excuse=excuse.strip(),
        summarised=summarised,
        dispute=dispute.strip(),
        plan_requested=plan_requested,
        send_copy=send_copy,
    )
    def complete(s: Any, t: Any, now: datetime) -> bool:
        from dunning import invoices, policies

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


@app.command()
def approve(
    invoice: str,
    by: Annotated[str, typer.Option(help="Your name.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject instead of approve.")] = False,
    reason: Annotated[str, typer.Option(help="Why (required with --reject).")] = "",
) -> None:
    """Answer the open approval of an invoice and resume its run."""
    from dunning.human_tasks import ApprovalAnswer, complete_approval
    from dunning.models import TaskKind

    if not by.strip():
        raise UserError("--by needs a name")
    if reject and not reason.strip():
        raise UserError("--reject needs --reason")
    answer = ApprovalAnswer(approved=not reject, by=by.strip(), reason=reason.strip())
    _answer(invoice, TaskKind.approval, lambda s, t, now: complete_approval(s, t, answer, now))


def _answer(invoice: str, kind: Any, complete: Any) -> None:
    """Record the answer in the database first (it is the truth), then resume the run with the same input.
    Should the resume fail, the next sweep hands the run the recorded answer. A call joined to another
    invoice's call (one call per debtor) is answered there, and every run it answered goes on."""
    import asyncio

    from dunning import human_tasks, invoices
    from dunning.models import HumanTask

    inst = _installation()
    with db.transaction(inst) as s:
        task = human_tasks.open_task_of(s, invoices.get(s, invoice), kind)
        lead = task.invoice
        if not lead.flow_run_id:
            raise UserError(f"invoice {lead.number} has no run")
        run_id, task_id, number = lead.flow_run_id, task.id, lead.number
    mark = _dossier_mark(inst)
    _prefect_env(inst)
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from tasks.sweep import form_input, wait_until_settled, wake

    with db.transaction(inst) as s:
        task = s.get_one(HumanTask, task_id)
        others = [(j.invoice.number, j.invoice.flow_run_id) for j in human_tasks.joined_to(s, task)]
        complete(s, task, clock.now(s))
        run_input = form_input(task)
        invoices.get(s, number).wake_at = clock.now(s)  # if the resume below fails, the next sweep delivers it
    # The wake-up stays set: clearing it here could wipe the one the resumed run sets; at worst the next sweep
    # wakes the run once more, and it decides the same again.
    try:
        _engine_call(lambda: resume_flow_run(run_id, run_input=run_input), inst)
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
        typer.echo(f"{n}: {kind.value} recorded; run -> {state}: {_describe(inst, n, mark)}")


def _engine_call(fn: Any, inst: Installation) -> Any:
    try:
        return fn()
    except (OSError, RuntimeError) as e:
        if "connect" in str(e).lower() or isinstance(e, OSError):
            raise UserError(f"cannot reach the engine at {inst.prefect_api_url}: is `dunning run` running?") from None
        raise
    except Exception as e:  # httpx errors: keep the message, drop the traceback
        if type(e).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout"):
            raise UserError(f"cannot reach the engine at {inst.prefect_api_url}: is `dunning run` running?") from None
        raise


def _dossier_mark(inst: Installation) -> int:
    from sqlalchemy import func, select

    from dunning.models import DossierEntry

    with db.transaction(inst) as s:
        return s.scalar(select(func.max(DossierEntry.id))) or 0


def _describe(inst: Installation, number: str, since_entry: int) -> str:
    """What happened to an invoice since `since_entry`, and what it waits for now."""
    from sqlalchemy import select

    from dunning import invoices
    from dunning.models import DossierEntry, HumanTask, TaskStatus

    with db.transaction(inst) as s:
        inv = invoices.get(s, number)
        new = s.scalars(
            select(DossierEntry)
            .where(DossierEntry.invoice_id == inv.id, DossierEntry.id > since_entry)
            .order_by(DossierEntry.id)
        )
        parts = [e.summary for e in new]
        task = s.scalars(
            select(HumanTask).where(HumanTask.invoice_id == inv.id, HumanTask.status == TaskStatus.open)
        ).first()
        if inv.closed_reason:
            parts.append(f"closed ({inv.closed_reason})")
        elif task:
            parts.append(f"waiting for {task.kind.value} task {task.step}")
        elif inv.wake_at:
            parts.append(f"waiting until {clock.local(inv.wake_at).strftime('%Y-%m-%d %H:%M')}")
    return "; ".join(parts) or "no change"


# --- time -------------------------------------------------------------------------------------------------


@clock_app.command("set")
def clock_set(moment: str) -> None:
    """Put the installation (all its processes) on simulated time, e.g. 2026-12-01T09:00 (Amsterdam)."""
    at = parse_moment(moment)
    with db.transaction(_installation()) as s:
        clock.set_simulated(s, at)
    typer.echo(f"simulated time: {clock.local(at).isoformat()}")


@clock_app.command("advance")
def clock_advance(days: Annotated[float, typer.Argument(help="Days to move simulated time forward.")]) -> None:
    """Move simulated time forward (starts from real time when not yet simulated)."""
    with db.transaction(_installation()) as s:
        at = clock.now(s) + timedelta(days=days)
        clock.set_simulated(s, at)
    typer.echo(f"simulated time: {clock.local(at).isoformat()}")


@clock_app.command("real")
def clock_real() -> None:
    """Back to real time."""
    with db.transaction(_installation()) as s:
        clock.set_real(s)
    typer.echo(f"real time: {clock.local(datetime.now(UTC)).isoformat()}")


@clock_app.command("show")
def clock_show() -> None:
    with db.transaction(_installation()) as s:
        kind = "simulated" if clock.simulated_offset(s) else "real"
        typer.echo(f"{kind} time: {clock.local(clock.now(s)).isoformat()}")


@app.command()
def run(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200,
    smtp_port: Annotated[int, typer.Option(help="Port of the local mail sink.")] = 8025,
    demo: Annotated[bool, typer.Option(help="Load demo invoices into an empty database.")] = True,
) -> None:
    """Start everything in the foreground: Prefect server, the served deployments and a local mail sink."""
    from dunning.engine import run_engine

    run_engine(port=port, smtp_port=smtp_port, demo=demo)


def _register_more() -> None:
    from dunning import cli_desk, cli_law, cli_letters

    # The installation's own law/ folder may add rate rows and Atw days (dunning/law/data/README.md).
    cli_law.register(app, law_dir=lambda: config.home() / "law")
    cli_letters.register(app, home=config.home)
    cli_desk.register(app)


_register_more()


def main() -> None:
    try:
        app(standalone_mode=False)
    except UserError as e:
        typer.echo(f"dunning: error: {e}", err=True)
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.TyperException as e:
        # typer bundles its own click: usage mistakes arrive as TyperException subclasses, not click's.
        if type(e).__name__ == "NoArgsIsHelpError":
            typer.echo(e.format_message(), err=True)
            sys.exit(0)
        message = " ".join(e.format_message().split())
        typer.echo(f"dunning: error: {message}", err=True)
        sys.exit(2 if e.exit_code == 1 else e.exit_code)
