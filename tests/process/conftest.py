"""The collection process, in this process: per test a fresh installation whose `collect-invoice` deployment is
registered on the session's real Prefect server but not served; an in-process runner (tests/support/runner.py)
executes its Scheduled runs here with Prefect's flow engine, and the `dunning` verbs run in-process
(tests/support/cli.py). Real database (SQLite, PostgreSQL where a test asks: `on_both_databases`), real SMTP
server on loopback, real suspend and resume; only the process per flow run and per verb is saved.

What only the processes can show (the served deployment, the scheduled sweep, a crash, the UI, the `dunning`
executable) is in tests/flows."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dunning.messaging.mailsink import MailSink
from tests.support import cli
from tests.support.databases import fresh_database
from tests.support.engine import Engine
from tests.support.law import confirm_packaged_rates
from tests.support.runner import InProcessRunner


@dataclass
class InProcessEngine(Engine):
    runner: InProcessRunner | None = field(default=None)

    def run_cli(self, *args: str, observing: bool = False) -> subprocess.CompletedProcess[str]:
        return cli.run(*args)  # every verb in-process: the environment of this process is the installation's


@pytest.fixture(scope="session")
def prefect_here(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point this process's Prefect client at the session's server. Prefect reads its settings from the
    environment once, at import; the flow runs executed here and the verbs run in-process use those."""
    import prefect.context
    import prefect.results
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    patch = pytest.MonkeyPatch()
    patch.setattr(prefect.results, "_read_server_default_result_storage_block_id", _server_default_storage)
    patch.setenv("PREFECT_API_URL", prefect_api)
    patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-client")))
    patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    patch.setenv("PREFECT_LOGGING_LEVEL", "INFO")
    # The runs' logs stay in this process (pytest shows them with a failure): no test here reads them from the
    # server, and shipping every line there costs the busy CI machine a request and an insert each.
    patch.setenv("PREFECT_LOGGING_TO_API_ENABLED", "false")
    prefect.context.refresh_global_settings_context()
    try:
        yield prefect_api
    finally:
        # Send what is still queued while the server is up, not at interpreter exit when it is gone.
        APILogWorker.drain_all(timeout=10, at_exit=False)
        EventsWorker.drain_all(timeout=10, at_exit=False)
        patch.undo()
        prefect.context.refresh_global_settings_context()


def _server_default_storage():  # type: ignore[no-untyped-def]
    """prefect.results._read_server_default_result_storage_block_id of Prefect 3.8.8, with its client closed. The
    original opens a sync API client at every flow run start and never closes it: harmless in a flow run's own
    process, which exits, but here every run would leave an unclosed socket behind (a ResourceWarning, an error
    under filterwarnings=error, reported in whichever test the garbage collector happens to run)."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    try:
        with get_client(sync_client=True) as client:
            configuration = client.read_server_default_result_storage()
    except (PrefectHTTPStatusError, httpx.HTTPError, RuntimeError, ValueError):
        return None
    return configuration.default_result_storage_block_id


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(getattr(request, "param", "sqlite"), tmp_path)


@pytest.fixture
def engine(
    prefect_here: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessEngine]:
    from flows.bank import import_bank, match_payment
    from flows.books import import_invoices
    from flows.collect_invoice import collect_invoice
    from tasks import runtime

    home = tmp_path / "engine"
    home.mkdir()
    # One try per call keeps the ladder short; test_ladder_scenarios.py has a test with the default three.
    (home / "policies.toml").write_text("[default]\ncall_attempts = 1\n", encoding="utf-8")
    confirm_packaged_rates(home)
    instance = f"p{time.monotonic_ns()}"
    sink = MailSink(tmp_path / "mail", port=0).start()
    env = {
        "DUNNING_HOME": str(home),
        "DUNNING_DATABASE_URL": database_url,
        "DUNNING_INSTANCE": instance,
        "DUNNING_SMTP_PORT": str(sink.port),
        "DUNNING_SWEEP_SECONDS": "0",
    }
    for key, value in env.items():  # the verbs and the flow runs of this process read the installation from here
        monkeypatch.setenv(key, value)
    runtime.installation.cache_clear()
    runner: InProcessRunner | None = None
    try:
        cli.run("clock", "show").check_returncode()  # creates the database, as the first verb does
        # deployments/serve.py registers the same deployment and serves it; here this process executes its runs.
        served = (collect_invoice, match_payment, import_bank, import_invoices)
        runner = InProcessRunner({f.to_deployment(name=instance, tags=["dunning"]).apply(): f for f in served}).start()
        yield InProcessEngine(
            home=home, env=env, sink=sink, database_url=database_url, api=prefect_here, runner=runner
        )
    finally:
        if runner is not None:
            runner.stop()  # the runs under way reach their pause or end before the database goes
        sink.stop()
        runtime.installation.cache_clear()
    assert not runner.errors, "what would have crashed a flow run's process:\n" + "\n".join(runner.errors)
