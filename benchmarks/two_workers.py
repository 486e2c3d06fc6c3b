"""The production layout end to end, and its throughput (P6): a Prefect server on PostgreSQL, the app database on
PostgreSQL, the deployments registered by `dunning deploy` in a process work pool, and `dunning worker` processes;
N invoices taken through the whole ladder on simulated time, once with one worker and once with two, one of
which is killed with SIGKILL in the middle of a wake-up round: the worker's process alone (`--kill worker`, the
runs it started finish in their own processes), or with every run it started (`--kill machine`, as when its
machine dies: those runs stop beating, are marked Crashed and are restarted by the next sweep).

    .venv/bin/python -m benchmarks.two_workers [--invoices 200] [--kill worker|machine] [--postgres URL]
                                               [--only one|two] [--stages 2-5] [--json]

Each invoice: one call (answered "not reached" at once, as a collector would), herinnering, aanmaning,
ingebrekestelling and incasso-aankondiging by e-mail, then the hand-off; no approvals, no letters: what is measured
is the engine, not a person. Checked after each scenario: every message exactly once at the SMTP server
(aiosmtpd), every run Completed with its hand-off file.
Throughput is invoices taken through the ladder per hour of wall time (the sweeps and the runs they hand out, the
server's and the workers' start excluded). Prints the figures and exits 1 when a check fails. With --stages N the
ladder's first N moments only (the test suite's short form, tests/flows/test_two_workers.py): the kill in the
last of them, the messages of those stages each exactly once, every run waiting (Suspended) for its next step.

Databases: `prefect_bench` (dropped and made afresh) for the Prefect server and a throw-away one for the app, on
the server --postgres names (default DUNNING_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.common import (  # noqa: E402
    BIN,
    engine_env,
    import_invoices,
    invoice_row,
    make_home,
    postgres_database,
    set_clock,
    sigkill,
)
from benchmarks.common import dunning as dunning_cli  # noqa: E402
from dunning.cli import engine  # noqa: E402
from dunning.messaging.mailsink import MailSink  # noqa: E402
from dunning.storage import clock, config, db  # noqa: E402
from dunning.storage.models import Invoice  # noqa: E402

PREFECT_DATABASE = "prefect_bench"
# The ladder of tests/support/ladder.py without the calls, approvals and letters: due 5 January 2026.
STAGES = ("2026-01-09T10:00", "2026-01-26T10:00", "2026-02-10T10:00", "2026-03-10T10:00", "2026-03-18T10:00")
KILL_STAGE = 3  # the incasso-aankondiging round: the rounds before it compare one worker with two (--stages: the last)
MESSAGES = ("Herinnering", "Aanmaning", "Ingebrekestelling", "Aankondiging van overdracht aan een incassobureau")
POLICY = """[default]
call_attempts = 1
approvals = []
by_post = []
hold_after = ""
late_payer_invoices = 0
"""


@dataclass
class Scenario:
    workers: int
    invoices: int
    kill: str | None  # "worker": its process; "machine": its process group, the runs it started included
    stages: int = len(STAGES)  # the ladder's first moments taken
    stage_seconds: list[float] = field(default_factory=list)
    killed_during: str | None = None
    caught: int = 0  # runs the killed worker was running at the kill
    problems: list[str] = field(default_factory=list)

    @property
    def per_hour(self) -> float:
        return self.invoices / sum(self.stage_seconds) * 3600 if self.stage_seconds else 0.0

    @property
    def kill_stage(self) -> int:
        return min(KILL_STAGE, self.stages - 1)

    @property
    def before_kill(self) -> float:
        """The rounds before the kill's: all workers up."""
        return sum(self.stage_seconds[:self.kill_stage])


def admin_url(given: str | None) -> str:
    return given or os.environ.get("DUNNING_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def prefect_database(admin: str, name: str = PREFECT_DATABASE) -> Iterator[str]:
    """`prefect_bench`, made afresh (what a previous run left is dropped); its asyncpg URL for the server."""
    engine_ = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine_.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine_.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine_.dispose()


def prepare_home(home: Path, database_url: str, invoices: int, instance: str = "bench") -> config.Installation:
    inst = make_home(home, instance, database_url, POLICY)
    import_invoices(inst, [invoice_row(f"W-{n}", f"D-{n}", f"Debtor {n}", "consumer", f"d{n}@example.com", "1210.00")
                           for n in range(invoices)])
    return inst


def dunning(env: dict[str, str], *args: str) -> str:
    done = dunning_cli(env, *args)
    if done.returncode != 0:
        raise RuntimeError(f"dunning {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def start_worker(env: dict[str, str], logs: Path, n: int) -> subprocess.Popen:
    # A session of its own: the worker and the flow-run processes it starts are one process group.
    return subprocess.Popen([str(BIN / "dunning"), "worker", "--limit", "4", "--name", f"bench-{n}"], env=env,
                            stdout=(logs / f"worker-{n}.log").open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    """The worker and its flow-run processes."""
    sigkill(_children(worker.pid))
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 30)):
        try:
            os.killpg(worker.pid, sig)
        except ProcessLookupError:
            break
        try:
            worker.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)  # its runs' processes, if any, after the worker itself
    worker.poll()


