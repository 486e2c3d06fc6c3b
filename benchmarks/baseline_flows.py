"""Baseline flows for benchmarks/wakeup.py, served the same way as the engine's deployments."""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, serve
from prefect.flow_runs import suspend_flow_run


@flow(name="bench-empty", persist_result=False)
async def empty() -> None:
    return None


@flow(name="bench-suspend-once", persist_result=False)
async def suspend_once() -> None:
    await suspend_flow_run(key="only", timeout=int(timedelta(days=1).total_seconds()))


if __name__ == "__main__":
    serve(empty.to_deployment(name="bench"), suspend_once.to_deployment(name="bench"), print_starting_message=False)
