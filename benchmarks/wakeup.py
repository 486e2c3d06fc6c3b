"""The cost of one wake-up of an invoice run (resume -> the run's next suspend), against an empty Prefect flow
run measured in the same run, both through served deployments on a real local Prefect server.

    .venv/bin/python benchmarks/wakeup.py [--runs N]

Wake-up: a run waiting for its grace days is resumed (as the sweep does); it replays, reads the facts, opens
the call task with its call sheet and artifact, and suspends for the collector's input. Baselines: an empty
flow run (create -> completed) and an empty suspended run (resume -> completed). Times are wall-clock and
include the runner's poll interval (PREFECT_RUNNER_POLL_FREQUENCY=2 s, as `dunning run` uses)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dunning.casework import importer  # noqa: E402
from dunning.cli import engine  # noqa: E402
from dunning.domain.time import AMSTERDAM  # noqa: E402
from dunning.messaging.mailsink import MailSink, free_port  # noqa: E402
from dunning.storage import clock, config, db  # noqa: E402


def _prepare(home: Path, runs: int) -> config.Installation:
    port = free_port()
    (home / "settings.toml").write_text(f'instance = "bench"\nprefect_port = {port}\n')
    inst = config.load(home)
    db.migrate(inst)
    rows = home / "invoices.csv"
    with rows.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(importer.COLUMNS)
        for n in range(runs):
            w.writerow([f"W-{n}", f"D-{n}", f"Debtor {n}", "consumer", f"d{n}@example.com", "+31 20 000 0000",
                        "Dorpsstraat 1", "1234 AB", "Utrecht", "NL", "nl", "2025-12-06", "2026-01-05", "100.00",
                        "EUR"])
    with db.transaction(inst) as s:
        importer.import_invoices(s, rows)
    return inst


def _set_clock(inst: config.Installation, moment: str) -> None:
    with db.transaction(inst) as s:
        clock.set_simulated(s, datetime.fromisoformat(moment).replace(tzinfo=AMSTERDAM))


async def _until(client, run_id: UUID, types: set[str], after: float) -> float:  # type: ignore[no-untyped-def]
    while True:
        run = await client.read_flow_run(run_id)
        if run.state and run.state.type.value in types and run.state.timestamp.timestamp() >= after:
            return time.perf_counter()
        await asyncio.sleep(0.02)


async def _measure(inst: config.Installation, runs: int) -> dict[str, list[float]]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    from tasks.sweep import sweep_once, wait_until_settled

    results: dict[str, list[float]] = {"wake-up": [], "empty run": [], "empty resume": []}
    async with get_client() as client:
        _set_clock(inst, "2026-01-06T10:00")  # due yesterday: runs start and wait for the grace days
        report = await sweep_once(inst)
        await wait_until_settled(list(report.started.values()), 300)
        _set_clock(inst, "2026-01-09T10:00")
        for run_id in report.started.values():
            t0 = time.perf_counter()
            await resume_flow_run(UUID(run_id))
            results["wake-up"].append(await _until(client, UUID(run_id), {"PAUSED"}, time.time()) - t0)

        for _ in range(runs):
            t0 = time.perf_counter()
            run = await run_deployment("bench-empty/bench", timeout=0, client=client)
            results["empty run"].append(await _until(client, run.id, {"COMPLETED"}, 0) - t0)

        paused = [await run_deployment("bench-suspend-once/bench", timeout=0, client=client) for _ in range(runs)]
        await wait_until_settled([str(r.id) for r in paused], 300)
        for run in paused:
            t0 = time.perf_counter()
            await resume_flow_run(run.id)
            results["empty resume"].append(await _until(client, run.id, {"COMPLETED"}, 0) - t0)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dunning-bench-") as tmp:
        home = Path(tmp)
        inst = _prepare(home, args.runs)
        sink = MailSink(home / "mail", host="127.0.0.1", port=0)
        sink.start()
        (home / "run.json").write_text(f'{{"smtp_port": {sink.port}}}')
        inst = config.load(home)
        env = engine.child_env(inst) | {"DUNNING_SWEEP_SECONDS": "0"}
        os.environ.update(env)
        inst.prefect_home.mkdir(parents=True, exist_ok=True)
        logs = home / "logs"
        logs.mkdir()
        server = engine.start_prefect_server(inst, inst.prefect_port, logs / "server.log")
        served: list[subprocess.Popen] = []
        try:
            engine.wait_for_health(inst.prefect_api_url, server)
            served.append(engine.start_serve(inst, logs / "serve.log"))
            served.append(subprocess.Popen([sys.executable, "-m", "benchmarks.baseline_flows"], env=env, cwd=REPO,
                                           stdout=(logs / "baseline.log").open("wb"), stderr=subprocess.STDOUT))
            _wait_for_deployments(inst)
            results = asyncio.run(_measure(inst, args.runs))
        finally:
            for p in served:
                engine.stop(p)
            engine.stop(server)
            sink.stop()
    run, resume = statistics.median(results["empty run"]), statistics.median(results["empty resume"])
    print(f"{args.runs} runs each; median (min-max) seconds, wall clock incl. the runner's 2 s poll interval")
    for name, values in results.items():
        m = statistics.median(values)
        print(
            f"  {name:<13} {m:6.2f} ({min(values):.2f}-{max(values):.2f})"
            f"  ratio to empty run {m / run:.2f}, to empty resume {m / resume:.2f}"
        )


def _wait_for_deployments(inst: config.Installation, timeout: float = 120) -> None:
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    names = ["collect-invoice/bench", "sweep/bench", "bench-empty/bench", "bench-suspend-once/bench"]
    while time.monotonic() < deadline:
        try:
            for name in names:
                with urllib.request.urlopen(f"{inst.prefect_api_url}/deployments/name/{name}", timeout=5) as r:
                    json.loads(r.read())
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError("deployments were not registered in time")


if __name__ == "__main__":
    main()
