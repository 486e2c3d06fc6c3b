"""One flow run per invoice: the Dutch collection ladder with people in the loop.

Every pass reads the facts and asks `decide` what is due now; waiting days or weeks holds no process (the run
is suspended and the sweep resumes it), and a person's answer resumes it through a form. A resumed run
replays from the top: every step below is idempotent in the database, so nothing happens twice.

While it is suspended the run carries a tag saying what for (`awaiting:call`, `awaiting:approval`,
`awaiting:dispute`, or `waiting` for the calendar; tasks/run_tags.py), and the debtor's name; its forms are in
the installation's language (settings.toml `language`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.flow_runs import suspend_flow_run

from dunning.domain.kinds import TaskKind
from dunning.domain.ladder import Approve, BreakPlan, Call, Close, HandOff, Park, RefuseIncasso, Send, Wait, decide
from dunning.domain.policy import Policy
from dunning.domain.steps import Step
from dunning.domain.wakeups import PauseKey
from dunning.messaging.mailer import TransientMailError
from flows.forms import approval_form, call_form, dispute_form
from flows.pausing import answerable_key
from tasks import run_tags
from tasks.casework import (
    break_plan,
    close_case,
    hand_off,
    hold_debtor,
    open_approval,
    open_call,
    open_dispute_step,
    read_situation,
    record_approval,
    record_call,
    record_resolution,
    refuse_incasso,
    schedule_wake,
    wake_runs,
)
from tasks.messages import HELD, letter_instead, plan_route, print_letter, send_step
from tasks.runtime import installation

# Suspended runs fail when their pause times out; a collection case may wait for months.
PAUSE_TIMEOUT = int(timedelta(days=3650).total_seconds())


@flow(name="collect-invoice", flow_run_name="{invoice_number}", persist_result=False)
async def collect_invoice(invoice_number: str) -> str:
    # Started, woken or resumed: no longer waiting for anyone (a wait it no longer needs is not reached again).
    await run_tags.going_on(invoice_number)
    while True:
        facts, now, policy = read_situation(invoice_number)
        match decide(facts, policy, now, law_dir=installation().law_dir):
            case Close(reason):
                return close_case(invoice_number, reason)
            case Wait(until, reason):
                await wait_until(invoice_number, until, reason)
            case Park(reason):
                await sort_out_dispute(invoice_number, reason)
            case BreakPlan(plan_id, reason):
                break_plan(invoice_number, plan_id, reason)
            case Call(step, reason, broken_promise):
                await call_debtor(invoice_number, step, reason, broken_promise, now)
            case Send(step):
                await send_message(invoice_number, step, now, policy)
            case Approve(step, question):
                await ask_approval(invoice_number, step, question)
            case RefuseIncasso(missing):
                refuse_incasso(invoice_number, missing)
            case HandOff():
                hand_off(invoice_number)


async def wait_until(invoice_number: str, until: datetime, reason: str) -> None:
    schedule_wake(invoice_number, until, reason)
    get_run_logger().info("Waiting until %s: %s", until.isoformat(), reason)
    # A fresh key: this pause is new every time, so a replay that must still wait suspends again.
    await _suspend(None, key=str(PauseKey.wait()))


async def stand_still(invoice_number: str, reason: str) -> None:
    """No wake-up time: whoever changes the facts (resolving a dispute, answering the call this one joined)
    sets one, and the sweep wakes the run. The stored wake-up is left alone: it may already say "now"."""
    get_run_logger().info("Standing still: %s", reason)
    await _suspend(None, key=str(PauseKey.wait()))


async def sort_out_dispute(invoice_number: str, reason: str) -> None:
    """Escalation stands still; the person responsible resolves the dispute in this run's form (or with
    `dunning resolve`, which hands the run the recorded answer)."""
    human = open_dispute_step(invoice_number)
    if human is None:
        await stand_still(invoice_number, reason)
        return
    get_run_logger().info("Standing still: %s", reason)
    await create_markdown_artifact(
        key=_artifact_key("dispute", invoice_number), markdown=human.description, description="Dispute"
    )
    form = await _suspend(
        "dispute",
        wait_for_input=dispute_form(installation().language).with_initial_data(description=human.description),
        # A refused answer is asked again under a new key.
        key=await answerable_key(str(PauseKey.for_task(TaskKind.dispute, human.task_id, human.attempt))),
    )
    record_resolution(human.task_id, form.resolution(), form.labels())


async def call_debtor(
    invoice_number: str, step: Step, reason: str, broken_promise: date | None, now: datetime
) -> None:
    human = open_call(invoice_number, step, reason, broken_promise)
    if not human.is_open:
        return
    if human.joined_to is not None:
        # Its answer wakes this run; the daily look is a safety net should that wake-up ever go astray.
        schedule_wake(invoice_number, now + timedelta(days=1), "one call per debtor")
        await stand_still(invoice_number, f"one call per debtor: the call about {human.joined_to} answers this one")
        return
    await create_markdown_artifact(
        key=_artifact_key("call-sheet", invoice_number), markdown=human.description, description="Call sheet"
    )
    form = await _suspend(
        "call",
        wait_for_input=call_form(installation().language).with_initial_data(description=human.description),
        # Stable: a replay after the answer gets the stored answer back.
        key=await answerable_key(str(PauseKey.for_task(TaskKind.call, human.task_id))),
    )
    joined = record_call(human.task_id, form.outcome())
    if joined:
        await wake_runs(joined)


async def ask_approval(invoice_number: str, step: Step, question: str) -> None:
    human = open_approval(invoice_number, step, question)
    if not human.is_open:
        return
    if human.joined_to is not None:
        # One letter for the debtor's invoices: the approval asked with the other invoice answers this one too.
        await stand_still(invoice_number, f"one letter per debtor: the approval of {human.joined_to} answers this one")
        return
    form = await _suspend(
        "approval",
        wait_for_input=approval_form(installation().language).with_initial_data(description=human.description),
        key=await answerable_key(str(PauseKey.for_task(TaskKind.approval, human.task_id))),
    )
    joined = record_approval(human.task_id, form.answer())
    if joined:
        await wake_runs(joined)


async def send_message(invoice_number: str, step: Step, now: datetime, policy: Policy) -> None:
    if step.sends == policy.hold_after:
        hold_debtor(invoice_number, f"{step} of invoice {invoice_number}")
    channels = plan_route(invoice_number, step)
    for channel in channels:
        if channel == "email":
            try:
                status = await send_step(invoice_number, step)
            except TransientMailError as error:
                # The message stays queued; try again at the outbox's next try without holding a process.
                await wait_until(invoice_number, error.retry_at or now + timedelta(minutes=15),
                                 f"mail server unavailable for the {step}: {error}")
                continue
            if status == HELD:
                await wait_until(invoice_number, now + timedelta(days=1),
                                 f"the {step} waits for a person to confirm its interest rate")
                continue
            if not (status == "refused" and "letter" not in channels and letter_instead(invoice_number, step)):
                continue
            # The mail server refused the e-mail for good (the overview shows it): the step goes on paper.
        if print_letter(invoice_number, step) == "queued":
            # Marked posted, the run goes on at the next sweep; until then it looks again every day.
            await wait_until(invoice_number, now + timedelta(days=1), f"the {step} letter is waiting to be posted")


async def _suspend(awaiting: str | None, **pause: Any) -> Any:
    """Suspend, tagged with what the run waits for: `awaiting` a person ("call", "approval", "dispute") or,
    when None, the calendar. Returns the answer, if any, when the pause hands the run one (a replay after it)."""
    await (run_tags.awaiting(awaiting) if awaiting else run_tags.waiting())
    answer = await suspend_flow_run(timeout=PAUSE_TIMEOUT, **pause)
    await run_tags.going_on()
    return answer


def _artifact_key(prefix: str, invoice_number: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in invoice_number.lower())
    return f"{prefix}-{slug}"
