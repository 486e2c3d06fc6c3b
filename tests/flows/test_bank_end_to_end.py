"""Money in from the inbox, all the way through: a real Prefect server, the installation's deployments and the
`dunning` verbs. A statement dropped in the inbox is imported by a run of the `import-bank` deployment, stops the
escalation of the invoice it pays within one sweep, and its line no rule matched is matched in its run's own
Resume form, as the UI sends it, after which that invoice's run completes too. A broken file goes to failed/.

The runs execute in this process (tests/support/in_process.py): what is proven here is the deployments, the
inbox, the forms and the sweeps working together; a process per flow run and per verb showed nothing more and
cost a minute. That the served `import-bank` deployment runs in a process of its own is in
test_ladder_end_to_end.py, with the scheduled sweep."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dunning.bank.references import payment_reference
from tests.support.engine import row
from tests.support.in_process import InProcessEngine, in_process_engine
from tests.support.statements import Movement, camt

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


@pytest.fixture
def engine(
    prefect_here: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessEngine]:
    with in_process_engine(prefect_here, database_url, tmp_path, monkeypatch, language="nl") as engine:
        yield engine


def _run_deployment(engine, flow: str) -> dict:
    instance = engine.env["DUNNING_INSTANCE"]
    deployment = engine.api_call(f"/deployments/name/{flow}/{instance}")
    run = engine.api_call(f"/deployments/{deployment['id']}/create_flow_run", {"name": f"{flow} by the test"})
    return _until(engine, run["id"], ("COMPLETED", "FAILED", "CRASHED"))


def _until(engine, run_id: str, types: tuple[str, ...], key: str | None = None, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = engine.api_call(f"/flow_runs/{run_id}")["state"]
        if state["type"] in types and (key is None or state["state_details"].get("pause_key") == key):
            return state
        assert time.monotonic() < deadline, f"run {run_id} is not {types} {key or ''}: {state}"
        time.sleep(0.5)


def test_a_statement_in_the_inbox_stops_escalation_and_its_unmatched_line_is_matched_in_the_form(engine):
    engine.import_csv([row("I-1", "INBOX1", "consumer", "een@example.com"),
                       row("I-2", "INBOX2", "consumer", "twee@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "I-1", "--not-reached", "--by", "Anna")
    engine.cli("call", "I-2", "--not-reached", "--by", "Anna")
    assert len(engine.subjects()) == 2  # both herinneringen

    inbox = engine.home / "inbox" / "bank"
    inbox.mkdir(parents=True)
    (inbox / "camt-2026-01-12.xml").write_text(camt([
        Movement("1210.00", reference=payment_reference("I-1"), bank_reference="B-1"),
        Movement("1210.00", name="Stichting Derden", iban="NL69INGB0123456789", remittance="namens dhr Twee",
                 bank_reference="B-2"),
    ]), encoding="utf-8")
    (inbox / "broken.xml").write_text("<Document", encoding="utf-8")
    assert _run_deployment(engine, "import-bank")["type"] == "COMPLETED"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["camt-2026-01-12.xml"]
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["broken.xml", "broken.xml.error.txt"]
    assert "not well-formed XML" in (inbox / "failed" / "broken.xml.error.txt").read_text()
    [table] = engine.api_call("/artifacts/filter", {"artifacts": {"key": {"any_": ["bank-import-lines"]}}})
    assert "I-1 1210.00" in table["data"] and "unmatched" in table["data"]

    out = engine.sweep()  # one sweep: the paid invoice's run ends, the unmatched line gets its form
    assert engine.run_state("I-1")["type"] == "COMPLETED", out
    [line] = engine.json("payments", "--unmatched")
    assert f"payment {line['id']}: no rule matched it" in out, out
    runs = engine.api_call("/flow_runs/filter", {"flow_runs": {"name": {"any_": [f"payment {line['id']}"]}}})
    [form_run] = [r for r in runs if r["deployment_id"]]
    _until(engine, form_run["id"], ("PAUSED",), key=f"payment-{line['id']}-0")

    answer = {"decision": "match", "invoices": "I-2", "by": "Marie"}
    assert engine.api_call(f"/flow_runs/{form_run['id']}/resume", {"run_input": answer})["status"] == "ACCEPT"
    assert _until(engine, form_run["id"], ("COMPLETED", "FAILED", "CRASHED"))["type"] == "COMPLETED"
    engine.sweep()
    assert engine.run_state("I-2")["type"] == "COMPLETED"

    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert len(engine.subjects()) == 2, "no aanmaning to either: both paid"
    assert [p["status"] for p in engine.json("payments")] == ["matched", "matched"]
