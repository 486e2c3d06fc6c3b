"""Every morning: the finance desk's reports as artifacts in the UI (the same as `dunning report NAME` and
`dunning report all`), in the installation's language: a table per report (`report-aging`, `report-dso`,
`report-promises`, `report-calls`, `report-collected`), one Markdown artifact `reports` with the charts and where
the report page is, and the page itself in DUNNING_HOME/reports/<as_of>/. A progress artifact follows the run,
report by report."""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)

from dunning.desk import report_pages
from dunning.desk.reports import NAMES, Report, day_text
from tasks.reports import compute_report, report_day, report_language, report_table, write_report_page


@flow(name="reports", persist_result=False)
async def reports(as_of: date | None = None) -> dict:
    """The reports as of `as_of` (default: today by the installation's clock)."""
    day = as_of or report_day()
    language = report_language()
    shown = day_text(day, language)
    steps = len(NAMES) + 1
    progress = await acreate_progress_artifact(progress=0.0, key="reports-progress",
                                               description=report_pages.text(language, "starting", day=shown))
    found: dict[str, Report] = {}
    for n, name in enumerate(NAMES, start=1):
        found[name] = compute_report(name, day)
        table = report_table(found[name])
        await acreate_table_artifact(key=f"report-{name}", table=table.rows, description=table.description)
        await aupdate_progress_artifact(progress, 100 * n / steps, description=report_pages.text(
            language, "done_one", day=shown, title=report_pages.title(name, language)))
    page = write_report_page(day, found)
    await acreate_markdown_artifact(key="reports", markdown=page.markdown,
                                    description=report_pages.text(language, "artifact", day=shown, page=page.paths[0]))
    await aupdate_progress_artifact(progress, 100.0,
                                    description=report_pages.text(language, "done", day=shown, folder=page.folder))
    return {"as_of": day.isoformat(), "folder": page.folder, "paths": page.paths}
