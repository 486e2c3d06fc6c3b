"""The books: the scheduled import of what the accounting package drops in the invoice inbox."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from tasks.books import import_invoice_inbox


@flow(name="import-invoices", persist_result=False)
async def import_invoices() -> list[str]:
    """Import every file in DUNNING_HOME/inbox/invoices/; the runs of invoices that changed look at them at the
    next sweep."""
    outcomes = import_invoice_inbox()
    if outcomes:
        await create_table_artifact(
            key="invoice-import",
            table=[{"file": o.file, "imported": "yes" if o.imported else "no", "result": o.summary} for o in outcomes],
            description="Invoice files imported from the inbox",
        )
    else:
        get_run_logger().info("No files in the invoice inbox.")
    return [o.summary for o in outcomes]
