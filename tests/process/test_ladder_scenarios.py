"""The collection ladder's scenarios: the flow's decisions and tasks on a real Prefect server, its runs executed
in this process (tests/process/conftest.py), driven through the `dunning` verbs on simulated time, with a real
SMTP server on loopback. The full ladder (on PostgreSQL) runs here; what only processes show (a crash
between sending and recording, the scheduled sweep, the browser) runs end to end in tests/flows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine import dossier_kinds, row
from tests.support.ladder import walk_the_full_ladder_to_incasso

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]  # most take seconds


# On PostgreSQL, the production database: every other scenario here runs on SQLite, and the suite cannot pay for the
# whole ladder twice.
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_consumer_and_business_invoices_walk_the_full_ladder_to_incasso(engine):
    walk_the_full_ladder_to_incasso(engine)


def test_payment_midway_stops_the_run_and_nothing_more_is_sent(engine):
    engine.import_csv([row("P-1", "PAYER", "consumer", "betaler@example.com", amount="100.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "P-1", "--not-reached")
    assert len(engine.subjects()) == 1

    engine.set_clock("2026-01-12T10:00")
    engine.cli("pay", "P-1", "60.00", "--date", "2026-01-12")
    engine.sweep()
    assert engine.run_state("P-1")["type"] == "PAUSED", "a partial payment does not stop the ladder"
    engine.set_clock("2026-01-13T10:00")
    engine.cli("pay", "P-1", "40.00", "--date", "2026-01-13")
    engine.sweep()
    assert engine.run_state("P-1")["type"] == "COMPLETED"
    engine.set_clock("2026-03-01T10:00")
    assert engine.sweep().strip() == "Nothing to do."
    assert len(engine.subjects()) == 1
    assert dossier_kinds(engine, "P-1")[-1] == "note" and "paid" in engine.json("dossier", "P-1")[-1]["summary"]


def test_payment_while_a_call_is_waiting_closes_the_case(engine):
    engine.import_csv([row("P-2", "PAYER2", "business", "b@example.com", amount="50.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("pay", "P-2", "50.00")
    engine.sweep()
    assert engine.run_state("P-2")["type"] == "COMPLETED"
    assert engine.json("tasks") == [] and engine.subjects() == []


def test_incasso_gate_refuses_when_evidence_is_missing(engine):
    # Neither an e-mail nor a postal address: nothing can go out, so the dossier never gets the evidence the
    # gate demands.
    engine.import_csv([row("G-1", "NOMAIL", "business", email="") | {"street": "", "postcode": "", "city": ""}])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "G-1", "--not-reached")
    engine.set_clock("2026-01-17T10:00")
    engine.sweep()
    engine.set_clock("2026-02-02T10:00")
    engine.sweep()
    engine.cli("approve", "G-1", "--by", "Marie")
    engine.set_clock("2026-03-01T10:00")
    engine.sweep()
    run = engine.run_state("G-1")
    assert run["type"] == "FAILED"
    assert "herinnering evidence" in run["message"] and "aanmaning evidence" in run["message"]
    assert "ingebrekestelling evidence" in run["message"]
    assert not (engine.home / "incasso" / "G-1.json").exists()
    assert "incasso" not in dossier_kinds(engine, "G-1")
    assert engine.subjects() == []


def test_a_call_due_on_saturday_night_is_offered_on_monday_at_seven(engine):
    engine.import_csv([row("N-1", "NIGHT", "consumer", "nacht@example.com")])
    engine.set_clock("2026-01-10T21:30")  # a Saturday: no calls between 20:00 and 07:00, nor on Sundays
    engine.sweep()
    assert engine.json("tasks") == [] and engine.run_state("N-1")["type"] == "PAUSED"
    engine.set_clock("2026-01-11T12:00")
    assert engine.sweep().strip() == "Nothing to do."
    engine.set_clock("2026-01-12T07:00")
    engine.sweep()
    assert [(t["invoice"], t["kind"]) for t in engine.json("tasks")] == [("N-1", "call")]


def test_a_letter_holds_its_run_until_it_is_posted_and_a_late_one_is_printed_anew(engine):
    engine.import_csv([row("L-1", "PAPER", "consumer", email="")])  # no e-mail address: letters it is
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "L-1", "--not-reached")
    [letter] = engine.json("letters")
    assert (letter["invoice"], letter["step"], letter["printed_on"]) == ("L-1", "herinnering", "2026-01-09")
    assert Path(letter["file"]).read_bytes().startswith(b"%PDF")
    assert engine.run_state("L-1")["type"] == "PAUSED" and engine.subjects() == []

    engine.set_clock("2026-01-12T10:00")
    engine.sweep()  # the run looks again: still not posted, it keeps waiting
    assert "herinnering" not in dossier_kinds(engine, "L-1")
    out = engine.cli("letters", "posted").stdout  # posted on the 12th: the letter of the 9th is void
    assert "voided" in out and not Path(letter["file"]).exists()
    engine.sweep()
    [reprinted] = engine.json("letters")
    assert reprinted["printed_on"] == "2026-01-12" and reprinted["file"] != letter["file"]
    engine.cli("letters", "posted")
    engine.sweep()
    [entry] = [e for e in engine.json("dossier", "L-1") if e["kind"] == "herinnering"]
    assert entry["channel"] == "letter"
    assert engine.run_state("L-1")["type"] == "PAUSED" and engine.json("tasks") == []


def test_not_reached_is_tried_again_in_the_afternoon_and_a_policy_change_applies_at_the_next_wake_up(engine):
    (engine.home / "policies.toml").unlink()  # the built-in default: three tries
    engine.import_csv([row("R-1", "RETRY", "consumer", "retry@example.com")])
    engine.set_clock("2026-01-09T10:00")  # a Friday morning
    engine.sweep()
    engine.cli("call", "R-1", "--not-reached")
    assert engine.subjects() == [] and engine.json("tasks") == []
    engine.set_clock("2026-01-09T14:00")
    engine.sweep()
    assert [(t["invoice"], t["step"]) for t in engine.json("tasks")] == [("R-1", "call-2")]
    engine.cli("call", "R-1", "--not-reached")
    assert engine.subjects() == [], "the third try is on Monday morning"

    (engine.home / "policies.toml").write_text('[default]\ncall_attempts = 2\n', encoding="utf-8")
    engine.set_clock("2026-01-12T09:30")
    engine.sweep()
    assert engine.subjects() == ["Herinnering: factuur R-1 is nog niet betaald"]


def test_a_run_left_pending_by_a_runner_that_died_is_given_back_and_goes_on(engine, monkeypatch):
    # The serve process took the run (Pending) and was killed before starting it (benchmarks/chaos.py found it):
    # no runner picks up a Pending run again, so the sweep gives it back once it has been Pending too long.
    from datetime import timedelta

    import tasks.sweep

    engine.import_csv([row("K-1", "KILLED", "business", "k@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "K-1", "--not-reached")  # the herinnering goes; the run waits for the aanmaning's day
    paused = engine.run_state("K-1")
    assert paused["type"] == "PAUSED" and len(engine.subjects()) == 1
    engine.api_call(f"/flow_runs/{paused['id']}/set_state",
                    {"state": {"type": "PENDING", "name": "Pending"}, "force": True})
    assert engine.run_state("K-1")["type"] == "PENDING"

    monkeypatch.setattr(tasks.sweep, "STUCK_PENDING", timedelta(0))
    assert "K-1: restarted" in engine.sweep()
    run = engine.run_state("K-1")
    assert (run["id"], run["type"]) == (paused["id"], "PAUSED"), "its own run, waiting again"
    assert len(engine.subjects()) == 1, "replayed: nothing sent twice"


def test_a_wake_up_taken_by_a_sweep_that_died_before_resuming_the_run_is_taken_again(engine):
    # The sweep commits the wake-up it takes (cleared, so that a second sweep leaves the run alone) and then resumes
    # the run through the Prefect API: killed in between, it left the run paused with no wake-up, lost for good.
    from dunning.casework import invoices, policies, wakeups
    from dunning.storage import clock, config, db

    engine.import_csv([row("L-1", "LOST", "business", "l@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "L-1", "--not-reached")  # the herinnering goes; the run waits for the aanmaning's day
    paused = engine.run_state("L-1")
    engine.set_clock("2026-01-26T10:00")
    inst = config.load(engine.home)
    with db.transaction(inst) as s:  # what `tasks.sweep.wake` commits before it resumes the run; then it died
        assert wakeups.take_due_wake_up(s, "L-1", clock.now(s))
        invoice = invoices.get(s, "L-1")
        assert wakeups.on_waking(s, invoice, paused["pause_key"], clock.now(s),
                                 policies.policy_for(inst.home, "LOST")).resume

    engine.sweep()  # within the lease: maybe the other sweep is resuming it right now
    assert engine.run_state("L-1")["type"] == "PAUSED" and len(engine.subjects()) == 1
    engine.set_clock("2026-01-26T10:06")
    engine.sweep()
    assert [s for s in engine.subjects() if s.startswith("Aanmaning")] == [
        "Aanmaning: factuur L-1 is nog steeds niet betaald"], engine.subjects()
    assert engine.run_state("L-1")["type"] == "PAUSED", "waiting for its next step"
    engine.set_clock("2026-01-26T10:20")
    engine.sweep()
    assert len(engine.subjects()) == 2, "taken through: not woken again"
    with db.transaction(inst) as s:
        assert invoices.get(s, "L-1").resumed_at is None


def test_a_run_whose_process_stopped_beating_is_restarted_and_one_that_never_beat_is_left_alone(engine, monkeypatch):
    # A worker's machine died mid-run: the run stays Running on the server for ever unless someone says otherwise.
    # Its heartbeats tell: one that beat and went silent died; one that never beat (the embedded engine's runs do
    # not) is not judged.
    import uuid
    from datetime import UTC, datetime, timedelta

    import tasks.sweep

    engine.import_csv([row("Z-1", "ZOMBIE", "business", "z@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "Z-1", "--not-reached")
    paused = engine.run_state("Z-1")
    assert paused["type"] == "PAUSED" and len(engine.subjects()) == 1
    engine.api_call(f"/flow_runs/{paused['id']}/set_state",
                    {"state": {"type": "RUNNING", "name": "Running"}, "force": True})
    monkeypatch.setattr(tasks.sweep, "SILENT_FOR", timedelta(0))

    assert "Z-1: restarted" not in engine.sweep(), "never beat: not judged"
    assert engine.run_state("Z-1")["type"] == "RUNNING"

    beat = {"id": str(uuid.uuid4()), "occurred": datetime.now(UTC).isoformat(), "event": tasks.sweep.HEARTBEAT,
            "resource": {"prefect.resource.id": f"prefect.flow-run.{paused['id']}"}}
    engine.post_events([beat])
    assert "Z-1: restarted" in engine.sweep()
    run = engine.run_state("Z-1")
    assert (run["id"], run["type"]) == (paused["id"], "PAUSED"), "its own run, waiting again"
    history = engine.api_call(f"/flow_run_states/?flow_run_id={paused['id']}")
    assert any(st["type"] == "CRASHED" and "no heartbeat" in (st.get("message") or "") for st in history)
    assert len(engine.subjects()) == 1, "replayed: nothing sent twice"


def test_a_run_restarted_while_its_call_waited_unanswered_asks_again_and_takes_the_answer(engine):
    # The run paused for the call, then crashed (its process killed, the server restarted under it) and the sweep
    # restarted it from the top. Prefect holds the call's pause as fired, with no answer: paused under the same key,
    # the run would get an empty answer, fail, and fail again at every retry (benchmarks/chaos.py found it with
    # approvals). It asks the same question again instead, and takes the collector's answer.
    engine.import_csv([row("Q-1", "QUESTION", "business", "q@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    paused = engine.run_state("Q-1")
    assert paused["type"] == "PAUSED" and [t["invoice"] for t in engine.json("tasks")] == ["Q-1"]
    first_key = engine.api_call(f"/flow_runs/{paused['id']}")["state"]["state_details"]["pause_key"]
    engine.api_call(f"/flow_runs/{paused['id']}/set_state",
                    {"state": {"type": "CRASHED", "name": "Crashed"}, "force": True})

    assert "Q-1: restarted" in engine.sweep()
    run = engine.api_call(f"/flow_runs/{paused['id']}")
    assert run["state"]["type"] == "PAUSED", run["state"]
    assert run["state"]["state_details"]["pause_key"] == f"{first_key}-again-1", "the same call, asked again"
    assert [t["invoice"] for t in engine.json("tasks")] == ["Q-1"]

    engine.cli("call", "Q-1", "--not-reached")
    assert engine.subjects() == ["Herinnering: factuur Q-1 is nog niet betaald"]
    assert engine.run_state("Q-1")["type"] == "PAUSED", "waiting for the aanmaning's day"
