"""The reports flow's steps: the day the installation's clock says it is, each report read in a transaction of
its own, its table artifact's rows and description, and the day's report page written to
DUNNING_HOME/reports/<as_of>/ with its charts; all that people read in the installation's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from dunning.desk import excuses, report_pages, reports
from dunning.domain.errors import UserError
from dunning.storage import clock, db
from tasks.runtime import installation


@dataclass(frozen=True)
class ReportPage:
    folder: str
    paths: list[str]
    markdown: str  # the Markdown artifact: the charts as images, each report in short, where the page is


@dataclass(frozen=True)
class ReportTable:
    rows: list[dict[str, str]]  # the table artifact, headed in the installation's language
    description: str


@task(cache_policy=NO_CACHE)
def report_day() -> date:
    """Today in Amsterdam, by the installation's clock (simulated time too)."""
    with db.transaction(installation()) as s:
        return clock.local(clock.now(s)).date()


@task(cache_policy=NO_CACHE)
def report_language() -> str:
    """The language the installation's people read (settings.toml `language`)."""
    return installation().language


@task(cache_policy=NO_CACHE, task_run_name="report {name}")
def compute_report(name: str, as_of: date) -> reports.Report:
    with db.transaction(installation()) as s:
        return reports.build(s, name, as_of)


@task(cache_policy=NO_CACHE, task_run_name="table {report.name}")
def report_table(report: reports.Report) -> ReportTable:
    language = installation().language
    known = _excuses() if report.name == "calls" else excuses.BUILT_IN  # only the calls name excuses
    return ReportTable(report_pages.table_rows(report, language, excuses=known), report_pages.summary(report, language))


@task(cache_policy=NO_CACHE)
def write_report_page(as_of: date, found: dict[str, reports.Report]) -> ReportPage:
    inst = installation()
    every = reports.Reports.of(as_of, found)
    folder = report_pages.reports_folder(inst.home, as_of)
    charts = report_pages.charts(every, inst.language)
    known = _excuses()
    paths = report_pages.write_folder(folder, every, charts, inst.language, known)
    return ReportPage(
        folder=str(folder),
        paths=[str(p) for p in paths],
        markdown=report_pages.artifact_markdown(every, charts, paths[0], inst.language, known),
    )


def _excuses() -> tuple[excuses.Excuse, ...]:
    """The team's list, which names each excuse in both languages; a mistake in its file must not stop the
    reports (it is named in the log, and the built-in list applies)."""
    try:
        return excuses.load(installation().home)
    except UserError as e:
        get_run_logger().warning("%s; the reports name excuses by the built-in list", e)
        return excuses.BUILT_IN
