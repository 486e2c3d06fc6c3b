"""Shared fixtures: an installation on a fresh database, on SQLite and on PostgreSQL; the session's real Prefect
server; the Hypothesis profile for CI.

PostgreSQL tests use DUNNING_TEST_POSTGRES_URL (a server where we may create databases); each test session
creates its own databases there and drops them afterwards. Without the variable they are skipped.

The tiers: tests/unit (no database), tests/integration (SQLite and PostgreSQL, the CLI in-process), tests/process
(the collection process: the flow's decisions and tasks on the real Prefect server, executed in this process)
and tests/flows (end to end: served deployments, the real `dunning` command, the browser)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dunning.storage import config, db
from dunning.storage.config import Installation

POSTGRES_URL = os.environ.get("DUNNING_TEST_POSTGRES_URL")
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")

# CI's machine is shared and slow at times: a property that once took 250 ms is no failure there. Same examples,
# no deadline; locally the default profile keeps the deadline as a hint that something got slow.
settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
if IN_CI:
    settings.load_profile("ci")


def _admin_url() -> str:
    assert POSTGRES_URL
    return POSTGRES_URL


def create_postgres_database() -> str:
    """A new, empty database on the test server; returns its URL."""
    name = f"dunning_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    db.engine_for(url).dispose()
    name = make_url(url).database
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of `kind` ("sqlite" or "postgres") for one test; dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'dunning.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("DUNNING_TEST_POSTGRES_URL is not set")
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# For a tier whose `database_url` is SQLite unless a test asks for both (see tests/process, tests/flows).
on_both_databases = pytest.mark.parametrize("database_url", BOTH_DATABASES, indirect=True)


@pytest.fixture(params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def installation(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Installation:
    """A migrated installation in a temporary DUNNING_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DUNNING_HOME", str(home))
    monkeypatch.setenv("DUNNING_DATABASE_URL", database_url)
    inst = config.load()
    db.migrate(inst)
    return inst


# --- the real Prefect server ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Prefect server (on SQLite) per test session, or per worker with pytest-xdist; each test's installation
    names its own deployments after its instance, so tests never see each other's runs."""
    from dunning.messaging.mailsink import free_port

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
    }
    log = (home / "server.log").open("wb")
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
        log.close()


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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Each phase's report on the item (`item.rep_call`), so a fixture can print its logs when the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
