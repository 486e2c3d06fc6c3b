"""The deployments of deployments/serve.py in a process work pool, for `prefect worker start` (or `dunning worker`)
on as many machines as needed, each with the same checkout and settings.

Nothing is built or uploaded: each deployment names its flow by module path (`flows.collect_invoice.collect_invoice`)
and a worker's flow-run processes import it from the worker's own checkout (`dunning worker` puts it on
PYTHONPATH). The installation a run belongs to comes from the worker's environment (DUNNING_HOME, ...), as with
`dunning run`."""

from __future__ import annotations

import copy
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.workers.process import ProcessWorker

from deployments.serve import deployments
from dunning.domain.errors import UserError
from dunning.storage.config import Installation

REPO = Path(__file__).resolve().parents[1]
# A run's process beats every HEARTBEAT_SECONDS (the pool's job template sets PREFECT_FLOWS_HEARTBEAT_FREQUENCY:
# `beating`); the sweep restarts a Running run that went silent (dunning/domain/liveness.py): it died with its machine.
HEARTBEAT_SECONDS = 30


def pool_name(inst: Installation) -> str:
    """`dunning` for the default installation; another installation on the same Prefect server gets a pool of its
    own, or one's workers (with that installation's database in their environment) would take the other's runs."""
    return "dunning" if inst.instance == "default" else f"dunning-{inst.instance}"


def module_entrypoint(deployment: RunnerDeployment) -> str:
    """`flows/desk_actions.py:register_payment_nl` (a file, relative to where the list was made) as the module path
    `flows.desk_actions.register_payment_nl`, which each worker resolves in its own checkout, wherever it is."""
    assert deployment.entrypoint is not None
    file, _, name = deployment.entrypoint.rpartition(":")
    module = Path(file).resolve().relative_to(REPO).with_suffix("")
    return ".".join((*module.parts, name))


async def ensure_pool(name: str, concurrency: int | None) -> None:
    """A process work pool `name`, made if missing; `concurrency` caps the runs under way over all its workers
    (None: no cap beyond each worker's --limit)."""
    async with get_client() as client:
        try:
            pool = await client.read_work_pool(name)
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(
                name=name, type="process", base_job_template=beating(ProcessWorker.get_default_base_job_template()),
                concurrency_limit=concurrency,
                description="dunning: one flow run per invoice; start workers with `dunning worker`",
            ))
            return
        if pool.type != "process":
            raise UserError(f"work pool {name!r} exists with type {pool.type!r}; dunning needs a process pool "
                            "(choose another with --pool)")
        if pool.concurrency_limit != concurrency:
            await client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=concurrency))
        template = beating(pool.base_job_template)
        if template != pool.base_job_template:  # a pool made before its runs beat
            await client.update_work_pool(name, WorkPoolUpdate(base_job_template=template))


def beating(template: dict) -> dict:
    """The pool's job template with every run's process beating (PREFECT_FLOWS_HEARTBEAT_FREQUENCY in the env it
    is given by default), whichever worker starts it: `prefect worker start` too, not only `dunning worker`. The
    sweep takes a pool's run that stays silent for 5 minutes, beaten or not, for dead. Nothing else changes."""
    made = copy.deepcopy(template)
    env = made.get("variables", {}).get("properties", {}).get("env")
    if env is not None:
        env["default"] = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS), **(env.get("default") or {})}
    return made


def for_the_pool(inst: Installation) -> list[RunnerDeployment]:
    """Every deployment of the installation, schedules included, naming its flow by module path. Outside an event
    loop: inside one, Prefect's `to_deployment` hands back a coroutine."""
    made = deployments(inst)
    for deployment in made:
        deployment.entrypoint = module_entrypoint(deployment)
        deployment._entrypoint_type = EntrypointType.MODULE_PATH
        deployment._path = None  # nothing to fetch: the code is the worker's checkout
    return made


async def register(made: list[RunnerDeployment], pool: str) -> list[UUID]:
    """Create or update each deployment in the pool; returns their ids."""
    return [await deployment.aapply(work_pool_name=pool) for deployment in made]
