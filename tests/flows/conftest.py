"""End to end: the session's real Prefect server (tests/conftest.py) and per test a fresh installation (its own
database, deployments named after it, served by `python -m deployments.serve` as `dunning run` does) with a real
SMTP server on loopback. Tests drive it like a user: through the real `dunning` command, each verb its own
process, each flow run its own process. SQLite unless a test asks for both databases (`on_both_databases`).

These are the few tests of how the pieces fit: the ladder's scenarios run in tests/process, in-process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dunning.messaging.mailsink import MailSink
from dunning.storage import db
from tests.support import cli
from tests.support.databases import fresh_database
from tests.support.engine import Engine
from tests.support.law import confirm_packaged_rates
from tests.support.prefect_server import stop_process, wait_for_deployments

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


@dataclass
class ServedEngine(Engine):
    serve: subprocess.Popen | None = field(default=None)

    def run_cli(self, *args: str, observing: bool = False) -> subprocess.CompletedProcess[str]:
        """Every step the user takes is the real `dunning` executable, its own process. What the test only looks
        at (`--json` listings) or sets up (the clock, the import) runs in-process, the same code without the
        second of starting Python: these tests poll listings while runs go on, and that adds up to minutes."""
        if observing:
            return cli.run(*args, env={k: v for k, v in self.env.items() if k.startswith("DUNNING_")})
        return subprocess.run([str(BIN / "dunning"), *args], env=self.env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(getattr(request, "param", "sqlite"), tmp_path)


@pytest.fixture
def engine(prefect_api: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    home = tmp_path / "engine"
    home.mkdir()
    # One try per call keeps the ladder short; tests/process has a test with the default three.
    (home / "policies.toml").write_text("[default]\ncall_attempts = 1\n", encoding="utf-8")
    confirm_packaged_rates(home)
    # The forms, sheets and overview in one language, the default one: the browser tests find fields by title.
    (home / "settings.toml").write_text('language = "nl"\n', encoding="utf-8")
    instance = f"t{time.monotonic_ns()}"
    sink = MailSink(tmp_path / "mail", port=0).start()
    env = {
        **os.environ,
        "DUNNING_HOME": str(home),
        "DUNNING_DATABASE_URL": database_url,
        "DUNNING_INSTANCE": instance,
        "DUNNING_SMTP_PORT": str(sink.port),
        "DUNNING_SWEEP_SECONDS": "0",  # the tests sweep themselves
        "DUNNING_BANK_INBOX_SECONDS": "0",  # and start the inbox imports themselves
        "DUNNING_INVOICE_INBOX_SECONDS": "0",
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        # As `dunning run` has it, whatever this process's own client was set to (prefect_here keeps the logs of
        # the runs executed in this process local): the UI shows a served run's logs, and the tests read them there.
        "PREFECT_LOGGING_TO_API_ENABLED": "true",
    }
    _migrate(env)
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_deployments(prefect_api, [f"{flow}/{instance}" for flow in SERVED], serve, timeout=90)
        yield ServedEngine(home=home, env=env, sink=sink, database_url=database_url, api=prefect_api, serve=serve)
    finally:
        stop_process(serve)
        log.close()
        sink.stop()
        db.engine_for(database_url).dispose()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print((home / "serve.log").read_text(errors="replace")[-20000:])


def _migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "dunning"), "clock", "show"], env=env, check=True, capture_output=True, text=True, timeout=120
    )


# What deployments/serve.py serves, in its order.
SERVED = ("collect-invoice", "sweep", "letters-posted", "import-bank", "match-payment", "import-invoices",
          "reports", "daily-overview")


