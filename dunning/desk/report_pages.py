"""The reports as people read them: Markdown (the terminal, the Prefect artifacts), CSV, and the report page of a
day, `DUNNING_HOME/reports/<as_of>/index.html` with the charts beside it, readable without a network (the CSS
inline, the charts as files in the same folder, nothing fetched).

CSV files: comma-separated, a decimal point in amounts ("1234.50", no thousands separator), UTF-8, one header
row, the columns of the report's `rows()`; an empty cell where there is nothing to divide."""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from dunning.desk.charts import Chart, aging_chart, dso_chart
from dunning.desk.reports import (
    BUCKETS,
    NAMES,
    OUTCOMES,
    STEPS,
    Aging,
    Calls,
    Collected,
    Dso,
    Promises,
    Report,
    Reports,
    money,
    pct,
)

TITLES = {
    "aging": "Aging",
    "dso": "Days sales outstanding",
    "promises": "Promises to pay",
    "calls": "Calls",
    "collected": "Money collected",
}
DEBTORS_SHOWN = 50  # the aging's debtors in Markdown and on the page; all of them in --json, CSV and aging.csv


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # the columns aligned right


Part = str | Table  # a paragraph, or a table


def reports_folder(home: Path, as_of: date) -> Path:
    """Where a day's report page goes: DUNNING_HOME/reports/<as_of>/."""
    return home / "reports" / str(as_of)


