"""A dispute resolved in its run's own Resume form, as the UI sends it (`POST /flow_runs/{id}/resume`), on the
session's real Prefect server, the run executed in this process (tests/process/conftest.py): the server checks
the form's own rules, the run the facts, and an answer the facts refuse is asked again. (The browser drives the
same form in tests/flows/test_collector_ui.py.)"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.engine import row

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def _on_dispute_form(engine, run_id: str, answers_refused: int, timeout: float = 120) -> dict:
    """The run once it waits on the dispute form again (it goes on in the runner's thread, not in the test);
    the pause key counts the answers refused so far ("dispute-<task>-<n>")."""
    deadline = time.monotonic() + timeout
    while True:
        state = engine.api_call(f"/flow_runs/{run_id}")["state"]
        key = state["state_details"].get("pause_key") or ""
        if state["type"] == "PAUSED" and key.startswith("dispute-") and key.endswith(f"-{answers_refused}"):
            return state
        assert time.monotonic() < deadline, f"run {run_id} is not on the dispute form: {state}"
        time.sleep(0.1)


def _answer_in_the_ui(engine, run_id: str, values: dict) -> dict:
    """What the Resume dialog sends: the server checks the answer against the form's schema."""
    return engine.api_call(f"/flow_runs/{run_id}/resume", {"run_input": values})


def test_a_dispute_is_resolved_in_its_runs_form_and_an_answer_the_facts_refuse_is_asked_again(engine):
    engine.import_csv([row("DF-1", "DFORM", "business", "inkoop@stoelen.example.com", amount="300.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("dispute", "DF-1", "--reason", "Two of the ten chairs arrived damaged", "--responsible", "Marie")
    run_id = engine.run_state("DF-1")["id"]
    first = _on_dispute_form(engine, run_id, 0)
    assert first["state_details"]["run_input_keyset"], "the run waits for the dispute form"

    # The form's own rules are checked by the server: a rejection without a reason is refused there.
    refused = _answer_in_the_ui(engine, run_id, {"verdict": "rejected", "resolved_by": "Marie"})
    assert refused["status"] == "REJECT" and "reason" in json.dumps(refused["details"])
    # A credit above what is open passes the form but not the facts: kept with the task, asked again.
    accepted = _answer_in_the_ui(engine, run_id, {"verdict": "upheld", "credit": "400.00", "resolved_by": "Marie"})
    assert accepted["status"] == "ACCEPT"
    _on_dispute_form(engine, run_id, 1)
    [still] = engine.json("disputes")
    assert still["step"] == "dispute-1"
    sheet = engine.api_call("/artifacts/filter", {"artifacts": {"key": {"any_": ["dispute-df-1"]}}})
    assert any("more than the open EUR 300.00" in a["data"] for a in sheet)

    accepted = _answer_in_the_ui(
        engine, run_id, {"verdict": "upheld", "credit": "60.00", "reason": "two chairs", "resolved_by": "Marie"}
    )
    assert accepted["status"] == "ACCEPT"
    # Upheld in part: 60.00 credited, 240.00 still open; escalation takes up again with the call set aside.
    deadline = time.monotonic() + 120
    while [t["step"] for t in engine.json("tasks")] != ["call-2"]:
        assert time.monotonic() < deadline, engine.json("tasks")
        time.sleep(0.1)
    credit = [e for e in engine.json("dossier", "DF-1") if e["kind"] == "credit"]
    assert len(credit) == 1 and "credit note of EUR 60.00" in credit[0]["summary"]
    resolved = [e for e in engine.json("dossier", "DF-1") if e["kind"] == "dispute"][-1]
    assert resolved["summary"] == "dispute upheld: two chairs" and resolved["by"] == "Marie"
    assert engine.json("disputes") == []
