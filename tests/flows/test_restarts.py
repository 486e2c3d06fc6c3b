"""Server restarts (issue 14): PostgreSQL and the Prefect server go down and come back while invoice runs are
suspended, running and being resumed. Nothing is lost and nothing happens twice: every suspended run can still
be resumed, each message reaches the mail server at most once, each sent outbox row has its evidence in the
dossier exactly once, and every invoice ends where the ladder says.

The production layout (README, "Production layout"): the Prefect server and the app on PostgreSQL, here a cluster
of the test's own (tests/support/pg_cluster.py), since the shared test server must stay up for the other tests;
the served deployments (`python -m deployments.serve`, each run its own process) and a mail sink, as `dunning run`
starts them; every step a person takes through the real `dunning` command. benchmarks/chaos.py does the same at
random moments for a hundred invoices; this is its one deterministic moment, small enough for the suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from dunning.domain.kinds import OutboxStatus
from dunning.messaging.mailsink import MailSink, free_port
from dunning.storage import db
from dunning.storage.config import Installation
from dunning.storage.models import DossierEntry, Invoice, OutboxMessage
from tests.support import cli, pg_cluster
from tests.support.engine import Engine, dossier_kinds, row
from tests.support.law import confirm_packaged_rates
from tests.support.prefect_server import stop_process

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
SETTLED = {"PAUSED", "COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

# Its own Prefect server (the one it restarts), not the session's: no `prefect` mark.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("DUNNING_TEST_POSTGRES_URL"), reason="PostgreSQL tests: needs "
                       "DUNNING_TEST_POSTGRES_URL (this one makes a cluster of its own, the layout it tests)"),
    # About 100 s of two cores (its own cluster, a Prefect server started twice, a dozen run processes, the
    # `dunning` command for every step a person takes); the clean-clone suite without it: 378 s.
    pytest.mark.timeout(600),
]


class PrefectServer:
    """`prefect server start` on a fixed port and database, to kill with SIGKILL and start again on both, as a
    machine restarting it would (tests/support/prefect_server.py starts the session's, once)."""

    def __init__(self, home: Path, database: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.home = home
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": database,
            # As the session's server: no background service the test relies on (it sweeps itself).
            **{f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false" for service in (
                "SCHEDULER", "LATE_RUNS", "FOREMAN", "REPOSSESSOR", "CANCELLATION_CLEANUP", "DB_VACUUM",
                "CLEANUP_RECONCILER")},
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with (self.home / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not _answers(f"{self.url}/health"):
            assert self.process.poll() is None, "the Prefect server exited at start-up"
            assert time.monotonic() < deadline, "the Prefect server did not become healthy"
            time.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@dataclass
class RestartingEngine(Engine):
    cluster: pg_cluster.Cluster | None = None
    server: PrefectServer | None = None
    serve: subprocess.Popen | None = None
    busy: list[subprocess.Popen] = field(default_factory=list)

    def run_cli(self, *args: str, observing: bool = False) -> subprocess.CompletedProcess[str]:
        """A person's steps: the real `dunning` executable. What the test only looks at: in-process."""
        if observing:
            return cli.run(*args, env={k: v for k, v in self.env.items() if k.startswith("DUNNING_")})
        return subprocess.run([str(BIN / "dunning"), *args], env=self.env, capture_output=True, text=True,
                              timeout=240)

    def meanwhile(self, *args: str) -> subprocess.Popen:
        """`dunning ARGS` started, not waited for: a person's step still going on when the servers go down."""
        process = subprocess.Popen([str(BIN / "dunning"), *args], env=self.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.busy.append(process)
        return process

    def states(self) -> dict[str, str]:
        """Each invoice's run: its state type and name ("PAUSED Suspended")."""
        with db.engine_for(self.database_url).connect() as c:
            runs = dict(c.execute(select(Invoice.number, Invoice.flow_run_id)).all())
        listed = self.api_call("/flow_runs/filter", {"flow_runs": {"id": {"any_": list(runs.values())}}})
        by_id = {r["id"]: f"{r['state']['type']} {r['state']['name']}" for r in listed}
        return {number: by_id[run_id] for number, run_id in sorted(runs.items())}

    def until_settled(self, timeout: float = 180) -> dict[str, str]:
        """Until every invoice's run has reached a pause or an end (or failed, or crashed)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            if all(s.split()[0] in SETTLED for s in states.values()) or time.monotonic() > deadline:
                return states
            time.sleep(0.3)


@pytest.fixture
def cluster() -> Iterator[pg_cluster.Cluster]:
    if reason := pg_cluster.unavailable():
        pytest.skip(reason)
    with pg_cluster.throwaway_cluster() as made:
        yield made


@pytest.fixture
def engine(cluster: pg_cluster.Cluster, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RestartingEngine]:
    """Here instead of the tier's `engine` (tests/flows/conftest.py): an installation as that one, but its app
    database and its Prefect server's database on the throw-away cluster, and a server of its own to restart."""
    home = tmp_path / "engine"
    (home / "prefect").mkdir(parents=True)
    (home / "policies.toml").write_text("[default]\ncall_attempts = 1\n", encoding="utf-8")
    confirm_packaged_rates(home)
    app = cluster.create_database("dunning")
    server = PrefectServer(home / "prefect", cluster.create_database("prefect", driver="asyncpg"))
    # The server creates its tables while this process brings the app's to the newest schema.
    with ThreadPoolExecutor(1) as beside:
        started = beside.submit(server.start)
        db.migrate(Installation(home=home, database_url=app))
        started.result()
    sink = MailSink(tmp_path / "mail", port=0).start()
    instance = f"t{time.monotonic_ns()}"
    env = {
        **os.environ,
        "DUNNING_HOME": str(home),
        "DUNNING_DATABASE_URL": app,
        "DUNNING_INSTANCE": instance,
        "DUNNING_SMTP_PORT": str(sink.port),
        "DUNNING_SWEEP_SECONDS": "0",
        "DUNNING_BANK_INBOX_SECONDS": "0",
        "DUNNING_INVOICE_INBOX_SECONDS": "0",
        "PREFECT_API_URL": server.url,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        # The runs' logs stay in serve.log (shown when the test fails): shipping each line to the server costs a
        # request and an insert, and the server's CPU is what this test has least of.
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen([sys.executable, "-m", "deployments.serve"], env=env, cwd=REPO, stdout=log,
                             stderr=subprocess.STDOUT)
    made = RestartingEngine(home=home, env=env, sink=sink, database_url=app, api=server.url, cluster=cluster,
                            server=server, serve=serve)
    try:
        _wait_for_invoice_runs(made, instance)
        yield made
    finally:
        for process in [*made.busy, serve]:
            if process.poll() is None:
                stop_process(process)
        log.close()
        server.stop()
        sink.stop()
        db.engine_for(app).dispose()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            for name in ("serve.log", "prefect/server.log"):
                print(f"--- {name}\n" + (home / name).read_text(errors="replace")[-15000:])
            print("--- postgres\n" + cluster.log()[-5000:])


def _wait_for_invoice_runs(engine: RestartingEngine, instance: str) -> None:
    """Until the served deployments this test starts are registered (serve registers them one after the other)."""
    deadline = time.monotonic() + 90
    for name in ("collect-invoice", "sweep"):
        while not _answers(f"{engine.api}/deployments/name/{name}/{instance}"):
            assert engine.serve is not None and engine.serve.poll() is None, "the serve process exited at start-up"
            assert time.monotonic() < deadline, f"deployment {name} was not registered"
            time.sleep(0.2)


def crash_postgres_on_next_delivery(engine: RestartingEngine) -> threading.Event:
    """The moment a run hands the mail server a message: PostgreSQL crashes as the server takes it, before the
    run hears so and records it sent (the sink answers only after the crash). Set once it crashed."""
    sink, cluster = engine.sink, engine.cluster
    assert cluster is not None
    store = sink._store
    crashed = threading.Event()

    def store_then_crash(data: bytes) -> Path:
        path = store(data)
        if not crashed.is_set():
            cluster.crash()
            crashed.set()
        return path

    sink._store = store_then_crash  # type: ignore[method-assign]
    return crashed


def test_postgres_and_prefect_server_restarted_mid_round_lose_no_run_and_send_nothing_twice(engine):
    engine.import_csv([
        row("A-1", "ANNA", "consumer", "anna@example.com"),
        row("B-1", "BEDRIJF", "business", "debiteuren@bedrijf.example.com"),
        row("C-1", "CEES", "consumer", "cees@example.com"),
    ])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "A-1", "--not-reached", "--by", "Anna")
    assert engine.until_settled() == dict.fromkeys(("A-1", "B-1", "C-1"), "PAUSED Suspended")
    assert sorted(t["invoice"] for t in engine.json("tasks")) == ["B-1", "C-1"]
    # Suspended: A-1 until the day of its aanmaning (16 January), B-1 and C-1 until their calls are answered.

    # The round: the sweep wakes A-1 for its aanmaning while Anna's answer resumes B-1 for its herinnering; C-1
    # stays suspended. PostgreSQL crashes the moment the first of those messages reaches the mail server, before
    # its run hears so and records it; once PostgreSQL is back the Prefect server is killed and started again on
    # its database, while the runs go on.
    crashed = crash_postgres_on_next_delivery(engine)
    engine.set_clock("2026-01-26T10:00")
    engine.meanwhile("sweep")
    engine.meanwhile("call", "B-1", "--not-reached", "--by", "Anna")
    assert crashed.wait(timeout=240), "no message went out in the round"
    engine.cluster.start()
    engine.server.kill()
    engine.server.start()
    for person in engine.busy:  # their steps may have failed with the servers: the sweep below takes over
        person.wait(timeout=240)

    # Afterwards, as the collector would: a sweep (it restarts crashed runs and hands over what is due),
    # `dunning retry --all` for what failed, and a decision about every e-mail in doubt.
    until_every_run_is_suspended(engine)
    decide_what_is_in_doubt(engine)
    assert ladder_steps(engine) == {"A-1": ["herinnering", "aanmaning"], "B-1": ["herinnering"], "C-1": []}
    assert_every_message_once_with_its_evidence_once(engine)

    # The run suspended all along still resumes and goes on: C-1 when its call is answered. (A-1 and B-1 were
    # resumed after the restarts already, by the sweep and by Anna's answer.)
    engine.cli("call", "C-1", "--not-reached", "--by", "Anna")
    until_every_run_is_suspended(engine)
    decide_what_is_in_doubt(engine)
    assert ladder_steps(engine) == {"A-1": ["herinnering", "aanmaning"], "B-1": ["herinnering"],
                                    "C-1": ["herinnering"]}
    assert sorted(engine.subjects()) == [
        "Aanmaning: factuur A-1 is nog steeds niet betaald",
        "Herinnering: factuur A-1 is nog niet betaald",
        "Herinnering: factuur B-1 is nog niet betaald",
        "Herinnering: factuur C-1 is nog niet betaald",
    ]
    assert_every_message_once_with_its_evidence_once(engine)
    tags = {n: engine.run_state(n)["tags"] for n in ("A-1", "B-1", "C-1")}
    assert all("waiting" in tags[n] for n in ("A-1", "B-1", "C-1")), tags


def ladder_steps(engine: RestartingEngine) -> dict[str, list[str]]:
    """The ladder's steps in each invoice's dossier, in order: not its calls, nor a person's notes, and a message
    handed over again after it was in doubt (`dunning outbox resend`, a new attempt with its own evidence) once."""
    return {n: list(dict.fromkeys(k for k in dossier_kinds(engine, n) if k not in ("call", "note")))
            for n in ("A-1", "B-1", "C-1")}


def until_every_run_is_suspended(engine: RestartingEngine) -> None:
    """Sweep until every run waits again: the sweep starts what is due, wakes what the day or an answer wakes
    and restarts a crashed run; a run that failed is restarted with `dunning retry --all`, as a person would."""
    for _ in range(4):
        swept = engine.cli("sweep", check=False)
        assert swept.returncode in (0, 1), swept.stderr  # 1: a run still failed, named on stderr
        states = engine.until_settled()
        if any(s.startswith("FAILED") for s in states.values()):
            engine.cli("retry", "--all", check=False)
            states = engine.until_settled()
        if all(s == "PAUSED Suspended" for s in states.values()) and "started" not in swept.stdout:
            return
    raise AssertionError(f"runs not suspended again: {states}")


def decide_what_is_in_doubt(engine: RestartingEngine) -> None:
    """What a person does with an e-mail in doubt: the mail server's log (here the sink) shows whether it
    arrived; confirmed if it did, handed over again (same Message-ID) if it did not."""
    arrived = {str(m["Message-ID"]).strip() for m in engine.sink.messages()}
    with db.transaction(Installation(home=engine.home, database_url=engine.database_url)) as s:
        in_doubt = [(m.key, (m.message_id or "").strip()) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.in_doubt.is_(True)))]
    for key, message_id in in_doubt:
        print(f"in doubt after the restarts: {key}, {'arrived' if message_id in arrived else 'never arrived'}")
        engine.cli("outbox", "confirm" if message_id in arrived else "resend", key, "--by", "Anna")


def assert_every_message_once_with_its_evidence_once(engine: RestartingEngine) -> None:
    at_sink = Counter(str(m["Message-ID"]).strip() for m in engine.sink.messages())
    with db.transaction(Installation(home=engine.home, database_url=engine.database_url)) as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        evidence = Counter(s.scalars(select(DossierEntry.key)).all())
        assert [r.key for r in rows if r.status is OutboxStatus.sending or r.in_doubt] == [], \
            "every hand-over interrupted by the restarts was found in doubt and decided"
        sent = [r for r in rows if r.status is OutboxStatus.sent]
        assert {r.key: evidence[r.key] for r in sent} == {r.key: 1 for r in sent}, "each sent row's evidence once"
        emailed = {(r.message_id or "").strip() for r in sent if r.channel.value == "email"}
    assert {mid: n for mid, n in at_sink.items() if n != 1} == {}, "no message twice at the mail server"
    assert set(at_sink) == emailed, "every e-mail recorded sent arrived, and nothing arrived unrecorded"
