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
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import import_invoices, invoice_row, make_home, set_clock, wait_for_deployments  # noqa: E402
from dunning.cli import engine  # noqa: E402
from dunning.messaging.mailsink import MailSink  # noqa: E402
from dunning.storage import config  # noqa: E402


def _prepare(home: Path, runs: int) -> config.Installation:
    # The packaged rate rows as they come: a wake-up to a call sends nothing that states interest.
    inst = make_home(home, "bench", os.environ.get("DUNNING_DATABASE_URL"), rates_confirmed=False)
    import_invoices(inst, [invoice_row(f"W-{n}", f"D-{n}", f"Debtor {n}", "consumer", f"d{n}@example.com", "100.00")
                           for n in range(runs)])
    return inst


async def _until(client, run_id: UUID, types: set[str], after: float) -> float:  # type: ignore[no-untyped-def]
    while True:
        run = await client.read_flow_run(run_id)
        if run.state and run.state.type.value in types and run.state.timestamp.timestamp() >= after:
            return time.perf_counter()
        await asyncio.sleep(0.02)


def _cpu(pid: int) -> float:
    """CPU seconds of a process and of the children it has waited for (a runner's finished flow-run processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent by the runner that executes a measured run (its own and its run's process) and by the
    Prefect server, between `start` and `stop`."""

    def __init__(self, server: int, runners: dict[str, int]) -> None:
        self.server, self.runners = server, runners
        self.spent: dict[str, list[tuple[float, float]]] = {}

    def start(self, runner: str) -> tuple[float, float]:
        return _cpu(self.runners[runner]), _cpu(self.server)

    def stop(self, name: str, runner: str, started: tuple[float, float]) -> None:
        run, server = self.start(runner)
        self.spent.setdefault(name, []).append((run - started[0], server - started[1]))


async def _measure(inst: config.Installation, runs: int, cpu: CpuMeter) -> dict[str, list[float]]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    from tasks.sweep import sweep_once, wait_until_settled

    results: dict[str, list[float]] = {"wake-up": [], "empty run": [], "empty resume": []}
    async with get_client() as client:
        set_clock(inst, "2026-01-06T10:00")  # due yesterday: runs start and wait for the grace days
        report = await sweep_once(inst)
        await wait_until_settled(list(report.started.values()), 300)
        set_clock(inst, "2026-01-09T10:00")
        for run_id in report.started.values():
            t0, c0 = time.perf_counter(), cpu.start("serve")
            await resume_flow_run(UUID(run_id))
            results["wake-up"].append(await _until(client, UUID(run_id), {"PAUSED"}, time.time()) - t0)
            await asyncio.sleep(1.0)  # the run's process exits and is waited for: its CPU joins the runner's
            cpu.stop("wake-up", "serve", c0)

        for _ in range(runs):
            t0, c0 = time.perf_counter(), cpu.start("baseline")
            run = await run_deployment("bench-empty/bench", timeout=0, client=client)
            results["empty run"].append(await _until(client, run.id, {"COMPLETED"}, 0) - t0)
            await asyncio.sleep(1.0)
            cpu.stop("empty run", "baseline", c0)

        paused = [await run_deployment("bench-suspend-once/bench", timeout=0, client=client) for _ in range(runs)]
        await wait_until_settled([str(r.id) for r in paused], 300)
        for run in paused:
            t0, c0 = time.perf_counter(), cpu.start("baseline")
            await resume_flow_run(run.id)
            results["empty resume"].append(await _until(client, run.id, {"COMPLETED"}, 0) - t0)
            await asyncio.sleep(1.0)
            cpu.stop("empty resume", "baseline", c0)
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
            wait_for_deployments(inst, ["collect-invoice/bench", "sweep/bench", "bench-empty/bench",
                                        "bench-suspend-once/bench"], timeout=120)
            cpu = CpuMeter(server.pid, {"serve": served[0].pid, "baseline": served[1].pid})
            results = asyncio.run(_measure(inst, args.runs, cpu))
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
    empty_cpu = statistics.median(r for r, _ in cpu.spent["empty run"])
    print("CPU seconds, median: the runner with the run's own process (incl. 1 s idle after each) / the Prefect server")
    for name, spent in cpu.spent.items():
        runner, server_cpu = statistics.median(r for r, _ in spent), statistics.median(s for _, s in spent)
        print(f"  {name:<13} {runner:6.2f} / {server_cpu:5.2f}   ratio to empty run {runner / empty_cpu:.2f}")


if __name__ == "__main__":
    main()
