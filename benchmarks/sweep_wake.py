"""P2 (issue 13), second half: a sweep that wakes 1,000 invoice runs takes at most 1.5x the time of 1,000 bare
`resume_flow_run` calls, measured in the same run against the same Prefect server.

    .venv/bin/python -m benchmarks.sweep_wake [--runs 1000] [--repeat 3] [--postgres URL] [--no-sqlite] [--profile]

Measured: (sweep) the real sweep, `tasks.sweep.sweep_once(inst)` as `dunning sweep` runs it, when `--runs` invoice
runs are suspended and due to wake: their invoice's `wake_at` has come on the installation's clock, so
`dunning.casework.wakeups.due` hands them out and `tasks.sweep.wake` reads each run, decides with
`wakeups.on_waking` and resumes it; `wakeups_per_minute` is unset (the settings' default: no pace), so one sweep
wakes them all. (bare) `prefect.flow_runs.resume_flow_run(run_id)` called once for each of another `--runs`
suspended runs of the same kind, one after the other as the sweep does. Each figure is the best (and median) of
`--repeat`, every repeat on fresh runs, the bare calls and the sweep taking turns at going first (the load of a
shared machine drifts); after each measurement every run is read back and counted: it must have left Paused.
Printed: the time per run of both and their ratio; target: the sweep at most 1.5x the bare calls.
`--profile`: one more sweep of as many runs under cProfile, its costliest functions printed (not timed).

The Prefect server is a real local one, started as `dunning run` starts it (on SQLite in the home's Prefect
folder), but WITHOUT the runner (`deployments.serve`): a resumed run is Scheduled ("Resuming") and nobody
executes it, so only the wake-up itself is measured. The `collect-invoice` deployment is registered over the API
(no runner registers it). The suspended runs are made as benchmarks/waiting_runs.py makes them (its
`create_in_server`: Prefect's server functions, in bulk, with the server stopped), each Suspended under the pause
key an invoice run waiting for its date has (`wait-<random>`, flows/collect_invoice.py `wait_until`) and tagged
`waiting`. The app database: SQLite in the home, and with `--postgres URL` (or DUNNING_TEST_POSTGRES_URL) a
PostgreSQL database created for the run, dropped afterwards; the book inserted in bulk: one invoice per sweep run
(its number the run's `invoice_number`, its `flow_run_id` the run's id), four to a debtor, overdue, its wake-up
set a minute before now (real time) just before its sweep."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text, update  # noqa: E402

from benchmarks.common import add_database_options, on_each_database  # noqa: E402
from dunning.cli import engine  # noqa: E402
from dunning.domain.kinds import DebtorKind  # noqa: E402
from dunning.domain.wakeups import PauseKey  # noqa: E402
from dunning.messaging.mailsink import free_port  # noqa: E402
from dunning.storage import clock, config, db  # noqa: E402
from dunning.storage.models import Debtor, Invoice  # noqa: E402

TARGET = 1.5
PER_DEBTOR = 4
CHUNK = 5000
PORT = free_port()  # one port for every server this process starts, one after the other: Prefect reads its
# settings (PREFECT_API_URL) once, at import


def _waiting_tags(n: int) -> list[str]:
    return ["dunning", f"debtor:D-{n // PER_DEBTOR:06d}", f"debtor-name:Debiteur {n // PER_DEBTOR} B.V.", "waiting"]


def create_runs(instance: str, count: int, out: Path) -> None:
    """In a process of its own, on the stopped server's database: `count` runs suspended waiting for a date."""
    from benchmarks.waiting_runs import create_in_server

    ids = asyncio.run(create_in_server(instance, count, pause_key=lambda n: str(PauseKey.wait()), tags=_waiting_tags))
    out.write_text(json.dumps(ids))


