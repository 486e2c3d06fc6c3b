"""Two sweeps at once (a manual `dunning sweep` beside the scheduled one, or the sweep deployment run by two
workers): each invoice gets one run, each run is woken once, and each message goes out once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest

from dunning.storage import config
from tasks.sweep import SweepReport, sweep_once, wait_until_settled
from tests.support.databases import on_both_databases
from tests.support.engine import row

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]

INVOICES = [f"S-{n}" for n in range(1, 5)]


def _two_sweeps_at_once(engine) -> tuple[SweepReport, SweepReport]:
    """Two sweeps started together, each in its own thread and event loop as in its own process; the runs they
    touched settled."""
    inst = config.load(engine.home)
    both = threading.Barrier(2)
    reports: dict[int, SweepReport] = {}
    errors: list[BaseException] = []

    def sweep(n: int) -> None:
        both.wait()
        try:
            reports[n] = asyncio.run(sweep_once(inst))
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            errors.append(error)

    threads = [threading.Thread(target=sweep, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    assert sorted(reports) == [0, 1], "a sweep did not end"
    touched = {run_id for report in reports.values() for run_id in report.touched.values()}
    states = asyncio.run(wait_until_settled(sorted(touched), timeout=60))
    assert all(not s.startswith("still running") for s in states.values()), states
    return reports[0], reports[1]


@on_both_databases
def test_two_sweeps_at_once_start_each_run_once_wake_it_once_and_send_each_message_once(engine):
    engine.import_csv([row(n, f"SWEEP{n[2:]}", "consumer", f"s{n[2:]}@example.com") for n in INVOICES])
    engine.set_clock("2026-01-09T10:00")  # the first call is due

    first, second = _two_sweeps_at_once(engine)
    assert set(first.started) | set(second.started) == set(INVOICES)
    for number in set(first.started) & set(second.started):  # both asked: the same run, not a second one
        assert first.started[number] == second.started[number]
    ours = {"name": {"any_": [engine.env["DUNNING_INSTANCE"]]}}
    runs = engine.api_call("/flow_runs/filter", {"deployments": ours, "flow_runs": {"name": {"any_": INVOICES}}})
    assert sorted(r["name"] for r in runs) == INVOICES, "one run per invoice"
    assert {engine.run_state(n)["type"] for n in INVOICES} == {"PAUSED"}
    assert sorted(t["invoice"] for t in engine.json("tasks")) == INVOICES

    for number in INVOICES:
        engine.cli("call", number, "--not-reached")
    assert Counter(engine.subjects()) == {f"Herinnering: factuur {n} is nog niet betaald": 1 for n in INVOICES}

    engine.set_clock("2026-01-26T10:00")  # the aanmaning's day: every run is due to be woken
    first, second = _two_sweeps_at_once(engine)
    assert not set(first.woken) & set(second.woken), "a run woken by both sweeps"
    assert set(first.woken) | set(second.woken) == set(INVOICES)
    aanmaningen = [s for s in engine.subjects() if s.startswith("Aanmaning")]
    assert len(aanmaningen) == len(set(aanmaningen)) == len(INVOICES), engine.subjects()
    assert {engine.run_state(n)["type"] for n in INVOICES} == {"PAUSED"}, "each waiting for its next step"
    assert [e["kind"] for e in engine.json("dossier", "S-1")].count("aanmaning") == 1


def test_one_sweep_run_sweeps_round_after_round_and_takes_what_fell_due_meanwhile(engine):
    # The scheduled sweep is one run for ten minutes' sweeps (a process a minute would cost more than the sweep).
    from flows.sweep import sweep

    engine.import_csv([row("R-1", "ROUND1", "consumer", "r1@example.com")])
    engine.set_clock("2026-01-09T10:00")

    async def rounds() -> dict:
        return await sweep(rounds=3, every_seconds=3)

    def meanwhile() -> None:  # a newly imported invoice, past its due date, while the run waits between rounds
        time.sleep(0.5)
        engine.import_csv([row("R-2", "ROUND2", "consumer", "r2@example.com")])

    started = time.monotonic()
    importing = threading.Thread(target=meanwhile)
    importing.start()
    done = asyncio.run(rounds())
    importing.join()
    assert time.monotonic() - started >= 6.0, "three rounds, 3 s apart"
    assert sorted(done["started"]) == ["R-1", "R-2"]
    states = asyncio.run(wait_until_settled(sorted(done["started"].values()), timeout=60))
    assert sorted(states.values()) == ["Suspended", "Suspended"], states


def test_a_sweep_run_that_died_is_cancelled_not_restarted_the_schedules_next_one_takes_over(engine):
    from flows.sweep import sweep
    from tests.support.in_process import outside_playwrights_loop

    with outside_playwrights_loop():
        deployment_id = sweep.to_deployment(name=engine.env["DUNNING_INSTANCE"], tags=["dunning"]).apply()
    run = engine.api_call(f"/deployments/{deployment_id}/create_flow_run", {"name": "dead sweep"})
    engine.api_call(f"/flow_runs/{run['id']}/set_state", {"state": {"type": "CRASHED", "name": "Crashed"},
                                                          "force": True})

    assert "dead sweep" not in engine.sweep()
    state = engine.api_call(f"/flow_runs/{run['id']}")["state"]
    assert (state["type"], state["message"]) == ("CANCELLED", "a sweep run that died is not restarted: the "
                                                              "schedule's next sweep run takes over")


def test_a_sweep_run_keeps_sweeping_while_a_file_does_not_load_and_fails_only_if_it_still_does_not(engine):
    from dunning.domain.errors import UserError
    from flows.sweep import sweep

    engine.import_csv([row("P-1", "POLICY1", "consumer", "p1@example.com")])
    engine.set_clock("2026-01-09T10:00")
    policies = engine.home / "policies.toml"
    good = policies.read_text(encoding="utf-8")
    policies.write_text('[default]\ngrace_days = "five"\n', encoding="utf-8")

    def mended() -> None:
        time.sleep(1.0)
        policies.write_text(good, encoding="utf-8")

    mending = threading.Thread(target=mended)
    mending.start()
    done = asyncio.run(sweep(rounds=3, every_seconds=2))
    mending.join()
    assert list(done["started"]) == ["P-1"], "taken once the file loads, in the same run"

    policies.write_text('[default]\ngrace_days = "five"\n', encoding="utf-8")
    with pytest.raises(UserError, match="policies.toml"):
        asyncio.run(sweep(rounds=2, every_seconds=0.5))
