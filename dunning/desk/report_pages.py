"""The reports as people read them, in the installation's language (settings.toml `language`: "nl", the default,
or "en"): Markdown (the terminal, the Prefect artifacts), the table artifacts' rows and descriptions, and the report
page of a day, `DUNNING_HOME/reports/<as_of>/index.html` with the charts beside it, readable without a network (the
CSS inline, the charts as files in the same folder, nothing fetched). Every amount is shown with its currency;
amounts in different currencies stand in tables of their own and are never added up.

CSV files are for machines and the same in every language: comma-separated, a decimal point in amounts ("1234.50",
no thousands separator), UTF-8, one header row, the columns of the report's `rows()` (English keys, with a
`currency` column where there are amounts); an empty cell where there is nothing to divide."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dunning.desk.charts import Chart, aging_chart_name, aging_charts, dso_chart
from dunning.desk.excuses import BUILT_IN, Excuse
from dunning.desk.reports import (
    BUCKETS,
    NAMES,
    OUTCOMES,
    STEPS,
    Aging,
    Calls,
    Collected,
    CurrencyAging,
    CurrencyCollected,
    CurrencyDso,
    Dso,
    Promises,
    Report,
    Reports,
    amount_text,
    day_text,
    label,
    month_text,
    number_text,
    percent_text,
)
from dunning.domain import markdown as md

DEBTORS_SHOWN = 50  # the aging's debtors in Markdown and on the page; all of them in --json, CSV and aging.csv
TABLE_DEBTORS = 100  # the aging's debtors per currency in its table artifact

_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "titles": {"aging": "Aging", "dso": "Days sales outstanding (DSO)", "promises": "Promises to pay",
                   "calls": "Calls", "collected": "Money collected per step"},
        "reports": "Reports {day}",
        "apart": "Amounts in different currencies are never added up: each currency has tables of its own.",
        "aging": "Open on {day}: **{total}** in {invoices} of {debtors}; buckets by days past the due date.",
        "invoice": ("invoice", "invoices"), "debtor": ("debtor", "debtors"),
        "aging_columns": ["Days overdue", "Open", "Invoices"],
        "total": "total", "all_debtors": "All debtors",
        "per_debtor": "Per debtor, the most open first",
        "per_debtor_more": " ({shown} of {all}; all of them with --json or --csv, and in aging.csv)",
        "debtor_columns": ["Debtor", "Name"], "total_column": "Total",
        "dso": "Count-back: the receivables open on each month end are set against that month's sales in the same "
               "currency, then the month before's, and so on; each month used up wholly adds its days, the last one "
               "its days pro rata.",
        "dso_columns": ["Month end", "Receivables", "Sales that month", "DSO (days)"],
        "at_least": " (at least)",
        "promises": "Promises to pay made in calls from {since} through {day}: {made} made, {kept} kept, "
                    "{kept_in_part} kept in part, {broken} broken, {running} running; kept rate {rate} (kept, of "
                    "those decided).",
        "promise_columns": ["Made", "Kept", "Kept in part", "Broken", "Running", "Kept rate"],
        "month": "Month", "collector": "Collector",
        "calls": "Calls made from {since} through {day}: {attempts} attempts, {reached} reached ({rate}). A call "
                 "can come to more than one outcome.",
        "call_columns": ["Attempts", "Reached", "Reached rate"],
        "everyone": "all",
        "excuses_heard": "Excuses heard:", "no_excuses": "No excuses noted.",
        "excuse": "Excuse", "times": "Times", "excuses_column": "Excuses heard",
        "collected": "Money received from {since} through {day}: **{total}**, by the last step of the ladder taken "
                     "before the day it was paid (a call counts once it reached the debtor).",
        "none_md": "_None._", "none_html": "None.",
        "page": "The full page, with every table: `{page}` (open it in a browser; it needs no network).",
        "all_rows": "All rows:",
        "summary_aging": "Aging on {day}: {totals} open; per currency all debtors together, then those with the "
                         "most open (at most {limit})",
        "summary_dso": "DSO (count-back) per month end; {end}: {days}",
        "days": "{days} days",
        "summary_promises": "Promises to pay {since} to {day}: {made} made, kept rate {rate}",
        "summary_calls": "Calls {since} to {day}: {attempts} attempts, reached {rate}",
        "summary_collected": "Money collected {since} to {day}: {totals}, by the step before it",
        "starting": "Reports {day}: starting",
        "done_one": "Reports {day}: {title} done",
        "done": "Reports {day}: done, {folder}",
        "artifact": "Reports {day}: the charts, and the page {page}",
        "progress": "reports",
        "charts_and_page": "charts and page",
    },
    "nl": {
        "titles": {"aging": "Ouderdomsanalyse", "dso": "DSO (dagen debiteurenstand)", "promises": "Betaalbeloftes",
                   "calls": "Gesprekken", "collected": "Geïnd per stap"},
        "reports": "Rapportages {day}",
        "apart": "Bedragen in verschillende valuta worden nooit bij elkaar opgeteld: elke valuta heeft eigen "
                 "tabellen.",
        "aging": "Openstaand op {day}: **{total}** in {invoices} van {debtors}; ingedeeld naar dagen na de "
                 "vervaldatum.",
        "invoice": ("factuur", "facturen"), "debtor": ("debiteur", "debiteuren"),
        "aging_columns": ["Dagen over de vervaldatum", "Openstaand", "Facturen"],
        "total": "totaal", "all_debtors": "Alle debiteuren",
        "per_debtor": "Per debiteur, het meeste openstaand eerst",
        "per_debtor_more": " ({shown} van {all}; allemaal met --json of --csv, en in aging.csv)",
        "debtor_columns": ["Debiteur", "Naam"], "total_column": "Totaal",
        "dso": "Terugtelmethode (count-back): de debiteurenstand op elk maandeinde wordt afgezet tegen de omzet van "
               "die maand in dezelfde valuta, dan die van de maand ervoor, enzovoort; elke maand die helemaal opgaat "
               "telt al zijn dagen, de laatste naar rato.",
        "dso_columns": ["Maandeinde", "Debiteurenstand", "Omzet die maand", "DSO (dagen)"],
        "at_least": " (minstens)",
        "promises": "Betaalbeloftes gedaan in gesprekken van {since} tot en met {day}: {made} gedaan, {kept} "
                    "nagekomen, {kept_in_part} deels nagekomen, {broken} gebroken, {running} lopend; "
                    "nakomingspercentage {rate} (nagekomen, van de beloftes waarover al beslist is).",
        "promise_columns": ["Gedaan", "Nagekomen", "Deels nagekomen", "Gebroken", "Lopend", "Nakomingspercentage"],
        "month": "Maand", "collector": "Medewerker",
        "calls": "Gesprekken van {since} tot en met {day}: {attempts} pogingen, {reached} bereikt ({rate}). Een "
                 "gesprek kan meer dan één uitkomst hebben.",
        "call_columns": ["Pogingen", "Bereikt", "Bereikt %"],
        "everyone": "iedereen",
        "excuses_heard": "Gehoorde excuses:", "no_excuses": "Geen excuses genoteerd.",
        "excuse": "Excuus", "times": "Aantal keer", "excuses_column": "Gehoorde excuses",
        "collected": "Ontvangen van {since} tot en met {day}: **{total}**, naar de laatste stap van de ladder vóór "
                     "de dag van betaling (een gesprek telt zodra de debiteur bereikt is).",
        "none_md": "_Geen._", "none_html": "Geen.",
        "page": "De volledige pagina, met alle tabellen: `{page}` (open hem in een browser; er is geen netwerk voor "
                "nodig).",
        "all_rows": "Alle regels:",
        "summary_aging": "Ouderdomsanalyse op {day}: {totals} openstaand; per valuta alle debiteuren samen, dan die "
                         "met het meeste openstaand (hoogstens {limit})",
        "summary_dso": "DSO (terugtelmethode) per maandeinde; {end}: {days}",
        "days": "{days} dagen",
        "summary_promises": "Betaalbeloftes {since} tot en met {day}: {made} gedaan, nakomingspercentage {rate}",
        "summary_calls": "Gesprekken {since} tot en met {day}: {attempts} pogingen, bereikt {rate}",
        "summary_collected": "Geïnd {since} tot en met {day}: {totals}, per stap die eraan voorafging",
        "starting": "Rapportages {day}: begonnen",
        "done_one": "Rapportages {day}: {title} klaar",
        "done": "Rapportages {day}: klaar, {folder}",
        "artifact": "Rapportages {day}: de grafieken, en de pagina {page}",
        "progress": "rapportages",
        "charts_and_page": "grafieken en pagina",
    },
}
# The team's excuses are named "English / Nederlands" (dunning.desk.excuses); which half each language reads.
_EXCUSE_HALF = {"en": 0, "nl": 1}


def text(language: str, key: str, **values: object) -> str:
    """One of this module's sentences in `language`, e.g. the flow's progress descriptions."""
    return str(_WORDS[language][key]).format(**values)


def title(name: str, language: str) -> str:
    return str(_WORDS[language]["titles"][name])


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # the columns aligned right


@dataclass(frozen=True)
class Heading:
    text: str  # a currency's part of a report


Part = str | Heading | Table  # a paragraph, a heading, or a table


def reports_folder(home: Path, as_of: date) -> Path:
    """Where a day's report page goes: DUNNING_HOME/reports/<as_of>/."""
    return home / "reports" / str(as_of)


