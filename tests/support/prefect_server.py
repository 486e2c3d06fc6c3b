"""A real Prefect server in a process of its own, as `dunning run` starts one: on PostgreSQL where the tests have a
server (the production layout; on SQLite the in-process runs, many at once, made its writes wait until requests
timed out: "database is locked"), else on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """Start it with its database in `home` (SQLite) or a database of its own on the test PostgreSQL server;
    yields its API URL; stopped and reaped, and its database dropped, afterwards."""
    with _prefect_database(home) as database:
        with _server(home, database) as url:
            yield url


@contextmanager
def _prefect_database(home: Path) -> Iterator[str]:
    postgres = os.environ.get("DUNNING_TEST_POSTGRES_URL")
    if not postgres:
        yield f"sqlite+aiosqlite:///{home / 'prefect.db'}"
        return
    from sqlalchemy.engine import make_url

    from tests.support.databases import create_postgres_database, drop_postgres_database

    url = create_postgres_database()
    try:
        yield make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    finally:
        drop_postgres_database(url)


@contextmanager
def _server(home: Path, database: str) -> Iterator[str]:
    from dunning.messaging.mailsink import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": database,
        # Events (heartbeats a test posts) readable within half a second, not the default five.
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.5",
        # Background services no test relies on, writing to the server's database all the same: the
        # scheduler (tests start every run themselves; DUNNING_SWEEP_SECONDS=0), late-run marking, the worker
        # foreman, the lease repossessor, cancellation clean-up, vacuuming. Events, task runs, automations and
        # pause expirations stay on.
        **{
            f"PREFECT_SERVER_SERVICES_{service}_ENABLED": "false"
            for service in (
                "SCHEDULER", "LATE_RUNS", "FOREMAN", "REPOSSESSOR", "CANCELLATION_CLEANUP", "DB_VACUUM",
                "CLEANUP_RECONCILER",
            )
        },
    }
    with (home / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_healthy(url, server)
            yield url
        finally:
            stop_process(server)


def stop_process(process: subprocess.Popen) -> None:
    """Terminate, and kill what does not stop in time (a loaded machine); always reap it, so no process outlives
    its test unnoticed (an unreaped one is a ResourceWarning, an error under filterwarnings=error)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the Prefect server exited at start-up"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"Prefect server at {url} did not become healthy")


def wait_for_deployments(api: str, names: list[str], process: subprocess.Popen | None = None,
                         timeout: float = 180) -> None:
    """Until the Prefect server at `api` knows every deployment in `names` ("flow/deployment"); serve registers
    them one after the other. With `process` (the one registering them): fails at once should it exit."""
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting:
        assert process is None or process.poll() is None, "the process registering the deployments exited"
        try:
            with urllib.request.urlopen(f"{api}/deployments/name/{waiting[0]}", timeout=5) as r:
                if r.status == 200:
                    waiting.pop(0)
                    continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the deployment {waiting[0]} was not registered in time")
        time.sleep(0.5)
