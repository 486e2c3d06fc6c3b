"""Every morning: the daily overview as a Markdown artifact in the UI (the same as `dunning overview`), with the
link to the UI's list of the runs that wait for a person, and the invoice runs that failed (`dunning retry`)."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from tasks.overview import daily_overview, failed_invoice_runs


@flow(name="daily-overview", persist_result=False)
async def overview() -> dict:
    found = daily_overview(await failed_invoice_runs())
    await create_markdown_artifact(key="daily-overview", markdown=found["markdown"], description=found["description"])
    return found["overview"]
