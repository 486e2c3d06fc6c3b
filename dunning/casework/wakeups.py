"""What the sweep finds to do (`due`), and waking a paused run: the domain's rule (`dunning.domain.wakeups`)
applied to the stored task it waits on. A question that went away is cancelled here; what the run is handed
comes back as the form's input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from dunning.casework import answers, human_tasks, invoices, policies
from dunning.domain.kinds import LineStatus
from dunning.domain.ladder import collection_starts
from dunning.domain.policy import Policy
from dunning.domain.time import local
from dunning.domain.wakeups import Hand, PauseKey, answer_on_waking, courtesy_call_day, courtesy_call_due
from dunning.storage.models import BankLine, Debtor, DossierEntry, HumanTask, Invoice

COURTESY_WINDOW_DAYS = 31  # the sweep looks this far ahead for courtesy calls, whatever a policy says
# A run is resumed within a second of its wake-up being taken and reads its situation within seconds of that (a
# worker busy with a morning's wake-ups: minutes); a wake-up taken longer ago than this was lost with the process
# that took it, and the sweep takes it again (a run resumed meanwhile is left alone: it is not paused).
RESUME_LEASE = timedelta(minutes=5)


@dataclass
class Due:
    """What the sweep is to do now: every list is what is due, never the whole book."""

    start: list[tuple[str, str]] = field(default_factory=list)  # (invoice, debtor number): runs to start
    wake: list[tuple[str, str]] = field(default_factory=list)  # (invoice, run id): runs whose time has come
    ask: list[int] = field(default_factory=list)  # unmatched bank lines without a run asking a person
    decided: list[tuple[int, str]] = field(default_factory=list)  # (bank line, run id): decided elsewhere


def due(session: Session, home: Path, now: datetime) -> Due:
    """The sweep's decisions at `now`, in a handful of indexed queries: open invoices past their due date
    without a run, courtesy calls whose day has come, runs whose wake-up time has come, bank lines to ask a
    person about, and runs of bank lines decided elsewhere. The policies are read once."""
    today = local(now).date()
    found = Due()
    unstarted = (Invoice.flow_run_id.is_(None), Invoice.closed_reason.is_(None))
    newly_due = (select(Invoice.number, Debtor.number).join(Debtor, Debtor.id == Invoice.debtor_id)
                 .where(*unstarted, Invoice.due_date < today, invoices.is_open_sql()).order_by(Invoice.id))
    found.start = [(number, debtor) for number, debtor in session.execute(newly_due)]
    found.start += _courtesy_calls_due(session, home, today)
    wakes = (select(Invoice.number, Invoice.flow_run_id)
             .where(Invoice.flow_run_id.is_not(None), _wake_due(now)).order_by(Invoice.id))
    found.wake = [(number, run_id) for number, run_id in session.execute(wakes) if run_id is not None]
    found.ask = list(session.scalars(select(BankLine.id).where(
        BankLine.status == LineStatus.unmatched, BankLine.flow_run_id.is_(None)).order_by(BankLine.id)))
    found.decided = [(line_id, str(run_id)) for line_id, run_id in session.execute(select(
        BankLine.id, BankLine.flow_run_id).where(
        BankLine.flow_run_id.is_not(None), BankLine.status != LineStatus.unmatched).order_by(BankLine.id))]
    return found


def _courtesy_calls_due(session: Session, home: Path, today: date) -> list[tuple[str, str]]:
    """Not yet due, but the debtor pays late as a rule and the courtesy call's day has come: only invoices within
    the longest courtesy-call term of any policy are read, and the paid history of their debtors alone."""
    default, named, by_debtor = policies.load(home)
    calling = [p for p in (default, *named.values()) if p.late_payer_invoices > 0]
    if not calling:
        return []
    ahead = min(COURTESY_WINDOW_DAYS, max(p.courtesy_call_days for p in calling))
    soon = (select(Invoice.id, Invoice.number, Invoice.due_date, Invoice.debtor_id, Debtor.number)
            .join(Debtor, Debtor.id == Invoice.debtor_id)
            .where(Invoice.flow_run_id.is_(None), Invoice.closed_reason.is_(None), Invoice.due_date >= today,
                   Invoice.due_date <= today + timedelta(days=ahead), invoices.is_open_sql())
            .order_by(Invoice.id))
    candidates = []
    for invoice_id, number, due_date, debtor_id, debtor in session.execute(soon):
        policy = named[by_debtor[debtor]] if debtor in by_debtor else default
        if courtesy_call_day(due_date, today, policy):
            candidates.append((invoice_id, number, due_date, debtor_id, debtor, policy))
    # Each candidate is open, so it is in no debtor's paid history: one read of the histories serves them all.
    histories = invoices.lateness_histories(session, {c[3] for c in candidates}, but={c[0] for c in candidates})
    return [(number, debtor) for _id, number, due_date, debtor_id, debtor, policy in candidates
            if courtesy_call_due(due_date, today, histories.get(debtor_id, ()), policy)]


@dataclass(frozen=True)
class Waking:
    resume: bool
    run_input: dict | None = None


def _wake_due(now: datetime) -> ColumnElement[bool]:
    """The run's wake-up has come, or one taken to resume it was never seen through (`RESUME_LEASE`)."""
    return or_(Invoice.wake_at <= now, Invoice.resumed_at <= now - RESUME_LEASE)


