"""The collection ladder end to end: a real Prefect server, the served deployments (`python -m deployments.serve`,
each flow run its own process), a real SMTP server and the real `dunning` command, on simulated time: what only
processes show: the scheduled sweep and the scheduled inbox import. The full ladder and its other scenarios run in
tests/process, in-process (a process per run adds minutes and shows nothing more there; the browser tests walk
served runs through calls, messages and forms). A crash between sending and recording, and the other process
kills: test_chaos.py."""

from __future__ import annotations

import time

import pytest

from tests.support.engine import row

# A served deployment and a process per verb and per wake-up take their time: minutes, not seconds.
pytestmark = [pytest.mark.prefect, pytest.mark.timeout(600)]


def test_the_scheduled_sweep_starts_runs_that_pause_on_their_call_and_the_inbox_run_files_a_broken_statement(
    engine,
):
    # The paths `dunning run` takes every minute and every five: the sweep and import-bank deployments
    # themselves, each run in a process of its own, not the CLI. (The inbox's statements, their payments and
    # forms: test_bank_end_to_end.py, in-process.)
    engine.import_csv([row("S-1", "SCHEDULED", "consumer", "sweep@example.com")])
    engine.set_clock("2026-01-09T10:00")
    inbox = engine.home / "inbox" / "bank"
    inbox.mkdir(parents=True)
    (inbox / "broken.xml").write_text("<Document", encoding="utf-8")
    instance = engine.env["DUNNING_INSTANCE"]
    sweep = engine.api_call(f"/deployments/name/sweep/{instance}")
    run = engine.api_call(f"/deployments/{sweep['id']}/create_flow_run", {"name": "scheduled sweep"})
    import_bank = engine.api_call(f"/deployments/name/import-bank/{instance}")
    imported = engine.api_call(f"/deployments/{import_bank['id']}/create_flow_run", {"name": "scheduled import"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if engine.api_call(f"/flow_runs/{run['id']}")["state"]["type"] == "COMPLETED" and engine.json("tasks"):
            if engine.run_state("S-1")["type"] == "PAUSED":
                break
        time.sleep(1)
    assert engine.run_state("S-1")["type"] == "PAUSED", engine.run_state("S-1")
    assert [(t["invoice"], t["kind"]) for t in engine.json("tasks")] == [("S-1", "call")]
    while (state := engine.api_call(f"/flow_runs/{imported['id']}")["state"])["type"] not in ("COMPLETED", "FAILED",
                                                                                            "CRASHED"):
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["type"] == "COMPLETED", state
    assert sorted(p.name for p in (inbox / "failed").iterdir()) == ["broken.xml", "broken.xml.error.txt"]