# --- what each report shows ---------------------------------------------------------------------------------------


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _rate(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def parts(report: Report, limit: int = DEBTORS_SHOWN) -> list[Part]:
    if isinstance(report, Aging):
        return _aging(report, limit)
    if isinstance(report, Dso):
        return _dso(report)
    if isinstance(report, Promises):
        return _promises(report)
    if isinstance(report, Calls):
        return _calls(report)
    return _collected(report)


def _aging(r: Aging, limit: int) -> list[Part]:
    shown = r.debtors[:limit]
    more = len(r.debtors) - len(shown)
    return [
        f"Open on {r.as_of.isoformat()}: **{_amount(r.total)}** in "
        f"{sum(b.invoices for b in r.buckets)} invoice(s) of {len(r.debtors)} debtor(s); buckets by days past the "
        "due date.",
        Table(["Days overdue", "Open", "Invoices"],
              [[b.bucket.replace("_", " "), _amount(b.amount), str(b.invoices)] for b in r.buckets]
              + [["**total**", f"**{_amount(r.total)}**", str(sum(b.invoices for b in r.buckets))]], {1, 2}),
        "Per debtor, the most open first" + (f" ({len(shown)} of {len(r.debtors)}; all of them with --json or "
                                             "--csv, and in aging.csv):" if more else ":"),
        Table(["Debtor", "Name", *[b.replace("_", " ") for b in BUCKETS], "Total"],
              [[d.debtor, d.name, *[_amount(d.buckets[b]) for b in BUCKETS], _amount(d.total)] for d in shown],
              set(range(2, 3 + len(BUCKETS)))),
    ]


def _dso(r: Dso) -> list[Part]:
    rows = [[m.month_end.isoformat(), _amount(m.receivables), _amount(m.sales),
             f"{m.days:.1f}" + ("" if m.complete else " (at least)")] for m in r.months]
    return [
        "Count-back: the receivables open on each month end are set against that month's sales, then the month "
        "before's, and so on; each month used up wholly adds its days, the last one its days pro rata.",
        Table(["Month end", "Receivables", "Sales that month", "DSO (days)"], rows, {1, 2, 3}),
    ]


def _promise_row(first: list[str], c: dict) -> list[str]:
    return [*first, *(str(c[k]) for k in ("made", "kept", "kept_in_part", "broken", "running")),
            "–" if c["kept_rate"] is None else f"{c['kept_rate']}%"]


_PROMISE_COLUMNS = ["Made", "Kept", "Kept in part", "Broken", "Running", "Kept rate"]


def _promises(r: Promises) -> list[Part]:
    data = r.as_json()
    return [
        f"Promises to pay made in calls from {r.since.isoformat()} through {r.as_of.isoformat()}: "
        f"{r.total.made} made, {r.total.kept} kept, {r.total.kept_in_part} kept in part, {r.total.broken} broken, "
        f"{r.total.running} running; kept rate {_rate(r.total.kept_rate)} (kept, of those decided).",
        Table(["Month", *_PROMISE_COLUMNS], [_promise_row([m["month"]], m) for m in data["months"]],
              set(range(1, 7))),
        Table(["Collector", *_PROMISE_COLUMNS], [_promise_row([c["collector"]], c) for c in data["collectors"]],
              set(range(1, 7))),
    ]


def _calls(r: Calls) -> list[Part]:
    data = r.as_json()
    everyone = [*data["collectors"], {"collector": "**all**", **data["total"]}]
    rows = [[c["collector"], str(c["attempts"]), str(c["reached"]),
             "–" if c["reached_rate"] is None else f"{c['reached_rate']}%",
             *(str(c["outcomes"][o]) for o in OUTCOMES)] for c in everyone]
    excuses = [[excuse, str(n)] for excuse, n in data["total"]["excuses"].items()]
    by_collector = [[c["collector"], excuse, str(n)] for c in data["collectors"] for excuse, n in c["excuses"].items()]
    return [
        f"Calls made from {r.since.isoformat()} through {r.as_of.isoformat()}: {r.total.attempts} attempts, "
        f"{r.total.reached} reached ({_rate(r.total.reached_rate)}). A call can come to more than one outcome.",
        Table(["Collector", "Attempts", "Reached", "Reached rate", *[o.capitalize() for o in OUTCOMES]], rows,
              set(range(1, 4 + len(OUTCOMES)))),
        "Excuses heard:" if excuses else "No excuses noted.",
        *([Table(["Excuse", "Times"], excuses, {1}), Table(["Collector", "Excuse", "Times"], by_collector, {2})]
          if excuses else []),
    ]


def _collected(r: Collected) -> list[Part]:
    rows = [[m, *(_amount(s[k]) for k in STEPS), _amount(sum(s.values(), Decimal("0.00")))]
            for m, s in r.months.items()]
    rows.append(["**total**", *(_amount(r.steps[k]) for k in STEPS), f"**{_amount(r.total)}**"])
    return [
        f"Money received from {r.since.isoformat()} through {r.as_of.isoformat()}: **{_amount(r.total)}**, by the "
        "last step of the ladder taken before the day it was paid (a call counts once it reached the debtor).",
        Table(["Month", *STEPS, "Total"], rows, set(range(1, 2 + len(STEPS)))),
    ]


# --- Markdown ---------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_part(part: Part) -> str:
    if isinstance(part, str):
        return part
    if not part.rows:
        return "_None._"
    align = ["---:" if n in part.numeric else "---" for n in range(len(part.columns))]
    lines = ["| " + " | ".join(_cell(c) for c in part.columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in part.rows]
    return "\n".join(lines)


def markdown(report: Report, limit: int = DEBTORS_SHOWN) -> str:
    """One report in Markdown: what `dunning report NAME` prints."""
    title = f"## {TITLES[report.name]}, {report.as_of.isoformat()}"
    return "\n\n".join([title, *(_markdown_part(p) for p in parts(report, limit))]) + "\n"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def artifact_markdown(reports: Reports, charts: Sequence[Chart], page: Path | None) -> str:
    """The report page's Markdown artifact: the charts as PNG data URIs (the Prefect UI shows them: both of
    Prefect 3.8.8's UIs render `![..](data:image/png;base64,...)` in a Markdown artifact), each report in short,
    and where the full page is."""
    lines = [f"# Reports {reports.as_of.isoformat()}", ""]
    if page is not None:
        lines += [f"The full page, with every table: `{page}` (open it in a browser; it needs no network).", ""]
    for chart in charts:
        lines += [f"![{TITLES[chart.name]}]({_data_uri(chart.png)})", ""]
    for report in reports.each():
        lines += [markdown(report, limit=10), ""]
    return "\n".join(lines)


# --- CSV -------------------------------------------------------------------------------------------------------


def csv_text(report: Report) -> str:
    """The report's rows as CSV (see the module's docstring)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(report.columns), lineterminator="\n")
    writer.writeheader()
    for row in report.rows():
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


# --- the page ----------------------------------------------------------------------------------------------------

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 72em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f2f4f7; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
nav a { margin-right: 1em; }
p.note { color: #555; font-size: 0.9em; }
"""


def _inline(text: str) -> str:
    """The little Markdown the paragraphs use: **bold**, `code`."""
    out, bold, code = [], False, False
    for n, piece in enumerate(text.replace("**", "\0").split("\0")):
        if n:
            bold = not bold
            out.append("<strong>" if bold else "</strong>")
        for m, bit in enumerate(piece.split("`")):
            if m:
                code = not code
                out.append("<code>" if code else "</code>")
            out.append(html.escape(bit))
    return "".join(out)


def _html_part(part: Part) -> str:
    if isinstance(part, str):
        return f"<p>{_inline(part)}</p>"
    if not part.rows:
        return "<p class=\"note\">None.</p>"

    def cls(n: int) -> str:
        return ' class="n"' if n in part.numeric else ""

    head = "".join(f"<th{cls(n)}>{html.escape(c)}</th>" for n, c in enumerate(part.columns))
    body = "\n".join("<tr>" + "".join(f"<td{cls(n)}>{_inline(c)}</td>" for n, c in enumerate(row)) + "</tr>"
                     for row in part.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def page_html(reports: Reports) -> str:
    """The report page; the charts are the files aging.svg and dso.svg beside it, each report's rows in
    <name>.csv."""
    day = reports.as_of.isoformat()
    sections = []
    for report in reports.each():
        chart = (f'<p><img src="{report.name}.svg" alt="{TITLES[report.name]} chart" width="800" height="400"></p>'
                 if report.name in ("aging", "dso") else "")
        body = "\n".join(_html_part(p) for p in parts(report))
        sections.append(
            f'<section id="{report.name}">\n<h2>{TITLES[report.name]}</h2>\n{chart}\n{body}\n'
            f'<p class="note">All rows: <a href="{report.name}.csv">{report.name}.csv</a></p>\n</section>'
        )
    nav = " ".join(f'<a href="#{name}">{TITLES[name]}</a>' for name in NAMES)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Reports {day}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n<h1>Reports {day}</h1>\n<nav>{nav}</nav>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def charts(reports: Reports) -> list[Chart]:
    return [aging_chart(reports.aging), dso_chart(reports.dso)]


def write_folder(folder: Path, reports: Reports, drawn: Sequence[Chart] | None = None) -> list[Path]:
    """The report page of a day in `folder`: index.html, the charts (aging.svg and dso.svg, which the page shows,
    and their PNGs) and each report's rows as <name>.csv. Returns the paths written, index.html first. Writing
    it again over the same reports writes the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.html"]
    written[0].write_text(page_html(reports), encoding="utf-8")
    for chart in drawn if drawn is not None else charts(reports):
        for suffix, data in (("svg", chart.svg), ("png", chart.png)):
            path = folder / f"{chart.name}.{suffix}"
            path.write_bytes(data)
            written.append(path)
    for report in reports.each():
        path = folder / f"{report.name}.csv"
        path.write_text(csv_text(report), encoding="utf-8")
        written.append(path)
    return written


def table_rows(report: Report, limit: int = 100) -> list[dict]:
    """The rows of the report's table artifact: for the aging, all debtors together first, then the `limit`
    with the most open."""
    if isinstance(report, Aging):
        return [report.total_row(), *report.rows()[:limit]]
    return report.rows()


def summary(report: Report) -> str:
    """One line on a report: the table artifact's description."""
    day = report.as_of.isoformat()
    if isinstance(report, Aging):
        shown = min(len(report.debtors), 100)
        return (f"Aging on {day}: {money(report.total)} open; all debtors, then the {shown} with the most open "
                f"of {len(report.debtors)}")
    if isinstance(report, Dso):
        last = report.months[-1]
        return f"DSO (count-back) per month end; {last.month_end.isoformat()}: {last.days:.1f} days"
    if isinstance(report, Promises):
        return (f"Promises to pay {report.since.isoformat()} to {day}: {report.total.made} made, kept rate "
                f"{pct(report.total.kept_rate) or '–'}%")
    if isinstance(report, Calls):
        return (f"Calls {report.since.isoformat()} to {day}: {report.total.attempts} attempts, reached "
                f"{pct(report.total.reached_rate) or '–'}%")
    return f"Money collected {report.since.isoformat()} to {day}: {money(report.total)}, by the step before it"