def excuse_label(heard: str, language: str, known: Sequence[Excuse] = BUILT_IN) -> str:
    """An excuse as the team's list names it, in `language`: the list names each "English / Nederlands" and a
    collector may have typed either half or the whole (any case). One the list names in one language only, and
    the collector's own words, are shown as heard."""
    wanted = heard.strip().casefold()
    for excuse in known:
        halves = [h.strip() for h in excuse.heard.split(" / ")]
        if wanted in {excuse.heard.casefold(), *(h.casefold() for h in halves)}:
            return halves[_EXCUSE_HALF[language]] if len(halves) == 2 else excuse.heard
    return heard.strip()


def excuses_shown(heard: dict[str, int], language: str, known: Sequence[Excuse] = BUILT_IN) -> list[tuple[str, int]]:
    """The excuses heard and how often, by their label in `language` (one excuse typed in either language counts
    once), the most heard first."""
    merged: Counter[str] = Counter()
    for excuse, times in heard.items():
        merged[excuse_label(excuse, language, known)] += times
    return sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))


# --- what each report shows ---------------------------------------------------------------------------------------


def _head(label_text: str) -> str:
    """A label as a column heading: "Niet vervallen", "Incasso-aankondiging"."""
    return label_text[:1].upper() + label_text[1:]


