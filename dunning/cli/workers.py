"""Verbs of the production layout (README, "Production layout"): `dunning deploy` registers the installation's
deployments in a process work pool of a Prefect server everyone reaches, `dunning worker` runs them, on as many
machines as needed. `dunning run` stays the one-machine default."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from dunning.cli.common import engine_call, installation, prefect_env
from dunning.cli.engine import child_env

verbs = typer.Typer()

REPO = Path(__file__).resolve().parents[2]
PoolOpt = Annotated[
    str | None,
    typer.Option("--pool", help="The work pool (default: dunning, or dunning-<instance> for another instance)."),
]


@verbs.command()
def deploy(
    pool: PoolOpt = None,
    emails_per_minute: Annotated[int | None, typer.Option(
        min=0, help="E-mails a minute over all workers (default DUNNING_EMAILS_PER_MINUTE, else 60; 0: no limit).",
    )] = None,
    pool_limit: Annotated[int | None, typer.Option(
        min=1, help="Invoice runs under way at once over all workers (default: each worker's --limit alone).",
    )] = None,
) -> None:
    """Register the deployments, with their schedules, in a process work pool; set the e-mail throttle and the
    automation that marks runs whose machine died as Crashed (the sweep restarts them)."""
    import asyncio

    from dunning.casework import policies

    inst = installation()
    policies.load(inst.home)  # a mistake in the policy file is named now, not in every run
    prefect_env(inst)
    from deployments import pool as work_pool
    from tasks import throttle

    name = pool or work_pool.pool_name(inst)
    per_minute = throttle.emails_per_minute_from_env() if emails_per_minute is None else emails_per_minute

    made = work_pool.for_the_pool(inst)

    async def _deploy() -> int:
        await work_pool.ensure_pool(name, pool_limit)
        await throttle.set_email_limit(inst, per_minute)
        return len(await work_pool.register(made, name))

    count = engine_call(lambda: asyncio.run(_deploy()), inst)
    typer.echo(f"{count} deployments of instance {inst.instance!r} in work pool {name!r} at {inst.prefect_api_url}")
    typer.echo(f"e-mails: {f'at most {per_minute} a minute' if per_minute else 'no limit'}; "
               f"runs a minute per sweep: {inst.wakeups_per_minute or 'all that are due'}")
    typer.echo(f"start workers with `dunning worker --pool {name}` on each machine")


@verbs.command()
def worker(
    pool: PoolOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Flow runs this worker runs at once.")] = 4,
    name: Annotated[str | None, typer.Option(help="The worker's name (default: host and process id).")] = None,
) -> None:
    """A process worker on the work pool (as `prefect worker start`), with this installation's environment: each
    invoice run its own process, at most --limit at once. Stops on Ctrl-C."""
    from deployments.pool import HEARTBEAT_SECONDS, pool_name

    inst = installation()
    env = child_env(inst)
    # The flow-run processes import the flows from this checkout, wherever the worker was started.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    # Prefect's default is 10 s: a resumed run (a person's answer) would wait that long for a worker.
    env.setdefault("PREFECT_WORKER_QUERY_SECONDS", "2")
    # Each run's process beats, so the sweep finds and restarts a run whose machine died (dunning/domain/liveness.py).
    env.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    # Prefect's process worker with one fix for runs resumed at once (deployments/worker.py says which).
    args = [sys.executable, "-m", "deployments.worker", "--pool", pool or pool_name(inst), "--limit", str(limit),
            "--name", name or f"{socket.gethostname()}-{os.getpid()}"]
    os.chdir(REPO)
    os.execve(sys.executable, args, env)  # the worker in this process: a signal to it (Ctrl-C, a kill) is to it
