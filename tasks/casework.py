"""Reading and writing the invoice's facts: the database work of each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from dunning.casework import answers, cases, disputes, facts, human_tasks, invoices, plans, policies, wakeups
from dunning.casework.human_tasks import ApprovalAnswer, CallOutcome
from dunning.desk import excuses, incasso, sheets
from dunning.domain.errors import InvalidInput, UserError
from dunning.domain.kinds import PlanStatus, TaskStatus
from dunning.domain.ladder import Facts, collection_starts
from dunning.domain.policy import Policy
from dunning.domain.steps import LADDER, Message, Step, StepKind
from dunning.messaging import combining, compose
from dunning.storage import clock, db
from dunning.storage.models import PaymentPlan
from tasks.runtime import installation


@dataclass(frozen=True)
class HumanStep:
    task_id: int
    is_open: bool
    description: str
    joined_to: str | None = None  # the invoice whose call answers this one (one call per debtor)
    attempt: int = 0  # answers refused so far (a dispute resolution the database could not take)


@task(cache_policy=NO_CACHE)
def read_situation(invoice_number: str) -> tuple[Facts, datetime, Policy]:
    """Fresh facts and policy at every wake-up: never cached, so a payment, an answer or a changed policy is
    always seen."""
    inst = installation()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        wakeups.run_started(s, invoice)
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        return facts.load(s, invoice), clock.now(s), policy


@task(cache_policy=NO_CACHE)
def schedule_wake(invoice_number: str, until: datetime, reason: str) -> None:
    """The earlier of `until` and a wake-up set since the run last woke (a payment, a dispute resolved, an
    answered call: the sweep clears it when it wakes the run, so any value left is news)."""
    with db.transaction(installation()) as s:
        invoice = invoices.get(s, invoice_number)
        invoice.wake_at = until if invoice.wake_at is None else min(invoice.wake_at, until)


@task(cache_policy=NO_CACHE)
def open_call(invoice_number: str, step: Step, reason: str, broken_promise: date | None = None) -> HumanStep:
    with db.transaction(installation()) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        if broken_promise is not None:
            cases.note_broken_promise(s, invoice, step, broken_promise, now)
        t = human_tasks.open_call(s, invoice, step, now)
        if (lead := human_tasks.lead_of(s, t)) is not None:
            return HumanStep(t.id, True, "", joined_to=lead.invoice.number)
        if step.kind is StepKind.courtesy_call and t.status.value == "open":
            # Should nobody make it before the invoice falls due, the sweep sets it aside then.
            policy = policies.policy_for(installation().home, invoice.debtor.number)
            invoice.wake_at = collection_starts(invoice.due_date, policy)
        copy = installation().invoice_copy(invoice.number)
        sheet = sheets.call_sheet(s, invoice, t, reason, _excuses(), language=installation().language,
                                  missing_copy=None if copy.is_file() else copy)
        return HumanStep(t.id, t.status.value == "open", sheet)


def _excuses() -> tuple[excuses.Excuse, ...]:
    """The team's list; a mistake in its file must not stop a call (it is named in the log and the overview)."""
    try:
        return excuses.load(installation().home)
    except UserError as e:
        get_run_logger().warning("%s; the call sheet shows the built-in list", e)
        return excuses.BUILT_IN


@task(cache_policy=NO_CACHE)
def record_call(task_id: int, outcome: CallOutcome) -> list[str]:
    """Record the outcome; returns the other invoices the same call answered (their runs are to be woken)."""
    inst = installation()
    with db.transaction(inst) as s:
        t = s.get_one(human_tasks.HumanTask, task_id)
        days = policies.policy_for(inst.home, t.invoice.debtor.number).dispute_days
        joined = [j.invoice.number for j in human_tasks.joined_to(s, t)]
        answers.complete_call(s, t, outcome, clock.now(s), dispute_days=days)
        return joined


@task(cache_policy=NO_CACHE)
async def wake_runs(invoice_numbers: list[str]) -> None:
    """Wake the runs a call answered, now rather than at the next sweep."""
    from prefect.client.orchestration import get_client

    from tasks.sweep import wake

    inst = installation()
    with db.transaction(inst) as s:
        runs = [(n, invoices.get(s, n).flow_run_id) for n in invoice_numbers]
    async with get_client() as client:
        for number, run_id in runs:
            if run_id:
                await wake(client, inst, number, run_id)


@task(cache_policy=NO_CACHE)
def open_approval(invoice_number: str, step: Step, question: str) -> HumanStep:
    """The approval to ask; when the formal letter it approves covers the debtor's other invoices due for it too
    (`messaging.combining`), asked once for all of them: this one then joins the first one asked."""
    inst = installation()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        letter = _letter_approved(step)
        joins = letter is not None and combining.combines(letter, invoice.debtor, policy)
        t = human_tasks.open_approval(s, invoice, step, now, joins=joins)
        if (lead := human_tasks.lead_of(s, t)) is not None:
            return HumanStep(t.id, True, "", joined_to=lead.invoice.number)
        preview = None
        if step.gate in LADDER and invoice.debtor.email:
            # The approver reads the message itself, naming every invoice whose approval joined this one (the
            # incasso hand-off has none: the sheet says what goes).
            also = [j.invoice for j in human_tasks.joined_to(s, t)]
            preview = compose.preview_email(s, inst, invoice, Step.send(step.gate), now, policy, also=also)
        return HumanStep(t.id, t.status.value == "open", sheets.approval_sheet(s, invoice, question, preview,
                                                                              language=installation().language))