def _who(collector: str, language: str) -> str:
    """A collector's name; `unknown` (a call recorded without one) in `language`."""
    return label(collector, language) if collector == "unknown" else collector


def _count(n: int, forms: tuple[str, str]) -> str:
    return f"{n} {forms[0] if n == 1 else forms[1]}"


def _currency_parts(sections: Sequence[Any], language: str, show: Any) -> list[Part]:
    """Each currency's part; headed by its code when there is more than one currency."""
    if len(sections) == 1:
        return list(show(sections[0]))
    found: list[Part] = [_WORDS[language]["apart"]]
    for section in sections:
        found += [Heading(section.currency), *show(section)]
    return found


def parts(report: Report, language: str = "nl", limit: int = DEBTORS_SHOWN,
          excuses: Sequence[Excuse] = BUILT_IN) -> list[Part]:
    if isinstance(report, Aging):
        return _currency_parts(report.currencies, language, lambda c: _aging(report, c, language, limit))
    if isinstance(report, Dso):
        return [_WORDS[language]["dso"],
                *_currency_parts(report.currencies, language, lambda c: [_dso_table(c, language)])]
    if isinstance(report, Promises):
        return _promises(report, language)
    if isinstance(report, Calls):
        return _calls(report, language, excuses)
    return _currency_parts(report.currencies, language, lambda c: _collected(report, c, language))


def _aging(r: Aging, c: CurrencyAging, language: str, limit: int) -> list[Part]:
    w, money = _WORDS[language], _money(c.currency, language)
    shown = c.debtors[:limit]
    more = len(c.debtors) - len(shown)
    return [
        w["aging"].format(day=day_text(r.as_of, language), total=money(c.total),
                          invoices=_count(c.invoices, w["invoice"]), debtors=_count(len(c.debtors), w["debtor"])),
        Table(w["aging_columns"],
              [[label(b.bucket, language), money(b.amount), str(b.invoices)] for b in c.buckets]
              + [[f"**{w['total']}**", f"**{money(c.total)}**", str(c.invoices)]], {1, 2}),
        w["per_debtor"] + (w["per_debtor_more"].format(shown=len(shown), all=len(c.debtors)) if more else "") + ":",
        _aging_debtors(c, language, shown),
    ]


def _aging_debtors(c: CurrencyAging, language: str, debtors: Sequence[Any], total: bool = False) -> Table:
    w, money = _WORDS[language], _money(c.currency, language)
    rows = [["", w["all_debtors"], *[money(b.amount) for b in c.buckets], money(c.total)]] if total else []
    rows += [[d.debtor, d.name, *[money(d.buckets[b]) for b in BUCKETS], money(d.total)] for d in debtors]
    return Table([*w["debtor_columns"], *[_head(label(b, language)) for b in BUCKETS], w["total_column"]], rows,
                 set(range(2, 3 + len(BUCKETS))))


