"""What a paused run waits for, as a tag the Prefect UI shows in its run list and filters on (the vocabulary and
the links are in dunning/desk/overview.py): `awaiting:call`, `awaiting:approval`, `awaiting:dispute`,
`awaiting:payment-match` while a person is asked, `waiting` while the calendar is, nothing while the run goes on;
and, on an invoice run, the debtor's name.

A run sets the tag right before it suspends and clears it when it goes on: where it starts (a woken run replays
from the top, and a wait it no longer needs is never reached again) and right after a pause hands it an answer.
So whoever resumes it (the sweep, the CLI, a person in the UI) needs to do nothing about tags. Each call reads
the run's tags and writes them only when they change, keeping every other tag (`debtor:<number>`, `payment`);
a replay writes nothing new. A tag is for people to look at: failing to set one is logged, never a failed run.

Plain coroutines rather than Prefect tasks: a task run each would crowd the run's graph for a label."""

from __future__ import annotations

from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from dunning.casework import invoices
from dunning.desk.overview import AWAITING, WAITING, run_tags
from dunning.storage import db
from tasks.runtime import installation


async def awaiting(what: str) -> None:
    """This run is about to wait for a person: `what` is "call", "approval", "dispute" or "payment-match"."""
    await _retag(AWAITING[what])


async def waiting() -> None:
    """This run is about to wait for the calendar (a wake-up time, or another run's answer)."""
    await _retag(WAITING)


async def going_on(invoice_number: str | None = None) -> None:
    """This run goes on: no pause tag; with `invoice_number`, the debtor's name as the facts have it now."""
    name = None
    if invoice_number is not None:
        try:
            with db.transaction(installation()) as s:
                name = invoices.get(s, invoice_number).debtor.name
        except Exception as e:  # the run reads the facts next and says what is wrong there
            get_run_logger().warning("Could not read the debtor's name of %s: %s", invoice_number, e)
    await _retag(None, name)


async def _retag(pause: str | None, debtor_name: str | None = None) -> None:
    run_id = flow_run.get_id()
    if run_id is None:
        return  # called outside a flow run (a test calling the flow's function directly)
    try:
        async with get_client() as client:
            run = await client.read_flow_run(UUID(run_id))
            tags = run_tags(list(run.tags), pause, debtor_name)
            if tags != list(run.tags):
                await client.update_flow_run(UUID(run_id), tags=tags)
    except Exception as e:  # the UI's label is not worth a failed run
        get_run_logger().warning("Could not tag the run %s: %s", pause or "as going on", e)
