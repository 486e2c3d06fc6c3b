"""The collection process, in this process: a fresh installation whose deployments (`collect-invoice`, the bank's
and the books' flows) are registered on the session's real Prefect server but not served; an in-process runner
(tests/support/runner.py) executes their Scheduled runs here with Prefect's flow engine, and the `dunning` verbs
run in-process (tests/support/cli.py). Real database, real SMTP server on loopback, real suspend and resume; only
the process per flow run and per verb is saved. Used by tests/process (its tier) and by the end-to-end tests
whose subject is not the processes (the browser test of the approval form, the bank inbox)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dunning.messaging.mailsink import MailSink
from tests.support import cli
from tests.support.engine import Engine
from tests.support.law import confirm_packaged_rates
from tests.support.runner import InProcessRunner


@dataclass
class InProcessEngine(Engine):
    runner: InProcessRunner | None = field(default=None)

    def run_cli(self, *args: str, observing: bool = False) -> subprocess.CompletedProcess[str]:
        """Every verb in-process: the environment of this process is the installation's."""
        with outside_playwrights_loop():
            return cli.run(*args)


@contextmanager
def outside_playwrights_loop() -> Iterator[None]:
    """Playwright's sync API leaves its event loop marked as running in the test's thread after every call (it
    resets the mark itself before each). Under that mark a verb cannot asyncio.run and Prefect's sync calls return
    coroutines; a verb in its own process would see no loop, so none is shown to it. Playwright is idle meanwhile:
    its loop only runs inside its own calls."""
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


@contextmanager
def prefect_client_here(api: str, client_home: Path) -> Iterator[str]:
    """Point this process's Prefect client at the server `api`. Prefect reads its settings from the environment
    once, at import; the flow runs executed here and the verbs run in-process use those."""
    import prefect.context
    import prefect.results
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    patch = pytest.MonkeyPatch()
    patch.setattr(prefect.results, "_read_server_default_result_storage_block_id", _server_default_storage)
    patch.setenv("PREFECT_API_URL", api)
    patch.setenv("PREFECT_HOME", str(client_home))
    patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    patch.setenv("PREFECT_LOGGING_LEVEL", "INFO")
    # The runs' logs stay in this process (pytest shows them with a failure): no test here reads them from the
    # server, and shipping every line there costs the busy CI machine a request and an insert each.
    patch.setenv("PREFECT_LOGGING_TO_API_ENABLED", "false")
    prefect.context.refresh_global_settings_context()
    try:
        yield api
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


@contextmanager
def in_process_engine(
    api: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, language: str | None = None
) -> Iterator[InProcessEngine]:
    """A fresh installation on `database_url` whose runs execute in this process (`api`: prefect_client_here's).
    `language`: the installation's (settings.toml), for the tests that read its forms by their titles."""
    from flows.bank import import_bank, match_payment
    from flows.books import import_invoices
    from flows.collect_invoice import collect_invoice
    from tasks import runtime

    home = tmp_path / "engine"
    home.mkdir()
    # One try per call keeps the ladder short; test_ladder_scenarios.py has a test with the default three.
    (home / "policies.toml").write_text("[default]\ncall_attempts = 1\n", encoding="utf-8")
    confirm_packaged_rates(home)
    if language is not None:
        (home / "settings.toml").write_text(f'language = "{language}"\n', encoding="utf-8")
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
        with outside_playwrights_loop():
            cli.run("clock", "show").check_returncode()  # creates the database, as the first verb does
            # deployments/serve.py registers the same deployments and serves them; here this process runs them.
            served = (collect_invoice, match_payment, import_bank, import_invoices)
            deployments = {f.to_deployment(name=instance, tags=["dunning"]).apply(): f for f in served}
        runner = InProcessRunner(deployments).start()
        yield InProcessEngine(home=home, env=env, sink=sink, database_url=database_url, api=api, runner=runner)
    finally:
        if runner is not None:
            runner.stop()  # the runs under way reach their pause or end before the database goes
        sink.stop()
        runtime.installation.cache_clear()
    assert not runner.errors, "what would have crashed a flow run's process:\n" + "\n".join(runner.errors)

