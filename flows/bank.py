"""Money in: the scheduled import of the bank statements dropped in the inbox, and one run per line no rule
matched, paused on a form where a person says which invoices it pays (in the installation's language), tagged
`awaiting:payment-match` while it waits (tasks/run_tags.py)."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.flow_runs import suspend_flow_run

from flows.forms import PaymentDecision, payment_form
from flows.pausing import answerable_key
from tasks import run_tags
from tasks.bank import PaymentAnswer, import_inbox, read_line, record_payment_answer
from tasks.runtime import installation

PAUSE_TIMEOUT = int(timedelta(days=3650).total_seconds())
REFUSED = {"en": "Your last answer was refused", "nl": "Uw vorige antwoord werd geweigerd"}


@flow(name="import-bank", persist_result=False)
async def import_bank() -> list[str]:
    """Import every statement in DUNNING_HOME/inbox/bank/. The runs of the invoices they pay are woken by the
    next sweep; the lines no rule matched get a run each, with a form."""
    outcomes = import_inbox()
    if outcomes:
        await create_table_artifact(
            key="bank-import",
            table=[{"file": o.file, "imported": "yes" if o.imported else "no", "matched": o.matched,
                    "unmatched": o.unmatched, "already known": o.known, "result": o.summary} for o in outcomes],
            description="Bank statements imported from the inbox",
        )
        lines = [{"file": o.file, "line": r["id"], "booked": r["booked"], "amount": r["amount"],
                  "in": "yes" if r["credit"] else "no", "from": r["counterparty"] or "", "description": r["remittance"],
                  "status": r["status"], "how": r["rule"] or r["note"] or "",
                  "paid": ", ".join(f"{i['invoice']} {i['amount']}" for i in r["invoices"])}
                 for o in outcomes for r in o.lines]
        if lines:
            await create_table_artifact(key="bank-import-lines", table=lines,
                                        description="What each new statement line paid, or why not")
    else:
        get_run_logger().info("No statements in the inbox.")
    return [o.summary for o in outcomes]


@flow(name="match-payment", flow_run_name="payment {line_id}", persist_result=False)
async def match_payment(line_id: int) -> str:
    await run_tags.going_on()
    language = installation().language
    form_in_language = payment_form(language)
    refusal = None
    while True:
        line = read_line(line_id)
        if line.decided:
            return line.summary
        description = line.description + (f"\n\n**{REFUSED[language]}: {refusal}**" if refusal else "")
        await create_markdown_artifact(key=f"payment-{line_id}", markdown=description, description="Bank line")
        await run_tags.awaiting("payment-match")
        form = await suspend_flow_run(
            wait_for_input=form_in_language.with_initial_data(description=description),
            # Stable per attempt: a replay gets the stored answer back; a refused one is asked anew.
            key=await answerable_key(f"payment-{line_id}-{line.attempt}"),
            timeout=PAUSE_TIMEOUT,
        )
        await run_tags.going_on()
        answer = PaymentAnswer(set_aside=form.decision is PaymentDecision.not_a_debtor_payment,
                               invoices=form.invoices, amounts=form.amounts, reason=form.reason, by=form.by)
        refusal = record_payment_answer(line_id, line.attempt, answer, form_in_language.labels())