async def stage(inst: config.Installation, moment: str, kill: subprocess.Popen | None,
                group: bool = False) -> int | None:
    """Sweep at `moment` until nothing more is due, each round waiting for the runs it handed out. `kill`: SIGKILL
    that worker (`group`: and every run it started) while it runs some of the first round's runs; returns how
    many it was running then (None: not killed)."""
    from tasks.sweep import sweep_once

    set_clock(inst, moment)
    killed: int | None = None
    while True:
        report = await sweep_once(inst)
        runs = list(report.touched.values())
        if not runs:
            if answer_calls(inst):
                continue
            return killed
        if kill is not None and killed is None:
            caught = await _under_way_on(kill, runs)
            # Prefect starts each run's process in a session of its own: a dying machine takes those too.
            sigkill([kill.pid, *(_children(kill.pid) if group else [])])
            kill.wait()
            killed = caught
        await _settle(inst, runs, moment)


async def _settle(inst: config.Installation, runs: list[str], moment: str, timeout: float = 900) -> None:
    """Wait for the runs a round handed out, sweeping every minute meanwhile as the scheduled sweep does: a worker
    killed while it handed a run to its process leaves the run Pending, restarted by the first sweep once it has
    been Pending for `tasks.sweep.STUCK_PENDING` (5 minutes)."""
    from tasks.sweep import sweep_once, wait_until_settled

    deadline = time.monotonic() + timeout
    waiting = runs
    while True:
        states = await wait_until_settled(waiting, 60)
        waiting = [run for run, state in states.items() if state.startswith("still running")]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(waiting)} runs did not settle at {moment}")
        waiting = sorted({*waiting, *(await sweep_once(inst)).touched.values()})