def _dso_table(c: CurrencyDso, language: str) -> Table:
    w, money = _WORDS[language], _money(c.currency, language)
    rows = [[day_text(m.month_end, language), money(m.receivables), money(m.sales),
             number_text(m.days, 1, language) + ("" if m.complete else w["at_least"])] for m in c.months]
    return Table(w["dso_columns"], rows, {1, 2, 3})


def _promise_row(first: list[str], c: Any, language: str) -> list[str]:
    return [*first, *(str(getattr(c, k)) for k in ("made", "kept", "kept_in_part", "broken", "running")),
            percent_text(c.kept_rate, language)]


def _promises(r: Promises, language: str) -> list[Part]:
    w, t = _WORDS[language], r.total
    return [
        w["promises"].format(since=day_text(r.since, language), day=day_text(r.as_of, language), made=t.made,
                             kept=t.kept, kept_in_part=t.kept_in_part, broken=t.broken, running=t.running,
                             rate=percent_text(t.kept_rate, language)),
        Table([w["month"], *w["promise_columns"]],
              [_promise_row([month_text(m, language)], c, language) for m, c in r.months.items()], set(range(1, 7))),
        Table([w["collector"], *w["promise_columns"]],
              [_promise_row([_who(k, language)], c, language) for k, c in r.collectors.items()], set(range(1, 7))),
    ]


def _promises_table(r: Promises, language: str) -> Table:
    w = _WORDS[language]
    return Table([w["month"], w["collector"], *w["promise_columns"]],
                 [_promise_row([month_text(m, language), _who(k, language)], c, language)
                  for (m, k), c in r.by_month_and_collector.items()], set(range(2, 8)))


def _calls_table(r: Calls, language: str, excuses: Sequence[Excuse] | None = None) -> Table:
    """Per collector and all of them: attempts, reached, the rate, each outcome; with `excuses`, the excuses heard."""
    w = _WORDS[language]
    everyone = [*((_who(k, language), c) for k, c in r.collectors.items()), (f"**{w['everyone']}**", r.total)]
    rows = [[who, str(c.attempts), str(c.reached), percent_text(c.reached_rate, language),
             *(str(c.outcomes[o]) for o in OUTCOMES)]
            + (["; ".join(f"{e}: {n}" for e, n in excuses_shown(c.excuses, language, excuses))]
               if excuses is not None else [])
            for who, c in everyone]
    columns = [w["collector"], *w["call_columns"], *[_head(label(o, language)) for o in OUTCOMES]]
    return Table(columns + ([w["excuses_column"]] if excuses is not None else []), rows,
                 set(range(1, 4 + len(OUTCOMES))))


def _calls(r: Calls, language: str, excuses: Sequence[Excuse]) -> list[Part]:
    w = _WORDS[language]
    heard = [[e, str(n)] for e, n in excuses_shown(r.total.excuses, language, excuses)]
    by_collector = [[_who(k, language), e, str(n)] for k, c in r.collectors.items()
                    for e, n in excuses_shown(c.excuses, language, excuses)]
    return [
        w["calls"].format(since=day_text(r.since, language), day=day_text(r.as_of, language),
                          attempts=r.total.attempts, reached=r.total.reached,
                          rate=percent_text(r.total.reached_rate, language)),
        _calls_table(r, language),
        w["excuses_heard"] if heard else w["no_excuses"],
        *([Table([w["excuse"], w["times"]], heard, {1}),
           Table([w["collector"], w["excuse"], w["times"]], by_collector, {2})] if heard else []),
    ]


def _collected(r: Collected, c: CurrencyCollected, language: str) -> list[Part]:
    w = _WORDS[language]
    return [
        w["collected"].format(since=day_text(r.since, language), day=day_text(r.as_of, language),
                              total=_money(c.currency, language)(c.total)),
        _collected_table(c, language, total=True),
    ]


def _collected_table(c: CurrencyCollected, language: str, total: bool = False) -> Table:
    w, money = _WORDS[language], _money(c.currency, language)
    rows = [[month_text(m, language), *(money(s[k]) for k in STEPS), money(sum(s.values(), Decimal("0.00")))]
            for m, s in c.months.items()]
    if total:
        rows.append([f"**{w['total']}**", *(money(c.steps[k]) for k in STEPS), f"**{money(c.total)}**"])
    return Table([w["month"], *(_head(label(k, language)) for k in STEPS), w["total_column"]], rows,
                 set(range(1, 2 + len(STEPS))))


