"""The chaos run (issue 14, benchmarks/chaos.py) in short: the engine `dunning run` starts (a Prefect server of its
own, the served deployments, each invoice run its own process, a mail sink counting Message-IDs) takes two invoices
through the call and the herinnering while its processes are killed with SIGKILL: the run process sending a
herinnering while the mail server holds its answer (so it dies between the server's acceptance and its own record,
for certain), and the serve process while every run waits (started again). The Prefect server killed and started
again, with PostgreSQL: test_restarts.py. Nothing is sent twice, nothing recorded sent is missing at the mail
server, the message whose sender died is recorded once, as unconfirmed, and every invoice waits where the ladder
says.

The long run (`python -m benchmarks.chaos`: 100 invoices, the whole ladder, 20 seeded kills) is a benchmark, not a
test: it takes most of an hour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(900)  # a Prefect server of its own, not the session's

INVOICES = 2
# The Prefect server's own kill and restart (with PostgreSQL's) is test_restarts.py's: here the engine's processes.
KILLS = {("run", "in-data"), ("serve", "idle")}


def test_processes_killed_mid_start_mid_send_and_while_waiting_send_every_message_once_and_lose_no_entry(
    tmp_path: Path,
):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUNNING_"))}  # a server of its own
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"  # as the other served-engine tests: a second less per wake-up
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.chaos", "--invoices", str(INVOICES), "--stages", "1",
         "--plan", "run/in-data,serve/idle", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=840,
    )
    assert done.returncode in (0, 1), done.stderr[-5000:]
    run = json.loads(done.stdout)
    assert run["problems"] == [], done.stderr[-5000:]
    assert {(k["target"], k["trigger"]) for k in run["kills"]} == KILLS
    assert all(k["killed"] and not k["note"] for k in run["kills"]), run["kills"]
    counts = run["counts"]

    # Each call answered, each herinnering at the mail server exactly once; what was sent, recorded once.
    assert (counts["messages"], counts["message_ids"], counts["duplicates"]) == (INVOICES, INVOICES, 0)
    assert counts["sent"] == INVOICES
    assert counts["lost"] == counts["unknown_at_sink"] == counts["without_one_evidence"] == 0
    assert counts["evidence_twice"] == 0

    # The run killed while sending: reported Crashed to the person whose answer resumed it, restarted by the
    # sweep, its message never sent again and recorded as unconfirmed (a person decides), nothing left `sending`.
    assert counts["told_crashed"] >= 1
    assert counts["crashed_restarted"] >= 1
    assert counts["in_doubt"] >= 1
    assert counts["resent_in_doubt"] == counts["doubt_unsaid"] == counts["sending"] == 0

    # Every invoice waits for the aanmaning, the one whose herinnering is in doubt for a person too.
    assert counts["stuck"] == counts["cli_failures"] == 0
    assert all(where.startswith("waiting: ") for where in run["where"].values()), run["where"]
    assert sum(where == "waiting: a message in doubt" for where in run["where"].values()) == counts["in_doubt"]
