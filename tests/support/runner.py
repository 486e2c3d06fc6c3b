"""A served deployment, minus the process per flow run: polls the Prefect server for its deployments' Scheduled
runs and executes each here, in a thread of its own, with Prefect's flow engine.

That is what `prefect serve` (deployments/serve.py) does for every run it picks up, except that it starts
`python -m prefect.engine` for it: propose Pending, load the flow run, `run_flow`. So the server, the states,
suspend and resume (a resumed run is Scheduled again and replays from the top), the task runs, run inputs and
artifacts are all real; what is saved is the second or more of starting a Python process and importing Prefect
for every wake-up. A run gets a thread of its own because the runs of one debtor wait on each other's row locks
(one call per debtor), as the served deployment's processes do."""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.exceptions import Abort, Pause
from prefect.flow_engine import flow_run_logger, run_flow
from prefect.flows import Flow
from prefect.states import Crashed, Pending
from prefect.types._datetime import now
from prefect.utilities.engine import propose_state

POLL_SECONDS = 0.1  # the served deployment in tests/flows polls every second (PREFECT_RUNNER_POLL_FREQUENCY)


class InProcessRunner:
    def __init__(self, flows: dict[UUID, Flow[..., Any]]) -> None:
        self._flows = flows  # deployment id -> its flow
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[UUID, threading.Thread] = {}
        self._poller = threading.Thread(target=self._poll_forever, name="in-process runner", daemon=True)
        self.errors: list[str] = []  # what would have crashed a flow run process, or the runner itself
        self.executed = 0

    def start(self) -> InProcessRunner:
        self._poller.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        """Stop picking up runs, and let the ones under way reach their pause or end."""
        self._stop.set()
        self._poller.join(timeout)
        deadline = time.monotonic() + timeout
        for thread in list(self._running.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        if still := [t.name for t in self._running.values() if t.is_alive()]:
            self.errors.append(f"flow runs still executing after {timeout:.0f} s: {', '.join(still)}")

    def _poll_forever(self) -> None:
        try:
            asyncio.run(self._poll())
        except BaseException:
            self.errors.append(f"the runner stopped polling:\n{traceback.format_exc()}")

    async def _poll(self) -> None:
        async with get_client() as client:
            while not self._stop.is_set():
                try:
                    await self._pick_up(client)
                except Exception:
                    # A request the loaded server answered late or with an error ("database is locked"): the served
                    # runner polls again too, rather than stop picking up runs for the rest of the test.
                    await asyncio.sleep(0.5)
                await asyncio.sleep(POLL_SECONDS)

    async def _pick_up(self, client: Any) -> None:
        runs = await client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=list(self._flows), scheduled_before=now("UTC")
        )
        for flow_run in sorted(runs, key=lambda r: r.next_scheduled_start_time or now("UTC")):
            with self._lock:
                if flow_run.id in self._running:
                    continue
            # As the served runner does: claim the run (Scheduled -> Pending) before executing it.
            state = await propose_state(client, Pending(), flow_run_id=flow_run.id)
            if not state.is_pending():
                continue
            flow_run = await client.read_flow_run(flow_run.id)
            thread = threading.Thread(
                target=self._execute, args=(flow_run,), name=f"flow run {flow_run.name}", daemon=True
            )
            with self._lock:
                self._running[flow_run.id] = thread
                self.executed += 1
            thread.start()

    def _execute(self, flow_run: Any) -> None:
        """What `python -m prefect.engine <flow run id>` does (prefect/engine.py), in this thread."""
        flow = self._flows[flow_run.deployment_id]
        try:
            outcome = run_flow(flow, flow_run=flow_run, return_type="state", error_logger=flow_run_logger(flow_run))
            if asyncio.iscoroutine(outcome):
                asyncio.run(outcome)
        except (Pause, Abort):
            pass  # suspended (the server holds the run until it is resumed), or told to stop: the process exits 0
        except BaseException:
            # The engine records a failing flow as Failed itself; only what escapes it would crash the process.
            self.errors.append(f"flow run {flow_run.name} escaped the engine:\n{traceback.format_exc()}")
            asyncio.run(self._crashed(flow_run.id))
        finally:
            with self._lock:
                self._running.pop(flow_run.id, None)

    @staticmethod
    async def _crashed(flow_run_id: UUID) -> None:
        async with get_client() as client:
            await propose_state(client, Crashed(message="the flow run's thread died"), flow_run_id=flow_run_id)
