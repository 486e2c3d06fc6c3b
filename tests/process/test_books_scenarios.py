"""The books reach the runs: what the accounting package drops in the invoice inbox is imported by a run of the
`import-invoices` deployment (executed in this process, tests/process/conftest.py; the served inbox deployment
end to end is tests/flows/test_bank_end_to_end.py's): a credit note for the whole amount and an open-items list
without an invoice each end that invoice's run at the next sweep, and a correction to a lower amount is what the
next message states."""

from __future__ import annotations

import os
import time

import pytest

from tests.support.engine import COLUMNS, row
from tests.unit.documents.test_ubl import party, ubl

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def _run_deployment(engine, flow: str) -> dict:
    deployment = engine.api_call(f"/deployments/name/{flow}/{engine.env['DUNNING_INSTANCE']}")
    run = engine.api_call(f"/deployments/{deployment['id']}/create_flow_run", {"name": f"{flow} by the test"})
    deadline = time.monotonic() + 120
    while (state := engine.api_call(f"/flow_runs/{run['id']}")["state"])["type"] not in ("COMPLETED", "FAILED",
                                                                                          "CRASHED"):
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    return state


def test_a_credit_note_an_open_items_list_and_a_correction_from_the_books_reach_the_runs(engine):
    rows = [row("L-1", "LEDGER1", "consumer", "een@example.com"), row("L-2", "LEDGER2", "consumer", "twee@example.com"),
            row("L-3", "LEDGER3", "consumer", "drie@example.com")]
    engine.import_csv(rows)
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    for invoice in ("L-1", "L-2", "L-3"):
        engine.cli("call", invoice, "--not-reached", "--by", "Anna")
    assert len(engine.subjects()) == 3  # the herinneringen

    inbox = engine.home / "inbox" / "invoices"
    inbox.mkdir(parents=True)
    corrected = [{**rows[2], "amount": "1000.00"}]
    (inbox / "correction.csv").write_text(
        "\n".join([",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in corrected]) + "\n")
    buyer = party("<cac:PartyIdentification><cbc:ID>LEDGER1</cbc:ID></cac:PartyIdentification>"
                  "<cac:PartyName><cbc:Name>Debtor LEDGER1</cbc:Name></cac:PartyName>")
    (inbox / "creditnota.xml").write_bytes(ubl(root="CreditNote", number="CN-L1", issue="2026-01-10", due=None,
                                               amount="1210.00", buyer=buyer, references=("L-1",)))
    (inbox / "open-items-2026-01-12.csv").write_text("invoice_number,open_amount\nL-3,1000.00\n")
    for i, name in enumerate(("correction.csv", "creditnota.xml", "open-items-2026-01-12.csv")):
        os.utime(inbox / name, (1_700_000_000 + i, 1_700_000_000 + i))  # taken in this order, oldest first

    assert _run_deployment(engine, "import-invoices")["type"] == "COMPLETED"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "correction.csv", "creditnota.xml", "open-items-2026-01-12.csv"]
    assert list((inbox / "failed").iterdir()) == []

    engine.sweep()
    assert engine.run_state("L-1")["type"] == "COMPLETED", "credited in full"
    assert engine.run_state("L-2")["type"] == "COMPLETED", "settled in the ledger"
    assert engine.run_state("L-3")["type"] == "PAUSED"
    listing = {r["invoice"]: r for r in engine.json("invoices")}
    assert (listing["L-1"]["status"], listing["L-2"]["status"], listing["L-3"]["open"]) == (
        "credited", "settled", "1000.00")

    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert [s for s in engine.subjects() if s.startswith("Aanmaning")] == [
        "Aanmaning: factuur L-3 is nog steeds niet betaald"]
    [aanmaning] = [m for m in engine.sink.messages() if str(m["Subject"]).startswith("Aanmaning")]
    assert "EUR 1.000,00" in aanmaning.get_body(preferencelist=("plain",)).get_content()
