"""Sending one ladder step's message through the outbox: at most once, evidence exactly once. The decisions are
`dunning.messaging.sending`'s; these tasks hold the transactions and do the SMTP I/O."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from dunning.casework import invoices
from dunning.domain.kinds import OutboxStatus
from dunning.domain.steps import Step
from dunning.messaging import sending
from dunning.messaging.mailer import (
    InDoubtMailError,
    PermanentMailError,
    TransientMailError,
    deliver_raw,
    smtp_settings,
)
from dunning.storage import clock, db
from tasks import throttle
from tasks.runtime import installation

HELD = "held"  # send_step's status for a message held until a person confirms its interest rate


@task(cache_policy=NO_CACHE)
def plan_route(invoice_number: str, step: Step | str) -> list[str]:
    """The channels this step takes; fallbacks are noted in the dossier, and a step that no channel can carry
    is refused (the incasso gate will then name its evidence as missing)."""
    inst = installation()
    with db.transaction(inst) as s:
        channels = sending.route(s, inst, invoices.get(s, invoice_number), _step(step), clock.now(s))
        return [c.value for c in channels]


@task(cache_policy=NO_CACHE)
def letter_instead(invoice_number: str, step: Step | str) -> bool:
    """The mail server refused the step's e-mail for good: True when it goes by letter instead (noted in the
    dossier either way)."""
    inst = installation()
    with db.transaction(inst) as s:
        return sending.letter_instead(s, invoices.get(s, invoice_number), _step(step), clock.now(s))


@task(cache_policy=NO_CACHE)
def print_letter(invoice_number: str, step: Step | str) -> str:
    """Compose the letter once and put it in the print queue; it counts as sent when marked posted."""
    inst = installation()
    with db.transaction(inst) as s:
        done = sending.print_letter(s, inst, invoices.get(s, invoice_number), _step(step), clock.now(s))
    if done.status == OutboxStatus.refused:
        get_run_logger().warning("%s: %s letter refused: %s", invoice_number, step, done.why)
    elif done.why:
        get_run_logger().info("%s: %s letter %s", invoice_number, step, done.why)
    return done.status


def _soon_again(task: object, task_run: object, state: State) -> bool:
    """Prefect's quick retries are for waiting on another invoice's run that sends this message; a mail server
    fault has the outbox's back-off instead (its `retry_at`), which a retry seconds later would only run into."""
    error = state.data
    return not (isinstance(error, TransientMailError) and error.retry_at is not None)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=_soon_again)
async def send_step(invoice_number: str, step: Step | str) -> str:
    """Queue (once), deliver (at most once), record (exactly once). Returns the outbox status. A temporary mail
    server fault raises TransientMailError with `retry_at`, the outbox's next try; a permanent one returns
    "refused" (the flow may send a letter instead); a delivery in doubt returns "sent" (a person decides)."""
    inst = installation()
    log = get_run_logger()
    with db.transaction(inst) as s:
        invoice, now = invoices.get(s, invoice_number), clock.now(s)
        if (retry_at := sending.not_before(s, invoice, _step(step), now)) is not None:
            raise TransientMailError(f"the mail server failed for the {step}; next try at {retry_at.isoformat()}",
                                     retry_at=retry_at)
        decision = sending.prepare_email(s, inst, invoice, _step(step), now)
    match decision:
        case sending.Settled(status, why):
            if why:
                log.warning("%s: %s by e-mail: %s: %s", invoice_number, step, status, why)
            return status
        case sending.Held(lead=why):
            # Interest at a rate row nobody confirmed: nothing goes out until a person does (noted in the dossier,
            # named in the overview); the run looks again tomorrow.
            log.warning("%s: %s by e-mail held: %s", invoice_number, step, why)
            return HELD
        case sending.WaitForLead(lead):
            # Another invoice's run sends this one message (and records it for us): not yet done, so wait.
            raise TransientMailError(f"goes out in one message with {lead}")
    for warning in decision.warnings:
        log.warning("%s: %s: %s", invoice_number, step, warning)
    try:
        await throttle.wait_for_email_slot(inst)  # the installation's e-mails a minute, over all workers
    except BaseException as error:  # the Prefect server not answering (restarting), the run cancelled
        with db.transaction(inst) as s:
            sending.give_back(s, decision, f"no e-mail slot: {error!r}"[:500])
        raise
    try:
        await deliver_raw(smtp_settings(inst), decision.content, [decision.recipient])
    except (TransientMailError, PermanentMailError, InDoubtMailError) as error:
        with db.transaction(inst) as s:
            now = clock.now(s)
            status = sending.record_delivery(s, decision, now, error)
            retry_at = sending.not_before(s, invoices.get(s, invoice_number), _step(step), now)
        if isinstance(error, TransientMailError):
            log.warning("%s: %s by e-mail: %s; next try at %s", invoice_number, step, error,
                        retry_at.isoformat() if retry_at else "once the run looks again")
            raise TransientMailError(str(error), error.code, retry_at) from error
        if isinstance(error, InDoubtMailError):
            log.warning("%s: %s by e-mail in doubt, not sent again: %s; a person decides (dunning outbox confirm "
                        "%s, or resend %s)", invoice_number, step, error, decision.key, decision.key)
        else:
            log.warning("%s: %s e-mail refused by the mail server: %s", invoice_number, step, error)
        return status
    with db.transaction(inst) as s:
        status = sending.record_delivery(s, decision, clock.now(s))
    also = f" (with {len(decision.rows) - 1} other invoices)" if len(decision.rows) > 1 else ""
    log.info("%s: %s sent to %s%s", invoice_number, step, decision.recipient, also)
    return status


def _step(step: Step | str) -> Step:
    # Runs started before the ladder spoke in `Step`s may still pass the stored text.
    return step if isinstance(step, Step) else Step.parse(step)
