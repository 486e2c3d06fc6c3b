"""Every morning: the finance desk's reports as artifacts in the UI (the same as `dunning report NAME` and
`dunning report all`): a table per report (`report-aging`, `report-dso`, `report-promises`, `report-calls`,
`report-collected`), one Markdown artifact `reports` with the charts and where the report page is, and the page
itself in DUNNING_HOME/reports/<as_of>/. A progress artifact follows the run, report by report."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from dunning.desk import report_pages
from dunning.desk.reports import NAMES, Report
from tasks.reports import compute_report, report_day, write_report_page


@flow(name="reports", persist_result=False)
async def reports(as_of: date | None = None) -> dict:
    """The reports as of `as_of` (default: today by the installation's clock)."""
    day = as_of or report_day()
    steps = len(NAMES) + 1
    progress = await create_progress_artifact(progress=0.0, key="reports-progress",
                                              description=f"Reports {day.isoformat()}: starting")
    found: dict[str, Report] = {}
    for n, name in enumerate(NAMES, start=1):
        found[name] = compute_report(name, day)
        await create_table_artifact(key=f"report-{name}", table=report_pages.table_rows(found[name]),
                                    description=report_pages.summary(found[name]))
        await update_progress_artifact(progress, 100 * n / steps,
                                       description=f"Reports {day.isoformat()}: {name} done")
    page = write_report_page(day, found)
    await create_markdown_artifact(key="reports", markdown=page.markdown,
                                   description=f"Reports {day.isoformat()}: the charts, and the page {page.paths[0]}")
    await update_progress_artifact(progress, 100.0, description=f"Reports {day.isoformat()}: done, {page.folder}")
    return {"as_of": day.isoformat(), "folder": page.folder, "paths": page.paths}
