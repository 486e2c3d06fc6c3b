"""Money in, in the collection process: a statement that pays stops the invoice's escalation at the next sweep; a
line no rule matched waits in its own run's form until a person matches it (an answer the facts refuse is asked
again); a payment the bank takes back reopens the case and its own run goes on."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from dunning.bank.references import payment_reference
from dunning.storage import db
from tests.support.engine import row
from tests.support.statements import Movement, camt, write

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def _herinnering_sent(engine, invoice: str, debtor: str) -> None:
    engine.import_csv([row(invoice, debtor, "consumer", f"{debtor.lower()}@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", invoice, "--not-reached", "--by", "Anna")
    assert engine.subjects() == [f"Herinnering: factuur {invoice} is nog niet betaald"]
    assert engine.run_state(invoice)["type"] == "PAUSED"


def _import(engine, name: str, movements: list[Movement], statement_id: str = "S-1") -> str:
    path = write(engine.home, name, camt(movements, statement_id=statement_id))
    return engine.cli("import", "bank", str(path)).stdout


def _line_run(engine, line_id: int) -> str:
    with db.engine_for(engine.database_url).connect() as c:
        return str(c.execute(text("SELECT flow_run_id FROM bank_line WHERE id = :i"), {"i": line_id}).scalar_one())


def _paused_on(engine, run_id: str, key: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = engine.api_call(f"/flow_runs/{run_id}")["state"]
        if state["type"] == "PAUSED" and state["state_details"].get("pause_key") == key:
            return state
        assert time.monotonic() < deadline, f"run {run_id} does not wait under {key}: {state}"
        time.sleep(0.2)


def _settled(engine, run_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = engine.api_call(f"/flow_runs/{run_id}")["state"]
        if state["type"] in ("COMPLETED", "FAILED", "CRASHED"):
            return state
        assert time.monotonic() < deadline, f"run {run_id} did not end: {state}"
        time.sleep(0.2)


def test_a_statement_that_pays_the_invoice_ends_its_run_at_the_next_sweep_and_nothing_more_goes_out(engine):
    _herinnering_sent(engine, "P-1", "PAYS")
    out = _import(engine, "feb.xml", [Movement("1210.00", reference=payment_reference("P-1"))])
    assert "1 matched" in out
    assert "P-1: woken" in engine.sweep()
    assert engine.run_state("P-1")["type"] == "COMPLETED"
    engine.set_clock("2026-01-26T10:00")  # the aanmaning's day
    assert engine.sweep().strip() == "Nothing to do."
    assert len(engine.subjects()) == 1, "no aanmaning to someone who paid"


def test_an_unmatched_line_waits_in_its_form_until_a_person_matches_it_and_then_the_invoice_closes(engine):
    _herinnering_sent(engine, "U-1", "UNKNOWN")
    _import(engine, "feb.xml", [Movement("1210.00", name="Mw. K. de Wit", iban="NL69INGB0123456789",
                                         remittance="voor mijn zoon")])
    [line] = engine.json("payments", "--unmatched")
    out = engine.sweep()
    assert f"payment {line['id']}: no rule matched it -> Suspended" in out, out
    run_id = _line_run(engine, line["id"])
    run = engine.api_call(f"/flow_runs/{run_id}")
    assert run["name"] == f"payment {line['id']}"
    _paused_on(engine, run_id, f"payment-{line['id']}-0")
    sheet = engine.api_call("/artifacts/filter", {"artifacts": {"key": {"any_": [f"payment-{line['id']}"]}}})
    assert any("Mw. K. de Wit" in a["data"] and "voor mijn zoon" in a["data"] for a in sheet)

    # The form's own rules are the server's: setting a line aside needs a reason.
    refused = engine.api_call(f"/flow_runs/{run_id}/resume",
                              {"run_input": {"decision": "not a debtor payment", "by": "Anna"}})
    assert refused["status"] == "REJECT"
    # An invoice that does not exist passes the form but not the facts: asked again, saying why.
    accepted = engine.api_call(f"/flow_runs/{run_id}/resume",
                               {"run_input": {"decision": "match", "invoices": "U-9", "by": "Anna"}})
    assert accepted["status"] == "ACCEPT"
    _paused_on(engine, run_id, f"payment-{line['id']}-1")
    sheet = engine.api_call("/artifacts/filter", {"artifacts": {"key": {"any_": [f"payment-{line['id']}"]}}})
    assert any("unknown invoice 'U-9'" in a["data"] for a in sheet)

    accepted = engine.api_call(f"/flow_runs/{run_id}/resume",
                               {"run_input": {"decision": "match", "invoices": "U-1", "by": "Anna"}})
    assert accepted["status"] == "ACCEPT"
    assert _settled(engine, run_id)["type"] == "COMPLETED"
    [line] = engine.json("payments")
    assert (line["status"], line["invoices"]) == ("matched", [{"invoice": "U-1", "amount": "1210.00"}])
    assert "U-1: woken" in engine.sweep()
    assert engine.run_state("U-1")["type"] == "COMPLETED"


def test_a_line_matched_with_the_command_while_its_form_waits_ends_that_run(engine):
    engine.import_csv([row("M-1", "CLI", "consumer", "cli@example.com")])
    engine.set_clock("2026-01-09T10:00")
    _import(engine, "feb.xml", [Movement("10.00", name="Onbekend", iban="NL69INGB0123456789")])
    [line] = engine.json("payments", "--unmatched")
    engine.sweep()
    run_id = _line_run(engine, line["id"])
    _paused_on(engine, run_id, f"payment-{line['id']}-0")
    engine.cli("payments", "match", str(line["id"]), "--invoice", "M-1", "--by", "Anna")
    engine.sweep()
    assert engine.api_call(f"/flow_runs/{run_id}")["state"]["type"] == "COMPLETED"


def test_a_payment_the_bank_takes_back_reopens_the_case_and_its_own_run_goes_on(engine):
    _herinnering_sent(engine, "R-1", "RETURN")
    paid = Movement("1210.00", reference=payment_reference("R-1"), end_to_end="E2E-R1", bank_reference="IN-R1")
    _import(engine, "in.xml", [paid])
    engine.sweep()
    first = engine.run_state("R-1")
    assert first["type"] == "COMPLETED"

    returned = Movement("1210.00", credit=False, end_to_end="E2E-R1", return_reason="MD06", bank_reference="OUT-R1")
    assert "1 reversed" in _import(engine, "out.xml", [returned], statement_id="S-2")
    assert "R-1: woken" in engine.sweep()
    again = engine.run_state("R-1")
    assert again["id"] == first["id"], "the invoice's own run, not a second one"
    assert again["type"] == "PAUSED", again  # waiting for the aanmaning's day again

    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert engine.subjects()[-1] == "Aanmaning: factuur R-1 is nog steeds niet betaald"
    kinds = [e["kind"] for e in engine.json("dossier", "R-1")]
    assert kinds.count("payment") == 2 and "aanmaning" in kinds
