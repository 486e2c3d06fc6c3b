"""The finance desk's reports from the command line: `dunning report NAME` prints one (Markdown, or --json),
writes its rows as CSV (--csv FILE: comma-separated, decimal point, UTF-8, a header row); `dunning report all`
writes the day's report page, DUNNING_HOME/reports/<as_of>/index.html with the charts and every report's CSV
beside it, and prints the folder."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from dunning.cli.common import JsonOpt, clock, db, installation, parse_date, print_json
from dunning.domain.errors import UserError
from dunning.storage.config import Installation

verbs = typer.Typer()

NAMES = ("aging", "dso", "promises", "calls", "collected")  # dunning.desk.reports.NAMES, without importing it


@verbs.command("report")
def report(
    name: Annotated[str, typer.Argument(help=f"One of {', '.join(NAMES)}, or all (the report page).")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day, YYYY-MM-DD (default: today).")] = None,
    as_json: JsonOpt = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the report's rows to this CSV file "
                                                  "(comma-separated, decimal point).")] = None,
) -> None:
    """A report of the finance desk: aging (open amounts by days overdue), dso (days sales outstanding,
    count-back, the last 12 month ends), promises (to pay: made, kept, broken, per month and collector), calls
    (attempts, reached, outcomes, excuses, per collector), collected (money received per step that preceded
    it). `all` writes the day's report page with the charts and prints its folder."""
    if name not in (*NAMES, "all"):
        raise UserError(f"unknown report {name!r}: choose one of {', '.join(NAMES)}, or all")
    if name == "all" and (as_json or csv_file is not None):
        raise UserError("report all writes the report page (with every report's CSV); --json and --csv are for "
                        "one report")
    day = parse_date(as_of, "--as-of date") if as_of else None
    inst = installation()
    if name == "all":
        typer.echo(_write_all(inst, day))
        return
    from dunning.desk import report_pages, reports

    with db.transaction(inst) as s:
        day = day or clock.local(clock.now(s)).date()
        found = reports.build(s, name, day)
    if csv_file is not None:
        try:
            csv_file.write_text(report_pages.csv_text(found), encoding="utf-8")
        except OSError as e:
            raise UserError(f"cannot write {csv_file}: {e.strerror or e}") from None
    if as_json:
        print_json(found.as_json())
    else:
        typer.echo(report_pages.markdown(found), nl=False)
    if csv_file is not None:
        typer.echo(f"wrote {csv_file}", err=True)


def _write_all(inst: Installation, day: date | None) -> Path:
    """Every report, the charts and the page, with a progress bar on stderr (a report over 100,000 invoices
    takes seconds). The database is read in one transaction; the charts are drawn after it."""
    from dunning.desk import report_pages, reports

    found: dict[str, reports.Report] = {}
    with typer.progressbar(length=len(NAMES) + 1, label="reports", file=sys.stderr,
                           item_show_func=lambda step: step or "") as bar:
        with db.transaction(inst) as s:
            day = day or clock.local(clock.now(s)).date()
            for name in NAMES:
                _working_on(bar, name)
                found[name] = reports.build(s, name, day)
                bar.update(1)
        _working_on(bar, "charts and page")
        folder = report_pages.reports_folder(inst.home, day)
        report_pages.write_folder(folder, reports.Reports.of(day, found))
        bar.update(1)
    return folder


def _working_on(bar: Any, step: str) -> None:
    bar.current_item = step
    bar.render_progress()
