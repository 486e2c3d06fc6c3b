"""The daily `reports` flow (flows/reports.py) on the session's real Prefect server, run in this process against an
installation of tests/process/conftest.py: it publishes a table artifact per report, the Markdown artifact with the
charts and a progress artifact that ends at 100, and writes the report page into DUNNING_HOME/reports/<date>/; all
that people read in the installation's language (nl by default), amounts in another currency apart."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.engine import row

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(120)]  # the test takes seconds

TABLES = {"report-aging", "report-dso", "report-promises", "report-calls", "report-collected"}


def test_the_reports_flow_publishes_every_report_and_writes_the_page_in_dutch(engine):
    from flows.reports import reports

    # Invoiced 6 December 2025, due 5 January 2026: on 20 January 15 days overdue. One of them in dollars.
    engine.import_csv([
        row("R-1", "RAP", "business", "r1@example.com", amount="1210.00"),
        row("R-2", "RAP", "business", "r1@example.com", amount="300.50"),
        {**row("R-3", "USA", "business", "r3@example.com", amount="99.99"), "currency": "USD"},
    ])
    engine.set_clock("2026-01-20T10:00")  # the flow's day: today by the installation's clock

    state = asyncio.run(reports(return_state=True))
    assert state.is_completed(), state
    run_id = str(state.state_details.flow_run_id)
    found = {a["key"]: a for a in engine.api_call("/artifacts/filter",
                                                  {"artifacts": {"flow_run_id": {"any_": [run_id]}}})}
    assert set(found) == {*TABLES, "reports", "reports-progress"}
    assert {found[k]["type"] for k in TABLES} == {"table"}

    aging = _table(found["report-aging"])
    # 1,210.00 + 300.50 = 1,510.50 euros 1-30 days overdue, and 99.99 dollars apart: never 1,610.49.
    assert aging[0] == {"Debiteur": "", "Naam": "Alle debiteuren", "Niet vervallen": "EUR 0,00",
                        "1-30 dagen": "EUR 1.510,50", "31-60 dagen": "EUR 0,00", "61-90 dagen": "EUR 0,00",
                        "90+ dagen": "EUR 0,00", "Totaal": "EUR 1.510,50"}
    assert [(r["Naam"], r["Totaal"]) for r in aging[1:]] == [
        ("Debtor RAP", "EUR 1.510,50"), ("Alle debiteuren", "USD 99,99"), ("Debtor USA", "USD 99,99")]
    assert found["report-aging"]["description"].startswith(
        "Ouderdomsanalyse op 20-01-2026: EUR 1.510,50, USD 99,99 openstaand")
    assert "Maandeinde" in _table(found["report-dso"])[0]
    assert found["report-promises"]["description"].startswith("Betaalbeloftes 01-02-2025 tot en met 20-01-2026")
    assert found["report-calls"]["description"].startswith("Gesprekken 01-02-2025 tot en met 20-01-2026")
    assert found["report-collected"]["description"].startswith("Geïnd 01-02-2025 tot en met 20-01-2026: EUR 0,00")

    folder = engine.home / "reports" / "2026-01-20"
    markdown = found["reports"]["data"]
    assert found["reports"]["type"] == "markdown"
    assert markdown.startswith("# Rapportages 20-01-2026\n") and str(folder / "index.html") in markdown
    assert markdown.count("](data:image/png;base64,") == 3  # the aging in euros, in dollars, and DSO
    assert "![Ouderdomsanalyse op 20-01-2026: EUR 1.510,50 openstaand](data:image/png;base64," in markdown
    for heading in ("## Ouderdomsanalyse", "## DSO (dagen debiteurenstand)", "## Betaalbeloftes", "## Gesprekken",
                    "## Geïnd per stap"):
        assert heading in markdown

    progress = found["reports-progress"]
    assert (progress["type"], progress["data"]) == ("progress", 100.0)
    assert progress["description"] == f"Rapportages 20-01-2026: klaar, {folder}"

    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in page and "<h1>Rapportages 20-01-2026</h1>" in page
    assert "<h2>Ouderdomsanalyse</h2>" in page and "<h2>Geïnd per stap</h2>" in page
    assert {"aging.svg", "aging-usd.svg", "dso.svg", "aging.csv", "collected.csv"} <= {p.name for p in folder.iterdir()}
    assert (folder / "aging.csv").read_text(encoding="utf-8").splitlines()[0] == (
        "debtor,name,currency,not_due,1-30,31-60,61-90,90+,total")


def _table(artifact: dict) -> list[dict[str, str]]:
    """A table artifact's rows (the API holds them as JSON text)."""
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) else data
