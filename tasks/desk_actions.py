"""The I/O of the desk actions a person starts from the Prefect UI (flows/desk_actions.py): each action in one
transaction through `dunning.casework.desk_actions`, as the `dunning` verb does it; the invoice's run woken as
the verb wakes it; a statement of account sent now; one file of an inbox imported now, as the scheduled import
would take it in."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from sqlalchemy.orm import Session

from dunning.casework import desk_actions, invoices
from dunning.casework.desk_actions import Done
from dunning.domain.errors import InvalidInput, UserError
from dunning.domain.kinds import Channel
from dunning.storage import clock, db
from dunning.storage.config import Installation
from tasks import inbox as inbox_files
from tasks.bank import inbox as bank_inbox
from tasks.bank import take_in_statement
from tasks.books import inbox as invoice_inbox
from tasks.books import take_in_file
from tasks.runtime import installation
from tasks.statements import send_statement_now
from tasks.sweep import wake


@dataclass(frozen=True)
class Outcome:
    ok: bool
    line: str  # what was done, as the `dunning` verb prints it; or why not, as the verb's one-line error
    wake: str | None = None  # the invoice whose run is to see the new facts now


def _act(labels: dict[str, str], action: Callable[[Session, datetime], Done]) -> Outcome:
    """One transaction: all of the action, or (a mistake) nothing. `labels` names each value the domain may refuse
    as the form names it."""
    inst = installation()
    try:
        with db.transaction(inst) as s:
            done = action(s, clock.now(s))
    except InvalidInput as e:
        return Outcome(False, e.phrased(labels.get(e.field, e.field)))
    except UserError as e:
        return Outcome(False, str(e))
    return Outcome(True, done.line, done.wake)


@task(cache_policy=NO_CACHE)
def register_payment(invoice: str, amount: str, paid_on: date | None, labels: dict[str, str]) -> Outcome:
    return _act(labels, lambda s, now: desk_actions.register_payment(s, invoice, amount, paid_on, now))


@task(cache_policy=NO_CACHE)
def agree_plan(invoice: str, instalments: list[tuple[date, str]], costs: str, by: str,
               labels: dict[str, str]) -> Outcome:
    return _act(labels, lambda s, now: desk_actions.agree_plan(s, invoice, instalments, costs, by, now))


@task(cache_policy=NO_CACHE)
def credit_hold(debtor: str, reason: str, off: bool, by: str, labels: dict[str, str]) -> Outcome:
    return _act(labels, lambda s, now: desk_actions.credit_hold(s, debtor, reason, off, by, now))


@task(cache_policy=NO_CACHE)
def register_dispute(invoice: str, reason: str, responsible: str, due_on: date | None, by: str,
                     labels: dict[str, str]) -> Outcome:
    home = installation().home
    return _act(labels, lambda s, now: desk_actions.register_dispute(
        s, home, invoice, reason, by, responsible, due_on, now))


@task(cache_policy=NO_CACHE)
def resolve_dispute(invoice: str, upheld: bool, reason: str, credit: str | None, write_off: bool, by: str,
                    labels: dict[str, str]) -> Outcome:
    return _act(labels, lambda s, now: desk_actions.resolve_dispute(
        s, invoice, upheld, reason, credit, write_off, by, now))


@task(cache_policy=NO_CACHE)
def add_note(invoice: str, text: str, by: str, labels: dict[str, str]) -> Outcome:
    return _act(labels, lambda s, now: desk_actions.add_note(s, invoice, text, by, now))


@task(cache_policy=NO_CACHE)
async def send_statement(debtor: str, channel: Channel | None) -> Outcome:
    """The debtor's statement of account now, as `dunning statement DEBTOR --send [--channel]`."""
    try:
        return Outcome(True, await send_statement_now(installation(), debtor, channel))
    except UserError as e:
        return Outcome(False, str(e))


@task(cache_policy=NO_CACHE)
async def wake_run(invoice: str) -> bool:
    """Hand the new facts to the invoice's run now, as `dunning dispute`, `resolve` and `plan` do; should that
    fail, the facts are safe in the database and the next sweep hands them over."""
    inst = installation()
    with db.transaction(inst) as s:
        run_id = invoices.get(s, invoice).flow_run_id
    if run_id is None:
        return False  # not due yet: its run starts with these facts
    try:
        async with get_client() as client:
            woken = await wake(client, inst, invoice, run_id)
    except Exception as e:  # the engine is there (this run talks to it); the run may not be ours to wake now
        get_run_logger().warning("%s: recorded; the run did not take it now (%s: %s); the next sweep hands it "
                                 "over", invoice, type(e).__name__, e)
        return False
    if woken:
        get_run_logger().info("%s: its run was woken to look at the new facts", invoice)
    return woken


# --- one file of an inbox ---------------------------------------------------------------------------------


class Inbox(enum.StrEnum):
    bank = "bank"  # DUNNING_HOME/inbox/bank/: bank statements
    invoices = "invoices"  # DUNNING_HOME/inbox/invoices/: invoices, credit notes, exports, open-items lists


@task(cache_policy=NO_CACHE)
def import_file(inbox: Inbox, file: str) -> Outcome:
    """One file already in the inbox, by name, now: what the scheduled import (tasks/bank.py `import_inbox`,
    tasks/books.py `import_invoice_inbox`) does with it. Whole or not at all: into done/, or failed/ with
    FILE.error.txt saying why."""
    inst = installation()
    folder = bank_inbox(inst) if inbox is Inbox.bank else invoice_inbox(inst)
    path = folder / file
    if Path(file).name != file or file.startswith(".") or not path.is_file():
        return Outcome(False, f"no file {file!r} in {folder}")
    for sub in ("done", "failed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    try:
        summary = _bank_statement(inst, path) if inbox is Inbox.bank else take_in_file(inst, path)
    except UserError as e:
        inbox_files.failed(path, str(e))
        get_run_logger().warning("%s refused, moved to failed/", path.name)
        return Outcome(False, str(e))
    inbox_files.done(path)
    return Outcome(True, summary)


def _bank_statement(inst: Installation, path: Path) -> str:
    return take_in_statement(inst, path).summary()
