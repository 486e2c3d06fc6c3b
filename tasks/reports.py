"""The reports flow's steps: the day the installation's clock says it is, each report read in a transaction of
its own, and the day's report page written to DUNNING_HOME/reports/<as_of>/ with its charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from dunning.desk import report_pages, reports
from dunning.storage import clock, db
from tasks.runtime import installation


@dataclass(frozen=True)
class ReportPage:
    folder: str
    paths: list[str]
    markdown: str  # the Markdown artifact: the charts as images, each report in short, where the page is


@task(cache_policy=NO_CACHE)
def report_day() -> date:
    """Today in Amsterdam, by the installation's clock (simulated time too)."""
    with db.transaction(installation()) as s:
        return clock.local(clock.now(s)).date()


@task(cache_policy=NO_CACHE, task_run_name="report {name}")
def compute_report(name: str, as_of: date) -> reports.Report:
    with db.transaction(installation()) as s:
        return reports.build(s, name, as_of)


@task(cache_policy=NO_CACHE)
def write_report_page(as_of: date, found: dict[str, reports.Report]) -> ReportPage:
    every = reports.Reports.of(as_of, found)
    folder = report_pages.reports_folder(installation().home, as_of)
    charts = report_pages.charts(every)
    paths = report_pages.write_folder(folder, every, charts)
    return ReportPage(
        folder=str(folder),
        paths=[str(p) for p in paths],
        markdown=report_pages.artifact_markdown(every, charts, paths[0]),
    )
