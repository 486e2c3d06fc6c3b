"""The reports' charts: the aging as bars, DSO as a line, drawn with matplotlib into PNG and SVG bytes.

No display: a `Figure` of its own per chart with the Agg canvas (pyplot is never imported). matplotlib's settings
are process-wide, so a chart is drawn under a lock with this module's settings in force. The output is
deterministic: a fixed size and resolution, matplotlib's own
DejaVu font with text drawn as paths, fixed SVG element ids (`svg.hashsalt`) and no date or version in the
files' metadata. The same report gives the same bytes."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from dunning.desk.reports import Aging, Dso

SIZE = (8.0, 4.0)  # inches
DPI = 100  # PNG: 800 x 400 pixels
BAR = "#3b6ea5"
LATE = "#c0504d"
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
    name: str  # "aging", "dso": the files are <name>.png and <name>.svg
    png: bytes
    svg: bytes


def _euros(value: float, _position: object = None) -> str:
    return f"{value:,.0f}"


def _render(name: str, figure: Figure) -> Chart:
    """Both files of a figure drawn under the lock with STYLE in force."""
    FigureCanvasAgg(figure)
    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI, metadata=PNG_METADATA)
    figure.savefig(svg, format="svg", metadata=SVG_METADATA)
    return Chart(name, png.getvalue(), svg.getvalue())


def aging_chart(report: Aging) -> Chart:
    """The open amount per bucket, one bar each, the amount and the number of invoices above it."""
    with _LOCK, matplotlib.rc_context(STYLE):
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        labels = [b.bucket.replace("_", " ") for b in report.buckets]
        amounts = [float(b.amount) for b in report.buckets]
        colours = [BAR if b.bucket == "not_due" else LATE for b in report.buckets]
        bars = ax.bar(labels, amounts, color=colours)
        ax.bar_label(bars, labels=[f"{b.amount:,.2f}\n{b.invoices} inv." for b in report.buckets], fontsize=8,
                     padding=2)
        ax.set_title(f"Aging on {report.as_of.isoformat()}: {report.total:,.2f} open")
        ax.set_xlabel("days overdue")
        ax.set_ylabel("open amount")
        ax.yaxis.set_major_formatter(FuncFormatter(_euros))
        ax.set_ylim(0, max([*amounts, 1.0]) * 1.25)
        return _render("aging", figure)


def dso_chart(report: Dso) -> Chart:
    """DSO per month end as a line with its points; a month whose sales ran out before its receivables did
    (a lower bound) is drawn hollow."""
    with _LOCK, matplotlib.rc_context(STYLE):
        figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = figure.add_subplot()
        labels = [m.month_end.strftime("%Y-%m") for m in report.months]
        days = [float(m.days) for m in report.months]
        ax.plot(labels, days, color=BAR, marker="o", linewidth=2)
        lower = [(label, d) for label, d, m in zip(labels, days, report.months, strict=True) if not m.complete]
        if lower:
            ax.plot([x for x, _ in lower], [y for _, y in lower], linestyle="none", marker="o", color="white",
                    markeredgecolor=BAR, markersize=6)
        for label, m in zip(labels, report.months, strict=True):
            ax.annotate(f"{m.days:.1f}", (label, float(m.days)), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
        ax.set_title(f"Days sales outstanding (count-back), month ends to {report.as_of.isoformat()}")
        ax.set_ylabel("days")
        ax.set_ylim(0, max([*days, 1.0]) * 1.2)
        ax.tick_params(axis="x", labelrotation=45)
        return _render("dso", figure)
