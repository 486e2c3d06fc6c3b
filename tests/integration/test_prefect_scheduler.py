"""Prefect's scheduler creates the runs of an interval-scheduled deployment, with the packages we pin.

Why this exists: the sweep (every DUNNING_SWEEP_SECONDS) and the bank inbox are interval-scheduled deployments;
every wake-up and every payment depends on Prefect's scheduler service turning those schedules into flow runs.
With SQLAlchemy 2.1.x, Prefect 3.8.8's scheduler fails in `_insert_scheduled_flow_runs` ("Can't evaluate bulk DML
statement") and no scheduled run is ever made, without an error anywhere a user looks. requirements/run.txt pins
SQLAlchemy 2.0.x for that. The suite's Prefect servers (tests/support/prefect_server.py) switch the scheduler off,
so nothing else would notice the pin going; this test does, in-process and in a second, on a throwaway SQLite
database: `schedule_runs` is the model function the scheduler's insert goes through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect.server import models, schemas
from prefect.server.database import provide_database_interface
from prefect.server.database.dependencies import temporary_database_interface
from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, PREFECT_HOME, temporary_settings

EVERY = timedelta(minutes=1)


async def _scheduled_runs_of_an_interval_deployment(start: datetime) -> list[schemas.core.FlowRun]:
    db = provide_database_interface()
    await db.create_db()
    try:
        async with db.session_context(begin_transaction=True) as session:
            flow = await models.flows.create_flow(session=session, flow=schemas.core.Flow(name="sweep"))
            deployment = await models.deployments.create_deployment(
                session=session,
                deployment=schemas.core.Deployment(
                    name="sweep",
                    flow_id=flow.id,
                    schedules=[
                        schemas.core.DeploymentSchedule(
                            schedule=schemas.schedules.IntervalSchedule(interval=EVERY, anchor_date=start),
                        )
                    ],
                ),
            )
            assert deployment is not None
        async with db.session_context(begin_transaction=True) as session:
            await models.deployments.schedule_runs(
                session=session, deployment_id=deployment.id, start_time=start, min_runs=3, max_runs=3
            )
        async with db.session_context() as session:
            runs = await models.flow_runs.read_flow_runs(
                session=session,
                deployment_filter=schemas.filters.DeploymentFilter(
                    id=schemas.filters.DeploymentFilterId(any_=[deployment.id])
                ),
                sort=schemas.sorting.FlowRunSort.EXPECTED_START_TIME_ASC,
            )
            return [schemas.core.FlowRun.model_validate(run, from_attributes=True) for run in runs]
    finally:
        # Its own engine, closed here rather than whenever the event loop's shutdown gets round to it.
        await (await db.engine()).dispose()


def test_the_scheduler_makes_the_runs_of_an_interval_scheduled_deployment(tmp_path: Path) -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # Prefect's settings and its database interface, which caches its configuration process-wide, are both
    # restored afterwards: other tests in this process talk to a Prefect server of their own.
    with (
        temporary_settings(
            updates={
                PREFECT_HOME: tmp_path / "prefect-home",
                PREFECT_API_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
            }
        ),
        temporary_database_interface(),
    ):
        runs = asyncio.run(_scheduled_runs_of_an_interval_deployment(start))

    assert [run.expected_start_time for run in runs] == [start, start + EVERY, start + 2 * EVERY]
    assert all(run.state is not None and run.state.is_scheduled() for run in runs)
    assert all(run.auto_scheduled for run in runs)
