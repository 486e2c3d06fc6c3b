"""P4 (issue 13): N invoice runs waiting (suspended) on a Prefect server hold no process, and the server's flow-run
list answers the UI in under a second.

    .venv/bin/python -m benchmarks.waiting_runs [--runs 10000] [--postgres URL] [--repeat 5]

The engine as `dunning run` starts it (dunning.cli.engine): a Prefect server (on SQLite; with `--postgres`, on a
PostgreSQL database created for the run, as the production layout has it) and the runner serving the
installation's deployments (`deployments.serve`). The waiting runs are NOT made by running the invoice flow until
it suspends: 10,000 runs of the real flow would take hours on this machine. They are created in the state a
suspended run has: each a run of the `collect-invoice` deployment, named by its invoice number, with its
parameters and tags (`dunning`, `debtor:<number>`, `debtor-name:<name>`, and `awaiting:call` on one in five,
`waiting` on the rest, as tasks/run_tags.py sets them), set Running (so it has a start time, as the run had) and
then Suspended (Paused with pause_reschedule and a pause key: the run's process has exited, the runner starts a
new one when it is resumed), as `suspend_flow_run` leaves it. By default through Prefect's own server API
(prefect.server.models: the functions the HTTP API calls, with its orchestration, forced as the client's
`force=True` is) in a process of its own on the server's database, 500 runs a transaction: over HTTP the server
took 3 runs a second on this loaded machine (an hour for 10,000); `--via-http` creates them over HTTP instead
(`create_flow_run_from_deployment` + `set_flow_run_state`).

Measured: (1) the processes the engine holds: every process descended from this one, by command line; the
target is the server and the runner and nothing else (no process per waiting run). (2) The requests the Prefect
UI's run list makes, over HTTP as the UI does, best and median of `--repeat`: POST /api/flow_runs/filter (limit
10, sorted by start time, newest first), the same filtered by the tag `awaiting:call` (the overview's "needs a
person" link), POST /api/flow_runs/count for both, and /api/flow_runs/paginate (the UI's runs page). Target:
each under 1 s."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.common import postgres_database  # noqa: E402
from dunning.cli import engine  # noqa: E402
from dunning.messaging.mailsink import free_port  # noqa: E402
from dunning.storage import config, db  # noqa: E402

LIMIT = 10
TIMEOUT = 10 * 365 * 24 * 3600  # the invoice flow's pauses time out after ten years


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process descended from `root`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        found.append((pid, cmdline))
        todo += children.get(pid, [])
    return sorted(found)


def _tags(n: int) -> list[str]:
    return ["dunning", f"debtor:D-{n // 2:06d}", f"debtor-name:Debiteur {n // 2} B.V.",
            "awaiting:call" if n % 5 == 0 else "waiting"]


def _call_key(n: int) -> str:
    return f"call:{uuid.uuid4().hex[:8]}"


async def create_in_server(instance: str, count: int, pause_key: Callable[[int], str] = _call_key,
                           tags: Callable[[int], list[str]] = _tags) -> list[str]:
    """In this process, on the server's database (PREFECT_API_DATABASE_CONNECTION_URL), with the functions the
    server's API calls: runs W-000000 on, each suspended under `pause_key(n)`; their ids.
    (benchmarks/sweep_wake.py makes its runs here, under the pause key an invoice run waiting for a date has.)"""
    from prefect.server import models, schemas
    from prefect.server.database import provide_database_interface

    database = provide_database_interface()
    async with database.session_context() as session:
        deployment = await models.deployments.read_deployment_by_name(
            session, name=instance, flow_name="collect-invoice")
        assert deployment is not None, "the runner registered no collect-invoice deployment"
    start = time.perf_counter()
    ids = []
    for first in range(0, count, 500):
        async with database.session_context(begin_transaction=True) as session:
            for n in range(first, min(first + 500, count)):
                number = f"W-{n:06d}"
                run = await models.flow_runs.create_flow_run(session, flow_run=schemas.core.FlowRun(
                    flow_id=deployment.flow_id, deployment_id=deployment.id, name=number,
                    parameters={"invoice_number": number}, tags=tags(n), state=schemas.states.Running()))
                await models.flow_runs.set_flow_run_state(session, flow_run_id=run.id, force=True, state=(
                    schemas.states.Suspended(timeout_seconds=TIMEOUT, pause_key=pause_key(n))))
                ids.append(str(run.id))
        done = min(first + 500, count)
        if done % 2000 == 0 or done == count:
            print(f"  {done} runs created ({done / (time.perf_counter() - start):.0f}/s)", flush=True)
    return ids


async def create_waiting_runs(api: str, instance: str, count: int, concurrency: int = 4) -> float:
    from prefect.client.orchestration import get_client
    from prefect.states import Running, Suspended

    async with get_client() as client:
        deployment = await client.read_deployment_by_name(f"collect-invoice/{instance}")
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            number = f"W-{n:06d}"
            tags = _tags(n)
            async with gate:
                run = await client.create_flow_run_from_deployment(
                    deployment.id, parameters={"invoice_number": number}, name=number, tags=tags, state=Running())
                await client.set_flow_run_state(
                    run.id, Suspended(timeout_seconds=TIMEOUT, pause_key=f"call:{uuid.uuid4().hex[:8]}"), force=True)

        start = time.perf_counter()
        done = 0
        for first in range(0, count, 500):
            await asyncio.gather(*(one(n) for n in range(first, min(first + 500, count))))
            done = min(first + 500, count)
            if done % 2000 == 0 or done == count:
                print(f"  {done} runs created ({done / (time.perf_counter() - start):.0f}/s)", flush=True)
        return time.perf_counter() - start


UI_REQUESTS = {
    "filter: newest 10 by start time": ("flow_runs/filter", {"sort": "START_TIME_DESC", "limit": LIMIT, "offset": 0}),
    "filter: awaiting:call, newest 10": ("flow_runs/filter", {
        "flow_runs": {"tags": {"all_": ["awaiting:call"]}}, "sort": "START_TIME_DESC", "limit": LIMIT, "offset": 0}),
    "count: all runs": ("flow_runs/count", {}),
    "count: awaiting:call": ("flow_runs/count", {"flow_runs": {"tags": {"all_": ["awaiting:call"]}}}),
    "paginate: page 1 of 10, by start time": ("flow_runs/paginate", {"sort": "START_TIME_DESC", "limit": LIMIT,
                                                                      "page": 1}),
    "paginate: paused runs, page 1": ("flow_runs/paginate", {
        "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}, "sort": "START_TIME_DESC", "limit": LIMIT,
        "page": 1}),
}


def time_ui(api: str, repeat: int) -> bool:
    met = True
    with httpx.Client(base_url=api, timeout=60) as http:
        for label, (path, body) in UI_REQUESTS.items():
            times, answer = [], None
            for _ in range(repeat):
                start = time.perf_counter()
                response = http.post(f"/{path}", json=body)
                times.append(time.perf_counter() - start)
                response.raise_for_status()
                answer = response.json()
            size = (len(answer) if isinstance(answer, list) else answer if isinstance(answer, int)
                    else f"{len(answer['results'])} of {answer['count']}")
            met = met and min(times) < 1
            print(f"  {label:<40} best {min(times) * 1000:7.1f} ms   median {statistics.median(times) * 1000:7.1f} ms"
                  f"   -> {size}")
    return met


def start_engine(inst: config.Installation, port: int, home: Path, stack: ExitStack
                 ) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The Prefect server and the runner, as `dunning run` starts them, once the runner registered the
    deployments; stopped when `stack` closes."""
    server = engine.start_prefect_server(inst, port, home / "prefect-server.log")
    stack.callback(engine.stop, server)
    engine.wait_for_health(inst.prefect_api_url, server)
    serve = engine.start_serve(inst, home / "serve.log")
    stack.callback(engine.stop, serve)
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{inst.prefect_api_url}/deployments/name/collect-invoice/{inst.instance}").is_success:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or serve.poll() is not None:
            raise SystemExit(f"the runner did not register the deployments; see {home / 'serve.log'}")
        time.sleep(1)
    print(f"engine up: server pid {server.pid}, runner pid {serve.pid}")
    return server, serve


