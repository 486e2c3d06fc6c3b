"""The worker `dunning worker` starts: Prefect's process worker (as `prefect worker start --type process`), each
flow run its own process, at most --limit at once, with one fix for how our runs live.

An invoice run suspends and is resumed again and again. Prefect 3.8.8's worker holds a run's --limit slot until the
run's process has exited, a moment after the run suspended; a run resumed within that moment (a collector answering
at once, a sweep waking many) is offered to the worker again while it still holds the slot, and the worker's
polling loop dies of it ("this borrower is already holding one of this CapacityLimiter's tokens"): the worker
runs nothing more. Here such a run is left Scheduled for the next poll, when its old process has gone.

    python -m deployments.worker --pool dunning [--limit 4] [--name NAME]"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from prefect.settings import PREFECT_WORKER_HEARTBEAT_SECONDS, PREFECT_WORKER_PREFETCH_SECONDS
from prefect.utilities.processutils import setup_signal_handlers_worker
from prefect.workers.process import ProcessWorker


class InvoiceWorker(ProcessWorker):
    """A process worker that does not take a run it still holds a slot for."""

    async def _submit_scheduled_flow_runs(self, flow_run_response: list[Any]) -> list[Any]:
        if self._limiter is not None:
            holding = set(self._limiter.statistics().borrowers)
            flow_run_response = [r for r in flow_run_response if r.flow_run.id not in holding]
        return await super()._submit_scheduled_flow_runs(flow_run_response)


async def work(pool: str, limit: int | None, name: str | None) -> None:
    worker = InvoiceWorker(
        name=name,
        work_pool_name=pool,
        limit=limit,
        prefetch_seconds=PREFECT_WORKER_PREFETCH_SECONDS.value(),
        heartbeat_interval_seconds=int(PREFECT_WORKER_HEARTBEAT_SECONDS.value()),
    )
    try:
        await worker.start()
    except asyncio.CancelledError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--name")
    args = parser.parse_args()
    setup_signal_handlers_worker(os.getpid(), "the dunning worker", print)
    asyncio.run(work(args.pool, args.limit, args.name))


if __name__ == "__main__":
    main()