def _letter_approved(step: Step) -> Message | None:
    """The formal letter an approval lets go: the ingebrekestelling, or for the hand-off its announcement."""
    if step.gate == "incasso":
        return Message.incasso_aankondiging
    return Message(step.gate) if step.gate in LADDER else None


@task(cache_policy=NO_CACHE)
def open_dispute_step(invoice_number: str) -> HumanStep | None:
    """The dispute this invoice's escalation stands still for, with the sheet its resolver reads."""
    with db.transaction(installation()) as s:
        invoice = invoices.get(s, invoice_number)
        t = human_tasks.open_dispute(s, invoice)
        if t is None:
            return None
        refused = (t.outcome or {}).get("refused") or []
        sheet = sheets.dispute_sheet(s, invoice, t, refused[-1] if refused else None,
                                     language=installation().language)
        return HumanStep(t.id, True, sheet, attempt=len(refused))


@task(cache_policy=NO_CACHE)
def record_resolution(task_id: int, resolution: disputes.Resolution, labels: dict[str, str]) -> bool:
    """Resolve the dispute as answered in the form; an answer the facts do not allow (a credit above what is
    open) is kept with the task and shown on the next form, in the form's words (`labels`), never a failed run."""
    with db.transaction(installation()) as s:
        t = s.get_one(human_tasks.HumanTask, task_id)
        if t.status is not TaskStatus.open:
            return False  # resolved from the CLI, or set aside: the run sees what happened
        try:
            disputes.resolve(
                s,
                t.invoice,
                upheld=resolution.upheld,
                now=clock.now(s),
                by=resolution.by,
                reason=resolution.reason,
                credit=resolution.credit,
                write_off=resolution.write_off,
            )
        except UserError as e:
            problem = e.phrased(labels.get(e.field, e.field)) if isinstance(e, InvalidInput) else str(e)
            get_run_logger().warning("dispute answer not recorded: %s", problem)
            outcome = t.outcome or {}
            t.outcome = {**outcome, "refused": [*(outcome.get("refused") or []), problem]}
            return False
        return True


@task(cache_policy=NO_CACHE)
def hold_debtor(invoice_number: str, reason: str) -> bool:
    """The policy's credit hold: once per invoice, however often the step replays (a hold lifted by hand
    afterwards stays lifted)."""
    with db.transaction(installation()) as s:
        invoice = invoices.get(s, invoice_number)
        return cases.hold_by_policy(s, invoice, reason, clock.now(s))


@task(cache_policy=NO_CACHE)
def record_approval(task_id: int, answer: ApprovalAnswer) -> list[str]:
    """Record the answer (once); returns the other invoices it answered too (their runs are to be woken)."""
    with db.transaction(installation()) as s:
        t = s.get_one(human_tasks.HumanTask, task_id)
        answers.complete_approval(s, t, answer, clock.now(s))
        return [j.invoice.number for j in human_tasks.joined_with(s, t)]


@task(cache_policy=NO_CACHE)
def break_plan(invoice_number: str, plan_id: int, reason: str) -> None:
    with db.transaction(installation()) as s:
        plan = s.get_one(PaymentPlan, plan_id)
        plans.end(s, plan, PlanStatus.broken, reason, clock.now(s))


@task(cache_policy=NO_CACHE)
def close_case(invoice_number: str, reason: str) -> str:
    with db.transaction(installation()) as s:
        cases.close(s, invoices.get(s, invoice_number), reason, clock.now(s))
    return reason


class IncassoRefused(Exception):
    """The incasso gate found the ladder incomplete: nothing is handed off."""


@task(cache_policy=NO_CACHE)
def refuse_incasso(invoice_number: str, missing: tuple[str, ...]) -> None:
    with db.transaction(installation()) as s:
        text = cases.refuse_incasso(s, invoices.get(s, invoice_number), missing, clock.now(s))
    raise IncassoRefused(f"{invoice_number}: {text}")


@task(cache_policy=NO_CACHE)
def hand_off(invoice_number: str) -> str:
    """Record the hand-off and export the dossier for the agency (written before the record, so a replay
    rewrites the same file and never records twice)."""
    inst = installation()
    with db.transaction(inst) as s:
        invoice = invoices.get(s, invoice_number)
        now = clock.now(s)
        path = incasso.export(s, inst, invoice, now)  # the JSON, and the archive beside it (incasso/<invoice>.zip)
        incasso.record_hand_off(s, invoice, path.name, now)
    return str(path)
