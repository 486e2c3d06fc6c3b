"""The finance desk's reports from the command line: `dunning report NAME` prints one (Markdown in the
installation's language, or --json with English keys), writes its rows as CSV (--csv FILE: comma-separated, decimal
point, UTF-8, a header row of English keys); `dunning report all` writes the day's report page,
DUNNING_HOME/reports/<as_of>/index.html with the charts and every report's CSV beside it, and prints the folder.
Amounts in different currencies are reported apart (dunning.desk.reports)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dunning.cli.common import JsonOpt, clock, db, installation, parse_date, print_json
from dunning.domain.errors import UserError
from dunning.storage.config import Installation

if TYPE_CHECKING:
    from dunning.desk.excuses import Excuse

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
        typer.echo(report_pages.markdown(found, inst.language, excuses=_excuses(inst)), nl=False)
    if csv_file is not None:
        typer.echo(f"wrote {csv_file}", err=True)


def _write_all(inst: Installation, day: date | None) -> Path:
    """Every report, the charts and the page, with a progress bar on stderr (a report over 100,000 invoices
    takes seconds). The database is read in one transaction; the charts are drawn after it."""
    from dunning.desk import report_pages, reports

    language = inst.language
    found: dict[str, reports.Report] = {}
    with typer.progressbar(length=len(NAMES) + 1, label=report_pages.text(language, "progress"), file=sys.stderr,
                           item_show_func=lambda step: step or "") as bar:
        with db.transaction(inst) as s:
            day = day or clock.local(clock.now(s)).date()
            for name in NAMES:
                _working_on(bar, report_pages.title(name, language))
                found[name] = reports.build(s, name, day)
                bar.update(1)
        _working_on(bar, report_pages.text(language, "charts_and_page"))
        folder = report_pages.reports_folder(inst.home, day)
        report_pages.write_folder(folder, reports.Reports.of(day, found), language=language,
                                  excuses=_excuses(inst))
        bar.update(1)
    return folder


def _excuses(inst: Installation) -> tuple[Excuse, ...]:
    """The team's list of excuses, which names each in both languages; a mistake in its file must not stop a
    report (it is named on stderr, and the built-in list applies)."""
    from dunning.desk import excuses

    try:
        return excuses.load(inst.home)
    except UserError as e:
        typer.echo(f"warning: {e}; the report names excuses by the built-in list", err=True)
        return excuses.BUILT_IN


def _working_on(bar: Any, step: str) -> None:
    bar.current_item = step
    bar.render_progress()