def book(run_ids: list[str], numbers: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The invoices of the runs `numbers` (W-<n>, run `run_ids[n]`), overdue, their wake-up a month away."""
    today = date.today()
    later = datetime.now(UTC) + timedelta(days=30)
    debtors = [{"id": d + 1, "number": f"D-{d:06d}", "name": f"Debiteur {d} B.V.", "kind": DebtorKind.business,
                "email": f"d{d}@example.com", "language": "nl"}
               for d in sorted({n // PER_DEBTOR for n in numbers})]
    invoices = [{"number": f"W-{n:06d}", "debtor_id": n // PER_DEBTOR + 1, "issue_date": today - timedelta(days=60),
                 "due_date": today - timedelta(days=30), "amount": Decimal(f"{100 + n % 900}.{n * 7 % 100:02d}"),
                 "currency": "EUR", "payment_reference": None, "flow_run_id": run_ids[n], "wake_at": later,
                 "closed_reason": None} for n in numbers]
    return debtors, invoices


def insert_book(inst: config.Installation, debtors: list[dict[str, Any]], invoices: list[dict[str, Any]]) -> None:
    engine_ = db.engine_for(inst.database_url)
    with engine_.begin() as c:
        for table, rows in ((Debtor, debtors), (Invoice, invoices)):
            for start in range(0, len(rows), CHUNK):
                c.execute(insert(table), rows[start:start + CHUNK])
        c.execute(text("ANALYZE"))


def due_now(inst: config.Installation, numbers: list[str]) -> None:
    """The wake-up of these invoices came a minute ago, on the installation's clock."""
    with db.transaction(inst) as s:
        now = clock.now(s)
        s.execute(update(Invoice).where(Invoice.number.in_(numbers)).values(wake_at=now - timedelta(minutes=1)))


async def left_paused(run_ids: list[str]) -> tuple[int, int]:
    """(how many of `run_ids` are no longer Paused, how many still are), read back from the server."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    resumed = paused = 0
    async with get_client() as client:
        for start in range(0, len(run_ids), 200):  # the server answers at most 200 a page
            chunk = [UUID(r) for r in run_ids[start:start + 200]]
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)),
                                               limit=200)
            assert len(runs) == len(chunk), f"read back {len(runs)} of {len(chunk)} runs"
            for run in runs:
                if run.state is not None and run.state.is_paused():
                    paused += 1
                else:
                    resumed += 1
    return resumed, paused


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await work()
    return time.perf_counter() - start, result


async def measure(inst: config.Installation, batches: list[list[str]], args: argparse.Namespace
                  ) -> tuple[list[float], list[float], bool]:
    from prefect.flow_runs import resume_flow_run

    from tasks.sweep import sweep_once

    n = args.runs
    sweeps: list[float] = []
    bares: list[float] = []
    complete = True

    async def bare(r: int) -> None:
        nonlocal complete
        ids = batches[2 * r + 1]

        async def each() -> None:
            for run_id in ids:
                await resume_flow_run(run_id)  # type: ignore[misc]  # async_dispatch: awaited in a coroutine

        took, _ = await timed(each)
        resumed, paused = await left_paused(ids)
        complete = complete and resumed == n
        bares.append(took)
        print(f"  repeat {r + 1}: bare resume_flow_run x {n}: {took:7.2f} s  {took / n * 1000:6.1f} ms/run   "
              f"resumed {resumed}, still paused {paused}   (load {os.getloadavg()[0]:.1f})", flush=True)

    async def sweep(r: int) -> None:
        nonlocal complete
        due_now(inst, [f"W-{i:06d}" for i in range(2 * r * n, (2 * r + 1) * n)])
        took, report = await timed(lambda: sweep_once(inst))
        resumed, paused = await left_paused(batches[2 * r])
        complete = complete and resumed == n and len(report.woken) == n
        sweeps.append(took)
        print(f"  repeat {r + 1}: sweep_once waking {n}:       {took:7.2f} s  {took / n * 1000:6.1f} ms/run   "
              f"resumed {resumed}, still paused {paused}, the sweep says woken {len(report.woken)}   "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)

    for r in range(args.repeat):
        for measured in ((bare, sweep) if r % 2 == 0 else (sweep, bare)):
            await measured(r)
    return sweeps, bares, complete


async def profile(inst: config.Installation, run_ids: list[str], first: int) -> None:
    from tasks.sweep import sweep_once

    due_now(inst, [f"W-{i:06d}" for i in range(first, first + len(run_ids))])
    profiler = cProfile.Profile()
    profiler.enable()
    report = await sweep_once(inst)
    profiler.disable()
    resumed, paused = await left_paused(run_ids)
    print(f"  profiled sweep: woken {len(report.woken)}, resumed {resumed}, still paused {paused}")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(30)
        print(f"  --- by {order}\n" + "\n".join(
            line for line in out.getvalue().splitlines() if line.strip() and not line.startswith("   Ordered")))


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- app database on {label}; Prefect server on SQLite, no runner", flush=True)
    (home / "settings.toml").write_text(f'instance = "bench"\nprefect_port = {PORT}\n', encoding="utf-8")
    os.environ["DUNNING_DATABASE_URL"] = database_url
    inst = config.load(home)
    assert inst.wakeups_per_minute is None, "wakeups_per_minute set: the sweep would not wake them all"
    inst.prefect_home.mkdir(parents=True, exist_ok=True)
    db.migrate(inst)
    n, batch_count = args.runs, 2 * args.repeat + (1 if args.profile else 0)

    t0 = time.perf_counter()
    server = engine.start_prefect_server(inst, PORT, home / "prefect-server.log")
    try:
        engine.wait_for_health(inst.prefect_api_url, server)
        asyncio.run(register_deployment(inst.instance))
    finally:
        engine.stop(server)  # on SQLite the server's own writers would hold the write lock against the bulk insert
    out = home / "run-ids.json"
    subprocess.run([sys.executable, "-m", "benchmarks.sweep_wake", "--create", str(n * batch_count),
                    "--out", str(out)], env=engine.child_env(inst), cwd=REPO, check=True)
    run_ids = json.loads(out.read_text())
    batches = [run_ids[b * n:(b + 1) * n] for b in range(batch_count)]
    swept = [i for b in range(0, batch_count, 2) for i in range(b * n, (b + 1) * n)]  # batches 0, 2, ...
    insert_book(inst, *book(run_ids, swept))
    print(f"  set-up: {len(run_ids)} suspended runs, {len(swept)} invoices, {time.perf_counter() - t0:.0f} s",
          flush=True)

    server = engine.start_prefect_server(inst, PORT, home / "prefect-server.log")
    try:
        engine.wait_for_health(inst.prefect_api_url, server)
        time.sleep(5)  # the server's services have started: their first loop is not in the first measurement
        sweeps, bares, complete = asyncio.run(measure(inst, batches, args))
        if args.profile:
            asyncio.run(profile(inst, batches[-1], (batch_count - 1) * n))
    finally:
        engine.stop(server)
    sweep, bare = min(sweeps), min(bares)
    ratio = sweep / bare
    print(f"  bare resume_flow_run: best {bare / n * 1000:6.1f} ms/run, median "
          f"{statistics.median(bares) / n * 1000:6.1f} ms/run (= 1.00)")
    print(f"  sweep_once:           best {sweep / n * 1000:6.1f} ms/run, median "
          f"{statistics.median(sweeps) / n * 1000:6.1f} ms/run ({ratio:.2f} x bare best, "
          f"{statistics.median(sweeps) / statistics.median(bares):.2f} x bare median)")
    met = complete and ratio <= TARGET
    print(f"  every run resumed: {'yes' if complete else 'NO'}; target sweep <= {TARGET} x bare: "
          f"{'met' if met else 'MISSED'}", flush=True)
    args.missed = args.missed or not met


async def register_deployment(instance: str) -> None:
    """The `collect-invoice` deployment of this installation, as the runner would register it (no work pool)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        flow_id = await client.create_flow_from_name("collect-invoice")
        await client.create_deployment(flow_id=flow_id, name=instance,
                                       entrypoint="flows/collect_invoice.py:collect_invoice")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one more sweep under cProfile, its costliest calls")
    parser.add_argument("--create", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    add_database_options(parser)
    args = parser.parse_args()
    if args.create:
        create_runs(os.environ["DUNNING_INSTANCE"], args.create, args.out)
        return
    os.environ.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)  # the server on SQLite in the home, as by default
    os.environ.update(PREFECT_API_URL=f"http://127.0.0.1:{PORT}/api", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    print(f"{args.runs} runs woken by one sweep against {args.runs} bare resume_flow_run calls, best of "
          f"{args.repeat}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    args.missed = False
    on_each_database(run, args)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sys.exit(1 if args.missed else 0)


if __name__ == "__main__":
    main()
