"""An answer to a call task is recorded only when it can be delivered: with the engine away, or a promise dated
in the past, `dunning call` exits 2 with one line and the task, the dossier and the invoice stay as they were, so a
retry later finds the task still open (issue 14)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import uuid
from datetime import UTC, datetime

from test_storage import DUNNING, add_invoice, dunning

from dunning.casework import human_tasks
from dunning.domain.kinds import TaskKind
from dunning.domain.steps import Step
from dunning.storage import config, db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _waiting_call(installation) -> None:
    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        invoice.flow_run_id = str(uuid.uuid4())
        human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), now)
    assert dunning(installation, "clock", "set", "2026-03-09T10:00").returncode == 0


def _state(installation) -> tuple[str, str]:
    return dunning(installation, "tasks", "--json").stdout, dunning(installation, "dossier", "F-1", "--json").stdout


def test_a_call_answered_while_the_engine_is_away_records_nothing(installation):
    _waiting_call(installation)
    config.write_runtime(installation, prefect_port=_free_port())  # nothing listens there
    before = _state(installation)
    # The real executable, without this test process's PREFECT_* settings (they point at the session's server).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(DUNNING_HOME=str(installation.home), DUNNING_DATABASE_URL=installation.database_url)
    done = subprocess.run([str(DUNNING), "call", "F-1", "--reached", "--promise", "2026-03-20", "--by", "Anna"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot reach the engine" in done.stderr, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _state(installation) == before
    [task] = json.loads(before[0])
    assert task["step"] == "call-1", "the retry finds the task still open"


def test_a_promise_dated_in_the_past_is_refused_before_anything_is_recorded(installation):
    _waiting_call(installation)
    before = _state(installation)
    done = dunning(installation, "call", "F-1", "--reached", "--promise", "2020-01-01")
    assert done.returncode == 2
    assert done.stderr == ("dunning: error: --promise 2020-01-01 is in the past (today is 2026-03-09): a promise is "
                           "to pay by a day to come\n")
    assert _state(installation) == before
