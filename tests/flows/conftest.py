"""The real engine for end-to-end tests: one Prefect server per test session (SQLite), and per test a fresh
installation (its own database, deployments named after it, a served-deployment process) with a real SMTP
server on loopback. Tests drive it like a user: through the `dunning` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from dunning.messaging.mailsink import MailSink, free_port
from dunning.storage import config, db

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
        _stop(server)
        log.close()


def _stop(process: subprocess.Popen) -> None:
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


@dataclass
class Engine:
    home: Path
    env: dict[str, str]
    sink: MailSink
    serve: subprocess.Popen
    database_url: str
    api: str

    def sweep(self) -> str:
        return self.cli("sweep").stdout

    def set_clock(self, moment: str) -> None:
        self.cli("clock", "set", moment)

    def run_state(self, invoice: str) -> dict:
        """The invoice's flow run as the Prefect API reports it (state type and name, message)."""
        with db.engine_for(self.database_url).connect() as c:
            query = text("SELECT flow_run_id FROM invoice WHERE number = :n")
            run_id = c.execute(query, {"n": invoice}).scalar_one()
        with urllib.request.urlopen(f"{self.api}/flow_runs/{run_id}", timeout=10) as r:
            run = json.loads(r.read())
        return {
            "id": run_id,
            "type": run["state"]["type"],
            "name": run["state"]["name"],
            "message": run["state"].get("message") or "",
            "run_name": run["name"],
            "tags": run["tags"],
        }

    def subjects(self) -> list[str]:
        return [str(m["Subject"]).strip() for m in self.sink.messages()]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "dunning"), *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(f"dunning {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args: str) -> object:
        return json.loads(self.cli(*args, "--json").stdout)

    def installation(self) -> config.Installation:
        return config.load(self.home)

    def import_csv(self, rows: list[dict[str, str]]) -> None:
        path = self.home / f"import-{time.monotonic_ns()}.csv"
        columns = (
            "invoice_number,debtor_number,debtor_name,debtor_kind,email,phone,street,postcode,city,country,"
            "language,issue_date,due_date,amount,currency"
        ).split(",")
        lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.cli("import", "invoices", str(path))


@pytest.fixture
def engine(prefect_api: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    home = tmp_path / "engine"
    home.mkdir()
    # One try per call keeps the ladder short; test_ladder_end_to_end has a test with the default three.
    (home / "policies.toml").write_text("[default]\ncall_attempts = 1\n", encoding="utf-8")
    instance = f"t{time.monotonic_ns()}"
    sink = MailSink(tmp_path / "mail", port=0).start()
    env = {
        **os.environ,
        "DUNNING_HOME": str(home),
        "DUNNING_DATABASE_URL": database_url,
        "DUNNING_INSTANCE": instance,
        "DUNNING_SMTP_PORT": str(sink.port),
        "DUNNING_SWEEP_SECONDS": "0",  # the tests sweep themselves
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    _migrate(env)
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_deployments(prefect_api, instance, serve, env)
        yield Engine(home=home, env=env, sink=sink, serve=serve, database_url=database_url, api=prefect_api)
    finally:
        _stop(serve)
        log.close()
        sink.stop()
        db.engine_for(database_url).dispose()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print((home / "serve.log").read_text(errors="replace")[-20000:])


def _migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "dunning"), "clock", "show"], env=env, check=True, capture_output=True, text=True, timeout=120
    )


def _wait_for_deployments(api: str, instance: str, serve: subprocess.Popen, env: dict[str, str]) -> None:
    deadline = time.monotonic() + 90
    name = f"collect-invoice/{instance}"
    while time.monotonic() < deadline:
        assert serve.poll() is None, "the serve process exited at start-up"
        try:
            with urllib.request.urlopen(f"{api}/deployments/name/{name}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"deployment {name} was not registered")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