def take_due_wake_up(session: Session, number: str, now: datetime) -> bool:
    """Clear the invoice's wake-up if it is still due: True for one of several sweeps at once (the row is locked
    by the first to write, and the others find it cleared), False once it was taken or moved to a later moment.
    The first write of its transaction, so that SQLite takes its write lock before reading the row."""
    taken = session.execute(
        update(Invoice).where(Invoice.number == number, _wake_due(now)).values(wake_at=None, resumed_at=None)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]  # a CursorResult for an UPDATE


def on_waking(session: Session, invoice: Invoice, pause_key: str, now: datetime, policy: Policy) -> Waking:
    """The run of `invoice`, paused under `pause_key`, is to be woken now (its wake-up came, or its facts
    changed): clear the wake-up and say whether to resume it, and with what. One to resume is marked as taken
    (`resumed_at`) until the run starts (`run_started`): the caller resumes it after this commits, and should it
    die in between, nothing else would ever wake the run."""
    invoice.wake_at = None
    waking = _waking(session, invoice, pause_key, now, policy)
    invoice.resumed_at = now if waking.resume else None
    return waking


def run_started(session: Session, invoice: Invoice) -> None:
    """The run took its wake-up (it reads its situation): nothing to take again."""
    invoice.resumed_at = None


def _waking(session: Session, invoice: Invoice, pause_key: str, now: datetime, policy: Policy) -> Waking:
    key = PauseKey.parse(pause_key)
    if key is None:
        return Waking(False)
    if key.kind is None:
        return Waking(True)  # waiting for a moment, or standing still: it looks at the facts again
    task = session.get(HumanTask, key.task_id)
    if task is None:
        return Waking(False)
    outcome = task.outcome or {}
    answer = answer_on_waking(
        task.step,
        task.status,
        outcome.get("cancelled"),
        invoices.open_amount(session, invoice),
        now,
        collection_starts(invoice.due_date, policy),
    )
    match answer.hand:
        case Hand.not_yet:
            invoice.wake_at = answer.until
            return Waking(False)
        case Hand.moot:
            human_tasks.cancel_open(session, invoice, now, answer.why)
            return Waking(True, answers.moot_form_input(task, answer.why))
        case Hand.set_aside:
            return Waking(True, answers.moot_form_input(task, answer.why))
        case Hand.recorded:
            return Waking(True, answers.form_input(task))
    return Waking(False)


def wake_held_for_rates(session: Session, now: datetime) -> list[str]:
    """A person confirmed a rate row: every open invoice whose message was held for an unconfirmed row looks again
    at the next sweep instead of tomorrow (a message still held for another row is held again, with its note)."""
    held = (
        select(Invoice)
        .join(DossierEntry, DossierEntry.invoice_id == Invoice.id)
        .where(Invoice.closed_reason.is_(None), DossierEntry.kind == "note", DossierEntry.key.like("%:held-rates:%"))
        .distinct()
    )
    woken = []
    for invoice in session.scalars(held):
        if invoice.wake_at is None or invoice.wake_at > now:
            invoice.wake_at = now
        woken.append(invoice.number)
    return sorted(woken)
