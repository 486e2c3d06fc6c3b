"""The collection process, in this process: per test a fresh installation whose `collect-invoice` deployment is
registered on the session's real Prefect server but not served; an in-process runner (tests/support/runner.py)
executes its Scheduled runs here with Prefect's flow engine, and the `dunning` verbs run in-process
(tests/support/cli.py). Real database (SQLite, PostgreSQL where a test asks: `on_both_databases`), real SMTP
server on loopback, real suspend and resume; only the process per flow run and per verb is saved.

What only the processes can show (the served deployment, the scheduled sweep, a crash, the UI, the `dunning`
executable) is in tests/flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_database
from tests.support.in_process import InProcessEngine, in_process_engine

# prefect_here, the session's Prefect client in this process: tests/conftest.py (the browser test of the approval
# form and the bank inbox test in tests/flows use it too).


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(getattr(request, "param", "sqlite"), tmp_path)


@pytest.fixture
def engine(
    prefect_here: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcessEngine]:
    with in_process_engine(prefect_here, database_url, tmp_path, monkeypatch) as engine:
        yield engine