def run(label: str, args: argparse.Namespace, prefect_database: str | None) -> None:
    print(f"--- Prefect server on {label}")
    with tempfile.TemporaryDirectory(prefix="dunning-bench-") as tmp, ExitStack() as stack:
        home = Path(tmp)
        port = free_port()
        (home / "settings.toml").write_text(f'instance = "bench"\nprefect_port = {port}\n')
        os.environ.update(DUNNING_SWEEP_SECONDS="0", DUNNING_BANK_INBOX_SECONDS="0",
                          DUNNING_INVOICE_INBOX_SECONDS="0", PREFECT_API_URL=f"http://127.0.0.1:{port}/api")
        if prefect_database:
            os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database
        else:
            os.environ.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        inst = config.load(home)
        inst.prefect_home.mkdir(parents=True, exist_ok=True)
        db.migrate(inst)
        server, serve = start_engine(inst, port, home, stack)
        start = time.perf_counter()
        if args.via_http:
            asyncio.run(create_waiting_runs(inst.prefect_api_url, inst.instance, args.runs))
        else:
            # The engine stopped meanwhile, as for a restart: on SQLite the server's own writers would hold the
            # database's one write lock against ours. The runs are in its database when it comes back.
            engine.stop(serve)
            engine.stop(server)
            subprocess.run([sys.executable, "-m", "benchmarks.waiting_runs", "--create", str(args.runs)],
                           env=engine.child_env(inst), cwd=REPO, check=True)
            server, serve = start_engine(inst, port, home, stack)
        print(f"{args.runs} suspended runs created in {time.perf_counter() - start:.0f} s "
              f"({'over HTTP' if args.via_http else 'with the server API functions'})")
        time.sleep(5)  # a runner poll or two: it would start a process for any run it took as its own
        processes = descendants(os.getpid())
        held = [(pid, cmd) for pid, cmd in processes if pid not in (server.pid, serve.pid)]
        for pid, cmd in processes:
            role = "server" if pid == server.pid else "runner" if pid == serve.pid else "OTHER"
            print(f"  process {pid:>7} {role:<6} {cmd[:100]}")
        print(f"processes beyond the server and the runner: {len(held)} (target 0) for {args.runs} waiting runs")
        print(f"the UI's run list ({args.repeat} times each):")
        met = time_ui(inst.prefect_api_url, args.repeat)
        print(f"target: under 1 s each: {'met' if met else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--via-http", action="store_true", help="create the runs over HTTP (slow)")
    parser.add_argument("--create", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--postgres", default=None,
                        help="also a server on PostgreSQL: a server where we may create a database (e.g. "
                             "DUNNING_TEST_POSTGRES_URL)")
    parser.add_argument("--no-sqlite", action="store_true", help="only the server on PostgreSQL")
    args = parser.parse_args()
    if args.create:
        asyncio.run(create_in_server(os.environ["DUNNING_INSTANCE"], args.create))
        return
    if not args.no_sqlite:
        run("SQLite", args, None)
    if args.postgres:
        with postgres_database(args.postgres) as url:
            run("PostgreSQL", args, make_url(url).set(drivername="postgresql+asyncpg").render_as_string(
                hide_password=False))


if __name__ == "__main__":
    main()
