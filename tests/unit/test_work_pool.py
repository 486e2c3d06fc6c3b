"""`dunning deploy` registers in the work pool what `dunning run` serves, each flow named so that a worker's
flow-run process finds it in its own checkout (deployments/pool.py). No server: the deployments as they would
be sent."""

from __future__ import annotations

from prefect.flows import load_flow_from_entrypoint

from deployments import pool
from deployments.serve import deployments
from dunning.storage import config


def test_the_pool_gets_every_served_deployment_with_its_schedules(tmp_path):
    inst = config.load(tmp_path)
    served = {(d.flow_name, d.name): len(d.schedules or []) for d in deployments(inst)}
    pooled = {(d.flow_name, d.name): len(d.schedules or []) for d in pool.for_the_pool(inst)}
    assert pooled == served
    assert pooled[("sweep", inst.instance)] == 1 and pooled[("daily-overview", inst.instance)] == 1


def test_each_pooled_deployment_names_a_module_path_that_loads_its_own_flow(tmp_path):
    inst = config.load(tmp_path)
    for deployment in pool.for_the_pool(inst):
        assert deployment.entrypoint is not None and ":" not in deployment.entrypoint, deployment.entrypoint
        assert load_flow_from_entrypoint(deployment.entrypoint).name == deployment.flow_name


def test_another_instance_gets_a_pool_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("DUNNING_INSTANCE", "default")
    assert pool.pool_name(config.load(tmp_path)) == "dunning"
    monkeypatch.setenv("DUNNING_INSTANCE", "acme")
    assert pool.pool_name(config.load(tmp_path)) == "dunning-acme"


def test_the_sweep_is_scheduled_as_one_run_of_ten_rounds_a_minute_apart(tmp_path, monkeypatch):
    from datetime import timedelta

    from deployments import serve

    monkeypatch.setattr(serve, "SWEEP_SECONDS", 60)
    monkeypatch.setattr(serve, "SWEEP_ROUNDS", 10)
    [sweep] = [d for d in deployments(config.load(tmp_path)) if d.flow_name == "sweep"]
    assert sweep.parameters == {"rounds": 10, "every_seconds": 60}
    assert [s.schedule.interval for s in sweep.schedules] == [timedelta(minutes=10)]
    monkeypatch.setattr(serve, "SWEEP_SECONDS", 0)  # tests and scripts sweep themselves: one round when started
    [sweep] = [d for d in deployments(config.load(tmp_path)) if d.flow_name == "sweep"]
    assert sweep.parameters == {} and not sweep.schedules


def test_every_run_of_the_pool_beats_whichever_worker_starts_it_and_a_teams_own_env_stays():
    from prefect.workers.process import ProcessWorker

    from deployments.pool import HEARTBEAT_SECONDS, beating

    template = ProcessWorker.get_default_base_job_template()
    made = beating(template)
    assert made["variables"]["properties"]["env"]["default"] == {
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}
    assert beating(made) == made  # a pool set up once is not updated again
    assert template == ProcessWorker.get_default_base_job_template()  # the given one is left as it was
    own = beating(made | {"variables": {"properties": {"env": {"default": {
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60", "HTTPS_PROXY": "http://proxy:3128"}}}}})
    assert own["variables"]["properties"]["env"]["default"] == {
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "60", "HTTPS_PROXY": "http://proxy:3128"}