async def _under_way_on(worker: subprocess.Popen, run_ids: list[str], timeout: float = 300) -> int:
    """Once `worker` runs some of `run_ids` (Running, in a process of its group): how many. 0 when none got to it.
    The runs are read a page (200) a request: read one by one, a round of 200 took seconds to look at, and the
    worker's runs could come and go between two looks."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    ids = [UUID(run_id) for run_id in run_ids]
    deadline = time.monotonic() + timeout
    async with get_client() as client:
        while time.monotonic() < deadline:
            runs = [run for start in range(0, len(ids), 200) for run in await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids[start:start + 200])), limit=200)]
            started = {str(pid) for pid in _children(worker.pid)}
            mine = [r for r in runs if r.state and r.state.is_running() and r.infrastructure_pid in started]
            if mine:
                return len(mine)
            if all(r.state and r.state.type.value in ("PAUSED", "COMPLETED", "FAILED", "CRASHED") for r in runs):
                return 0
            await asyncio.sleep(0.2)
    return 0


def _children(pid: int) -> list[int]:
    """The processes `pid` started (its flow runs' processes, for a worker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def answer_calls(inst: config.Installation) -> int:
    """Every open call answered "not reached", as `dunning call N --not-reached` records it; the next sweep resumes
    the runs with the answer (in one round, instead of a process and a wait per call)."""
    from dunning.casework.answers import complete_call
    from dunning.casework.human_tasks import CallOutcome
    from dunning.domain.kinds import TaskKind, TaskStatus
    from dunning.storage.models import HumanTask

    with db.transaction(inst) as s:
        now = clock.now(s)
        tasks = s.query(HumanTask).filter(HumanTask.kind == TaskKind.call, HumanTask.status == TaskStatus.open).all()
        for task in tasks:
            complete_call(s, task, CallOutcome(reached=False, by="bench"), now)
            task.invoice.wake_at = now
    return len(tasks)


def check(inst: config.Installation, sink: MailSink, invoices: int, stages: int = len(STAGES)) -> list[str]:
    """Every message once, every run Completed, every hand-off written; after the ladder's first `stages` moments
    only: their messages once, every run Suspended for its next step, no hand-off yet."""
    problems = []
    seen: Counter[tuple[str, str]] = Counter()
    for message in sink.messages():
        subject = str(message["Subject"]).strip()
        found = re.search(r"factuur (W-\d+)", subject)
        seen[(subject.split(":")[0], found.group(1) if found else subject)] += 1
    expected = {(kind, f"W-{n}") for kind in MESSAGES[:stages] for n in range(invoices)}
    if twice := sorted(k for k, v in seen.items() if v > 1):
        problems.append(f"{len(twice)} messages sent more than once, e.g. {twice[:3]}")
    if missing := sorted(expected - set(seen)):
        problems.append(f"{len(missing)} messages never sent, e.g. {missing[:3]}")
    if extra := sorted(set(seen) - expected):
        problems.append(f"{len(extra)} messages not expected, e.g. {extra[:3]}")
    states = asyncio.run(_run_states(inst))
    whole = stages == len(STAGES)
    should = "COMPLETED" if whole else "PAUSED"
    if wrong := {n: s for n, s in states.items() if s != should}:
        problems.append(f"{len(wrong)} runs not {should.title()}, e.g. {sorted(wrong.items())[:3]}")
    if len(states) != invoices:
        problems.append(f"{invoices - len(states)} invoices without a run")
    handed = {p.stem for p in (inst.home / "incasso").glob("W-*.json")}
    if len(handed) != (invoices if whole else 0):
        problems.append(f"{len(handed)} of {invoices} invoices handed off after {stages} of {len(STAGES)} stages")
    return problems


async def _run_states(inst: config.Installation) -> dict[str, str]:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with db.transaction(inst) as s:
        runs = {i.number: i.flow_run_id for i in s.query(Invoice) if i.flow_run_id}
    async with get_client() as client:
        states = {number: (await client.read_flow_run(UUID(run_id))).state for number, run_id in runs.items()}
    return {number: state.type.value if state.type.value in ("COMPLETED", "PAUSED") else
            f"{state.name}: {state.message}" for number, state in states.items() if state is not None}


@contextmanager
def own_prefect_database(admin: str, name: str, given_api: str | None) -> Iterator[str | None]:
    """The Prefect server's database, made afresh; none where the server is given (`--prefect-api`)."""
    if given_api:
        yield None
    else:
        with prefect_database(admin, name) as url:
            yield url


def run_scenario(scenario: Scenario, admin: str, prefect_db: str = PREFECT_DATABASE,
                 prefect_api: str | None = None) -> Scenario:
    """`prefect_api`: a running Prefect server to use (the test suite's, on PostgreSQL) instead of one of its own;
    the deployments, work pool and e-mail limit are named after an instance of this run's own."""
    with tempfile.TemporaryDirectory(prefix="dunning-bench-") as tmp, \
            own_prefect_database(admin, prefect_db, prefect_api) as prefect_url, \
            postgres_database(admin) as app_url:
        home = Path(tmp)
        logs = home / "logs"
        logs.mkdir()
        if prefect_api:
            os.environ["PREFECT_API_URL"] = prefect_api
        inst = prepare_home(home, app_url, scenario.invoices, f"bench{time.time_ns()}" if prefect_api else "bench")
        sink = MailSink(home / "mail", host="127.0.0.1", port=0).start()
        # Before anything imports Prefect (child_env may): Prefect reads its settings once, at import.
        os.environ.update(PREFECT_API_URL=inst.prefect_api_url, PREFECT_HOME=str(inst.prefect_home),
                          PREFECT_SERVER_ANALYTICS_ENABLED="false")
        env = engine_env(inst, sink.port)
        if prefect_url:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_url
        os.environ.update(env)
        inst = config.load(home)
        server = None if prefect_api else engine.start_prefect_server(inst, inst.prefect_port, logs / "server.log")
        workers: list[subprocess.Popen] = []
        try:
            if server is not None:
                engine.wait_for_health(inst.prefect_api_url, server, timeout=180)
            dunning(env, "deploy", "--emails-per-minute", "6000")
            workers = [start_worker(env, logs, n) for n in range(scenario.workers)]
            kill_stage = STAGES[scenario.kill_stage] if scenario.kill else None
            for moment in STAGES[:scenario.stages]:
                t0 = time.perf_counter()
                caught = asyncio.run(stage(inst, moment, workers[0] if moment == kill_stage else None,
                                           group=scenario.kill == "machine"))
                if caught is not None:
                    scenario.killed_during, scenario.caught = moment, caught
                scenario.stage_seconds.append(time.perf_counter() - t0)
            scenario.problems = check(inst, sink, scenario.invoices, scenario.stages)
        except Exception as e:  # a figure is no use without its scenario's state: keep the logs' tail in the report
            scenario.problems.append(f"{type(e).__name__}: {e}")
            for log in sorted(logs.glob("worker-*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        finally:
            for worker in workers:
                stop_worker(worker)
            if server is not None:
                engine.stop(server)
            sink.stop()
            db.engine_for(app_url).dispose()
    return scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--postgres", help="a PostgreSQL server where we may create databases")
    parser.add_argument("--only", choices=("one", "two"), help="one scenario: one worker, or two with the kill")
    parser.add_argument("--kill", choices=("worker", "machine"), default="worker",
                        help="SIGKILL the worker's process alone, or its whole process group (default: worker)")
    parser.add_argument("--stages", type=int, default=len(STAGES), choices=range(2, len(STAGES) + 1),
                        help=f"the ladder's first N moments only, the kill in the last (default all {len(STAGES)})")
    parser.add_argument("--json", action="store_true", help="the results as JSON")
    parser.add_argument("--prefect-database", default=PREFECT_DATABASE,
                        help=f"the Prefect server's database, dropped and made afresh (default {PREFECT_DATABASE})")
    parser.add_argument("--prefect-api", help="a running Prefect server's API URL to use instead of one of its own "
                        "(with --only)")
    args = parser.parse_args(argv)
    admin = admin_url(args.postgres)
    os.environ.pop("PREFECT_API_URL", None)  # this run's own server, whatever the caller's environment names
    if args.only:
        plan = Scenario(1, args.invoices, None, args.stages) if args.only == "one" else \
            Scenario(2, args.invoices, args.kill, args.stages)
        results = [run_scenario(plan, admin, args.prefect_database, args.prefect_api)]
    else:
        # Each scenario in a process of its own: Prefect reads where its server is once, at import.
        results = [_in_a_process(only, args.invoices, admin, args.kill, args.prefect_database, args.stages)
                   for only in ("one", "two")]
    if args.json:
        print(json.dumps([_as_dict(r) for r in results], indent=2))
    else:
        for r in results:
            what = "its process group" if r.kill == "machine" else "its process"
            kill = (f", one killed (SIGKILL, {what}) during the sweep of {r.killed_during} while running {r.caught}"
                    f" run(s)") if r.killed_during else ""
            print(f"{r.workers} worker(s){kill}: {r.invoices} invoices through the ladder in "
                  f"{sum(r.stage_seconds):.0f} s (rounds {', '.join(f'{t:.0f}' for t in r.stage_seconds)} s): "
                  f"{r.per_hour:,.0f} invoices/hour; {'all checks passed' if not r.problems else 'PROBLEMS:'}")
            for problem in r.problems:
                print(f"    {problem}")
        if len(results) == 2 and results[1].before_kill:
            print(f"throughput two workers / one worker, the {results[1].kill_stage} rounds before the kill: "
                  f"{results[0].before_kill / results[1].before_kill:.2f}")
    return 1 if any(r.problems for r in results) else 0


def _in_a_process(only: str, invoices: int, admin: str, kill: str, prefect_db: str, stages: int) -> Scenario:
    done = subprocess.run([sys.executable, "-m", "benchmarks.two_workers", "--only", only, "--invoices",
                           str(invoices), "--postgres", admin, "--kill", kill, "--prefect-database", prefect_db,
                           "--stages", str(stages), "--json"],
                          cwd=REPO, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    try:
        [found] = json.loads(done.stdout)
    except ValueError:
        return Scenario(1 if only == "one" else 2, invoices, kill if only == "two" else None, stages,
                        problems=[f"the scenario's process exited {done.returncode}: {done.stdout[-2000:]}"])
    return Scenario(found["workers"], found["invoices"], found["kill"], found["stages"],
                    stage_seconds=found["stage_seconds"], killed_during=found["killed_during"], caught=found["caught"],
                    problems=found["problems"])


def _as_dict(r: Scenario) -> dict[str, Any]:
    return {"workers": r.workers, "invoices": r.invoices, "kill": r.kill, "stages": r.stages,
            "killed_during": r.killed_during,
            "caught": r.caught,
            "stage_seconds": r.stage_seconds, "per_hour": r.per_hour,
            "before_kill_seconds": r.before_kill, "problems": r.problems}


if __name__ == "__main__":
    sys.exit(main())
