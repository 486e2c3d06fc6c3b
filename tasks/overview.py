"""Reading the daily overview for the daily-overview flow, in the installation's language."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from dunning.desk import overview
from dunning.storage import clock, db
from tasks.runtime import installation
from tasks.sweep import failed_runs

DESCRIPTION = {"en": "Daily overview", "nl": "Dagoverzicht"}


@task(cache_policy=NO_CACHE)
async def failed_invoice_runs() -> list[dict]:
    """The invoice runs that ended Failed or Crashed, as the Prefect API knows them (the database does not)."""
    inst = installation()
    async with get_client() as client:
        found = await failed_runs(client, inst)
    return [overview.failed_run(r.invoice, r.state, r.failed_at, r.error, r.retry_command) for r in found]


@task(cache_policy=NO_CACHE)
def daily_overview(failed: list[dict] | None = None) -> dict:
    inst = installation()
    with db.transaction(inst) as s:
        found = overview.build(s, inst, clock.now(s))
    if failed:
        found["failed_runs"] = failed
    return {
        "overview": found,
        "markdown": overview.as_markdown(found, inst.language),
        "description": DESCRIPTION[inst.language],
    }
