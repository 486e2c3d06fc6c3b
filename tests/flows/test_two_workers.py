"""The production layout end to end (README, "Production layout"; issue 13): a Prefect server on PostgreSQL,
`dunning deploy` into a process work pool, two `dunning worker` processes, invoices taken on simulated time through
the call, the herinnering and the aanmaning, one worker killed with SIGKILL in the middle of the aanmaning's round;
every message arrives exactly once and every run waits for its next step. It is benchmarks/two_workers.py in
short (3 invoices, the ladder's first two moments), in a process of its own, on the session's Prefect server (on
PostgreSQL where these tests run: they need DUNNING_TEST_POSTGRES_URL): about 45 s; its own server and database
took twice that, more than the suite could spare.

The whole ladder to the hand-off (6 invoices, five rounds: about four minutes on two cores, where the whole suite
must stay under ten) with DUNNING_SLOW_TESTS=1; the benchmark itself takes 200."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("DUNNING_TEST_POSTGRES_URL"), reason="needs DUNNING_TEST_POSTGRES_URL"),
    pytest.mark.timeout(1200),
]


def two_workers(prefect_api: str, invoices: int, *options: str) -> dict:
    """benchmarks/two_workers.py, two workers, one killed, on the session's Prefect server (on PostgreSQL, as these
    tests have a PostgreSQL server); its scenario's figures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}  # the server's, given below
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.two_workers", "--only", "two", "--invoices", str(invoices),
         "--prefect-api", prefect_api, "--json", *options],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1100,
    )
    assert done.returncode in (0, 1), done.stderr[-5000:]
    [scenario] = json.loads(done.stdout)
    assert scenario["problems"] == [], done.stderr[-5000:]
    return scenario


def test_two_workers_one_killed_mid_round_send_every_message_once_and_every_run_waits_for_its_next_step(
        prefect_api: str):
    scenario = two_workers(prefect_api, 3, "--stages", "2")
    assert scenario["killed_during"] == "2026-01-26T10:00", "one worker was killed during the aanmaning's round"


@pytest.mark.skipif(not os.environ.get("DUNNING_SLOW_TESTS"),
                    reason="minutes on two cores (the whole ladder, five rounds): DUNNING_SLOW_TESTS=1 runs it")
def test_two_workers_one_killed_midway_send_every_message_once_and_complete_every_run(prefect_api: str):
    scenario = two_workers(prefect_api, 6)
    assert scenario["killed_during"], "one worker was killed during a round"
