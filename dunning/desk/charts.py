"""The reports' charts: the aging as bars (a chart per currency), DSO as lines (one per currency, in one chart),
drawn with matplotlib into PNG and SVG bytes, their titles, labels, numbers and months in the installation's
language.

No display: a `Figure` of its own per chart with the Agg canvas (pyplot is never imported). matplotlib's settings
are process-wide, so a chart is drawn under a lock with this module's settings in force. The output is
deterministic: a fixed size and resolution, matplotlib's own
DejaVu font with text drawn as paths, fixed SVG element ids (`svg.hashsalt`) and no date or version in the
files' metadata. The same report gives the same bytes."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dunning.desk.reports import (
    MAIN_CURRENCY,
    Aging,
    CurrencyAging,
    Dso,
    amount_text,
    day_text,
    label,
    month_text,
    number_text,
)

SIZE = (8.0, 4.0)  # inches
DPI = 100  # PNG: 800 x 400 pixels
BAR = "#3b6ea5"
LATE = "#c0504d"
LINES = (BAR, "#e08a1e", "#4d9a5a", "#8064a2")  # DSO: one colour per currency
_LOCK = threading.Lock()
STYLE: Any = {  # matplotlib types the keys as literals; these are checked when set
    "svg.hashsalt": "dunning-reports",  # element ids from this salt, not from a random uuid
    "svg.fonttype": "path",  # text as paths: the same drawing without the fonts installed
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
PNG_METADATA = {"Software": None}
SVG_METADATA = {"Date": None, "Creator": None}


@dataclass(frozen=True)
class Chart:
    name: str  # "aging" (the main currency), "aging-usd" (another), "dso": the files are <name>.png and <name>.svg
    title: str  # in the installation's language, the image's alternative text
    png: bytes
    svg: bytes


_WORDS = {
    "nl": {
        "aging": "Ouderdomsanalyse op {day}: {total} openstaand",
        "overdue": "dagen over de vervaldatum",
        "open": "openstaand bedrag ({currency})",
        "invoices": "{n} fact.",
        "dso": "DSO (dagen debiteurenstand, terugtelmethode), maandeinden tot en met {day}",
        "days": "dagen",
    },
    "en": {
        "aging": "Aging on {day}: {total} open",
        "overdue": "days overdue",
        "open": "open amount ({currency})",
        "invoices": "{n} inv.",
        "dso": "Days sales outstanding (count-back), month ends to {day}",
        "days": "days",
    },
}


def aging_chart_name(currency: str) -> str:
    """The main currency's aging chart is `aging`, another's `aging-<code>`."""
    return "aging" if currency == MAIN_CURRENCY else f"aging-{currency.lower()}"


def _render(name: str, title: str, figure: Figure) -> Chart:
    """Both files of a figure drawn under the lock with STYLE in force."""
    FigureCanvasAgg(figure)
    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI, metadata=PNG_METADATA)
    figure.savefig(svg, format="svg", metadata=SVG_METADATA)
    return Chart(name, title, png.getvalue(), svg.getvalue())


def aging_charts(report: Aging, language: str = "nl") -> list[Chart]:
    """One bar chart per currency (amounts in different currencies never share an axis): the main currency's
    always, then each other's."""
    return [aging_chart(report.as_of, section, language) for section in report.currencies]


def aging_chart(as_of: date, section: CurrencyAging, language: str = "nl") -> Chart:
    """The open amount per bucket in one currency, one bar each, the amount and the number of invoices above it."""
    w, currency = _WORDS[language], section.currency
    with _LOCK, matplotlib.rc_context(STYLE):
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        labels = [label(b.bucket, language) for b in section.buckets]
        amounts = [float(b.amount) for b in section.buckets]  # for drawing only
        colours = [BAR if b.bucket == "not_due" else LATE for b in section.buckets]
        bars = ax.bar(labels, amounts, color=colours)
        ax.bar_label(bars, labels=[f"{amount_text(b.amount, currency, language)}\n"
                                   + w["invoices"].format(n=b.invoices) for b in section.buckets],
                     fontsize=8, padding=2)
        title = w["aging"].format(day=day_text(as_of, language),
                                  total=amount_text(section.total, currency, language))
        ax.set_title(title)
        ax.set_xlabel(w["overdue"])
        ax.set_ylabel(w["open"].format(currency=currency))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _position: _whole(value, language)))
        ax.set_ylim(0, max([*amounts, 1.0]) * 1.25)
        return _render(aging_chart_name(currency), title, figure)


def dso_chart(report: Dso, language: str = "nl") -> Chart:
    """DSO per month end as a line with its points, one line per currency (days compare across currencies); a
    month whose sales ran out before its receivables did (a lower bound) is drawn hollow."""
    w = _WORDS[language]
    with _LOCK, matplotlib.rc_context(STYLE):
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        labels = [month_text(f"{m.month_end:%Y-%m}", language, short=True) for m in report.months]
        highest = 1.0
        for n, section in enumerate(report.currencies):
            colour = LINES[n % len(LINES)]
            days = [float(m.days) for m in section.months]  # for drawing only
            highest = max(highest, *days)
            ax.plot(labels, days, color=colour, marker="o", linewidth=2, label=section.currency)
            lower = [(x, d) for x, d, m in zip(labels, days, section.months, strict=True) if not m.complete]
            if lower:
                ax.plot([x for x, _ in lower], [y for _, y in lower], linestyle="none", marker="o", color="white",
                        markeredgecolor=colour, markersize=6)
            # The main currency's figures above its points, the others' below theirs, so that they rarely overlap.
            for x, m in zip(labels, section.months, strict=True):
                ax.annotate(number_text(m.days, 1, language), (x, float(m.days)), textcoords="offset points",
                            xytext=(0, 6 if n == 0 else -12), ha="center", fontsize=8, color=colour if n else "black")
        if len(report.currencies) > 1:
            ax.legend()
        title = w["dso"].format(day=day_text(report.as_of, language))
        ax.set_title(title)
        ax.set_ylabel(w["days"])
        ax.set_ylim(0, highest * 1.2)
        ax.tick_params(axis="x", labelrotation=45)
        return _render("dso", title, figure)


def _whole(value: float, language: str) -> str:
    return number_text(Decimal(round(value)), 0, language)
