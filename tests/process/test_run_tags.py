"""Runs that need a person, at a glance: a suspended run carries a tag saying what it waits for (`awaiting:call`,
`awaiting:approval`, `awaiting:dispute`, `awaiting:payment-match`), or `waiting` while it waits for the calendar,
and none while it goes on; the invoice run also carries the debtor's name. Set and cleared by the run itself
(tasks/run_tags.py), whoever resumes it: the form in the UI (the same API call here), the CLI or the sweep."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from dunning.storage import db
from tests.support.engine import row
from tests.support.statements import Movement, camt, write

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]

PAUSE_TAGS = {"awaiting:call", "awaiting:approval", "awaiting:dispute", "awaiting:payment-match", "waiting"}


def _pause_tags(run: dict) -> set[str]:
    return set(run["tags"]) & PAUSE_TAGS


def _paused(engine, invoice: str, key_prefix: str, timeout: float = 60) -> dict:
    """The invoice's run once it is suspended under a pause key starting with `key_prefix`."""
    deadline = time.monotonic() + timeout
    while True:
        run = engine.run_state(invoice)
        if run["type"] == "PAUSED" and run["pause_key"].startswith(key_prefix):
            return run
        assert time.monotonic() < deadline, f"{invoice} does not wait under {key_prefix}...: {run}"
        time.sleep(0.2)


def test_the_invoice_run_says_what_it_waits_for_and_whose_it_is(engine):
    engine.import_csv([row("T-1", "TAGS", "consumer", "tags@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    run = _paused(engine, "T-1", "call-")
    assert _pause_tags(run) == {"awaiting:call"}
    assert {"debtor:TAGS", "debtor-name:Debtor TAGS"} <= set(run["tags"]), run["tags"]
    assert run["run_name"] == "T-1", "the name stays the invoice number"

    # Answered in the run's form, as the UI resumes it: the run goes on, sends the herinnering and waits for the
    # aanmaning's date, for the calendar and no longer for a person.
    answer = {"reached": False, "note": "Voicemail", "collector": "Anna"}
    assert engine.api_call(f"/flow_runs/{run['id']}/resume", {"run_input": answer})["status"] == "ACCEPT"
    run = _paused(engine, "T-1", "wait-")
    assert engine.subjects() == ["Herinnering: factuur T-1 is nog niet betaald"]
    assert _pause_tags(run) == {"waiting"}
    assert {"debtor:TAGS", "debtor-name:Debtor TAGS"} <= set(run["tags"]), "the other tags stay"

    # Woken by the sweep on the aanmaning's day, and again for the ingebrekestelling's approval.
    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert _pause_tags(_paused(engine, "T-1", "wait-")) == {"waiting"}
    engine.set_clock("2026-02-10T10:00")
    engine.sweep()
    run = _paused(engine, "T-1", "approval-")
    assert _pause_tags(run) == {"awaiting:approval"}

    # Approved with the CLI: the ingebrekestelling goes out and its letter waits to be posted.
    engine.cli("approve", "T-1", "--by", "Marie")
    run = _paused(engine, "T-1", "wait-")
    assert _pause_tags(run) == {"waiting"}
    assert run["tags"].count("debtor-name:Debtor TAGS") == 1, "replays add nothing"


def test_a_run_waiting_for_a_dispute_to_be_sorted_out_says_so(engine):
    engine.import_csv([row("T-2", "DISPUTES", "consumer", "klant@example.com", amount="80.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    assert _pause_tags(_paused(engine, "T-2", "call-")) == {"awaiting:call"}
    engine.cli("dispute", "T-2", "--reason", "Never received the parcel")
    assert _pause_tags(_paused(engine, "T-2", "dispute-")) == {"awaiting:dispute"}
    engine.cli("resolve", "T-2", "--upheld", "--reason", "Parcel lost", "--by", "Marie")
    run = engine.run_state("T-2")
    assert run["type"] == "COMPLETED" and _pause_tags(run) == set()


def _line_run(engine, line_id: int) -> str:
    with db.engine_for(engine.database_url).connect() as c:
        return str(c.execute(text("SELECT flow_run_id FROM bank_line WHERE id = :i"), {"i": line_id}).scalar_one())


def _run(engine, run_id: str, settled: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = engine.api_call(f"/flow_runs/{run_id}")
        if run["state"]["type"] in settled:
            return run
        assert time.monotonic() < deadline, f"run {run_id} is still {run['state']}"
        time.sleep(0.2)


def test_the_run_of_a_bank_line_no_rule_matched_waits_for_a_payment_match(engine):
    engine.import_csv([row("T-3", "UNKNOWN", "consumer", "unknown@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "T-3", "--not-reached", "--by", "Anna")
    path = write(engine.home, "feb.xml", camt([Movement("1210.00", name="Mw. K. de Wit", remittance="voor mijn zoon")]))
    engine.cli("import", "bank", str(path))
    [line] = engine.json("payments", "--unmatched")
    engine.sweep()
    run_id = _line_run(engine, line["id"])
    run = _run(engine, run_id, ("PAUSED",))
    assert set(run["tags"]) & PAUSE_TAGS == {"awaiting:payment-match"} and "payment" in run["tags"]

    answer = {"decision": "match", "invoices": "T-3", "by": "Anna"}
    assert engine.api_call(f"/flow_runs/{run_id}/resume", {"run_input": answer})["status"] == "ACCEPT"
    run = _run(engine, run_id, ("COMPLETED", "FAILED", "CRASHED"))
    assert run["state"]["type"] == "COMPLETED"
    assert set(run["tags"]) & PAUSE_TAGS == set() and "payment" in run["tags"]