def _money(currency: str, language: str) -> Any:
    return lambda value: amount_text(value, currency, language)


# --- Markdown ---------------------------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """A table cell as text (a debtor's or collector's name, an excuse: never markup); a total the table itself
    marks bold (`**...**`) stays bold."""
    if len(value) > 4 and value.startswith("**") and value.endswith("**"):
        return f"**{md.text(value[2:-2])}**"
    return md.text(value)


def _markdown_part(part: Part, language: str) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, Heading):
        return f"### {part.text}"
    if not part.rows:
        return str(_WORDS[language]["none_md"])
    align = ["---:" if n in part.numeric else "---" for n in range(len(part.columns))]
    lines = ["| " + " | ".join(_cell(c) for c in part.columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in part.rows]
    return "\n".join(lines)


def markdown(report: Report, language: str = "nl", limit: int = DEBTORS_SHOWN,
             excuses: Sequence[Excuse] = BUILT_IN) -> str:
    """One report in Markdown: what `dunning report NAME` prints."""
    heading = f"## {title(report.name, language)}, {day_text(report.as_of, language)}"
    shown = [_markdown_part(p, language) for p in parts(report, language, limit, excuses)]
    return "\n\n".join([heading, *shown]) + "\n"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def artifact_markdown(reports: Reports, charts: Sequence[Chart], page: Path | None, language: str = "nl",
                      excuses: Sequence[Excuse] = BUILT_IN) -> str:
    """The report page's Markdown artifact: the charts as PNG data URIs (the Prefect UI shows them: both of
    Prefect 3.8.8's UIs render `![..](data:image/png;base64,...)` in a Markdown artifact), each report in short,
    and where the full page is."""
    lines = [f"# {text(language, 'reports', day=day_text(reports.as_of, language))}", ""]
    if page is not None:
        lines += [text(language, "page", page=page), ""]
    for chart in charts:
        lines += [f"![{chart.title}]({_data_uri(chart.png)})", ""]
    for report in reports.each():
        lines += [markdown(report, language, 10, excuses), ""]
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
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f2f4f7; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
nav a { margin-right: 1em; }
p.note { color: #555; font-size: 0.9em; }
"""


def _inline(value: str) -> str:
    """The little Markdown the paragraphs use: **bold**, `code`."""
    out, bold, code = [], False, False
    for n, piece in enumerate(value.replace("**", "\0").split("\0")):
        if n:
            bold = not bold
            out.append("<strong>" if bold else "</strong>")
        for m, bit in enumerate(piece.split("`")):
            if m:
                code = not code
                out.append("<code>" if code else "</code>")
            out.append(html.escape(bit))
    return "".join(out)


def _html_part(part: Part, language: str) -> str:
    if isinstance(part, str):
        return f"<p>{_inline(part)}</p>"
    if isinstance(part, Heading):
        return f"<h3>{html.escape(part.text)}</h3>"
    if not part.rows:
        return f"<p class=\"note\">{_WORDS[language]['none_html']}</p>"

    def cls(n: int) -> str:
        return ' class="n"' if n in part.numeric else ""

    head = "".join(f"<th{cls(n)}>{html.escape(c)}</th>" for n, c in enumerate(part.columns))
    body = "\n".join("<tr>" + "".join(f"<td{cls(n)}>{_inline(c)}</td>" for n, c in enumerate(row)) + "</tr>"
                     for row in part.rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def chart_files(reports: Reports) -> dict[str, list[tuple[str, str]]]:
    """The charts each report shows on the page, as (file name without suffix, currency or ""): the aging one
    per currency, DSO one for all."""
    return {"aging": [(aging_chart_name(c.currency), c.currency) for c in reports.aging.currencies],
            "dso": [("dso", "")]}


def page_html(reports: Reports, language: str = "nl", excuses: Sequence[Excuse] = BUILT_IN) -> str:
    """The report page; the charts are the SVG files beside it (`chart_files`), each report's rows in
    <name>.csv."""
    day = day_text(reports.as_of, language)
    heading = html.escape(text(language, "reports", day=day))
    images = chart_files(reports)
    sections = []
    for report in reports.each():
        name = title(report.name, language)
        charts = "".join(
            f'<p><img src="{file}.svg" alt="{html.escape(" ".join(filter(None, (name, currency))))}" width="800" '
            'height="400"></p>\n'
            for file, currency in images.get(report.name, [])
        )
        body = "\n".join(_html_part(p, language) for p in parts(report, language, excuses=excuses))
        sections.append(
            f'<section id="{report.name}">\n<h2>{html.escape(name)}</h2>\n{charts}{body}\n'
            f'<p class="note">{_WORDS[language]["all_rows"]} <a href="{report.name}.csv">{report.name}.csv</a></p>\n'
            "</section>"
        )
    nav = " ".join(f'<a href="#{name}">{html.escape(title(name, language))}</a>' for name in NAMES)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language}">\n<head>\n<meta charset="utf-8">\n<title>{heading}</title>\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n<h1>{heading}</h1>\n<nav>{nav}</nav>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def charts(reports: Reports, language: str = "nl") -> list[Chart]:
    return [*aging_charts(reports.aging, language), dso_chart(reports.dso, language)]


def write_folder(folder: Path, reports: Reports, drawn: Sequence[Chart] | None = None, language: str = "nl",
                 excuses: Sequence[Excuse] = BUILT_IN) -> list[Path]:
    """The report page of a day in `folder`: index.html, the charts (the SVGs the page shows, and their PNGs) and
    each report's rows as <name>.csv. Returns the paths written, index.html first. Writing it again over the same
    reports writes the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.html"]
    written[0].write_text(page_html(reports, language, excuses), encoding="utf-8")
    for chart in drawn if drawn is not None else charts(reports, language):
        for suffix, data in (("svg", chart.svg), ("png", chart.png)):
            path = folder / f"{chart.name}.{suffix}"
            path.write_bytes(data)
            written.append(path)
    for report in reports.each():
        path = folder / f"{report.name}.csv"
        path.write_text(csv_text(report), encoding="utf-8")
        written.append(path)
    return written


# --- the table artifacts -------------------------------------------------------------------------------------------

_MARKUP = re.compile(r"\*\*")


def _table(report: Report, language: str, limit: int, excuses: Sequence[Excuse]) -> Table:
    """The one table a report's table artifact shows."""
    if isinstance(report, Aging):
        tables = [_aging_debtors(c, language, c.debtors[:limit], total=True) for c in report.currencies]
        return Table(tables[0].columns, [row for t in tables for row in t.rows])
    if isinstance(report, Dso):
        tables = [_dso_table(c, language) for c in report.currencies]
        return Table(tables[0].columns, [row for t in tables for row in t.rows])
    if isinstance(report, Promises):
        return _promises_table(report, language)
    if isinstance(report, Calls):
        return _calls_table(report, language, excuses)
    tables = [_collected_table(c, language) for c in report.currencies]
    return Table(tables[0].columns, [row for t in tables for row in t.rows])


def table_rows(report: Report, language: str = "nl", limit: int = TABLE_DEBTORS,
               excuses: Sequence[Excuse] = BUILT_IN) -> list[dict[str, str]]:
    """The rows of the report's table artifact, headed in `language`, every amount with its currency: for the
    aging, per currency all debtors together first, then the `limit` with the most open; for DSO and money
    collected, each currency's months in turn; promises per month and collector; calls per collector and all."""
    table = _table(report, language, limit, excuses)
    return [{column: _MARKUP.sub("", cell) for column, cell in zip(table.columns, row, strict=True)}
            for row in table.rows]


def summary(report: Report, language: str = "nl") -> str:
    """One line on a report: the table artifact's description."""
    w, day = _WORDS[language], day_text(report.as_of, language)
    if isinstance(report, Aging):
        return w["summary_aging"].format(
            day=day, totals=", ".join(amount_text(c.total, c.currency, language) for c in report.currencies),
            limit=TABLE_DEBTORS)
    if isinstance(report, Dso):
        end = day_text(report.months[-1].month_end, language)
        days = ", ".join(f"{c.currency} " + w["days"].format(days=number_text(c.months[-1].days, 1, language))
                         for c in report.currencies)
        return w["summary_dso"].format(end=end, days=days)
    since = day_text(report.since, language)
    if isinstance(report, Promises):
        return w["summary_promises"].format(since=since, day=day, made=report.total.made,
                                            rate=percent_text(report.total.kept_rate, language))
    if isinstance(report, Calls):
        return w["summary_calls"].format(since=since, day=day, attempts=report.total.attempts,
                                         rate=percent_text(report.total.reached_rate, language))
    totals = ", ".join(amount_text(c.total, c.currency, language) for c in report.currencies)
    return w["summary_collected"].format(since=since, day=day, totals=totals)
