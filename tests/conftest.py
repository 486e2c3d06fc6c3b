"""Shared fixtures: an installation on a fresh database, on SQLite and on PostgreSQL; the session's real Prefect
server; the Hypothesis profile for CI.

PostgreSQL tests use DUNNING_TEST_POSTGRES_URL (a server where we may create databases); each test session
creates its own databases there and drops them afterwards. Without the variable they are skipped.

The tiers: tests/unit (no database), tests/integration (SQLite and PostgreSQL, the CLI in-process), tests/process
(the collection process: the flow's decisions and tasks on a real Prefect server, its runs executed in this
process) and tests/flows (end to end: served deployments, the real `dunning` command, the browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from dunning.storage import config, db
from dunning.storage.config import Installation
from tests.support.databases import BOTH_DATABASES, MigratedTemplates, fresh_database
from tests.support.prefect_server import prefect_server

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"

# CI's machine is shared and at times slow: an example that once took 250 ms is no failure there. Same examples,
# no deadline. Locally the default profile keeps Hypothesis's deadline as a hint that something got slow.
settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI", "").lower() in ("true", "1"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated"))
    try:
        yield templates
    finally:
        templates.drop()


@pytest.fixture(params=BOTH_DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """Empty; for a test that asks for the installation, already migrated: a copy of the session's migrated
    database (tests/support/databases.py), which saves running every migration for each of those hundreds of
    tests. Migrating itself is what `db.migrate` does for the template, and test_migrations.py checks its result."""
    migrated = migrated_templates if "installation" in request.fixturenames else None
    yield from fresh_database(request.param, tmp_path, migrated)


@pytest.fixture
def installation(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated_templates: MigratedTemplates
) -> Installation:
    """A migrated installation in a temporary DUNNING_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DUNNING_HOME", str(home))
    monkeypatch.setenv("DUNNING_DATABASE_URL", database_url)
    inst = config.load()
    if database_url not in migrated_templates.copies:  # a tier's own database_url fixture: an empty database
        db.migrate(inst)
    return inst


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Prefect server per test session (per worker under pytest-xdist); every test's installation names
    its deployments after its own instance, so tests never see each other's runs."""
    with prefect_server(tmp_path_factory.mktemp("prefect-home")) as url:
        yield url


@pytest.fixture(scope="session")
def prefect_here(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This process's Prefect client on the session's server, for the flow runs executed in this process
    (tests/support/in_process.py: tests/process, and the tests in tests/flows whose subject is not the processes)."""
    from tests.support.in_process import prefect_client_here  # Prefect's flow engine: only where runs execute here

    with prefect_client_here(prefect_api, tmp_path_factory.mktemp("prefect-client")) as url:
        yield url


TIER_ORDER = ("flows", "process", "integration", "unit")  # the slowest first


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first: the end-to-end tests take minutes each, the collection process's scenarios seconds to
    tens of seconds, the rest well under one. test.sh hands tests to the pytest-xdist workers one at a time as
    they free up (--maxschedchunk 1), so the long ones spread over the workers and the short ones fill the gaps,
    instead of one worker ending the run alone."""

    def tier(item: pytest.Item) -> int:
        parts = Path(str(item.path)).parts
        found = [TIER_ORDER.index(p) for p in parts if p in TIER_ORDER]
        return found[-1] if found else len(TIER_ORDER)

    items.sort(key=tier)  # stable: within a tier, the order of the files and of the tests in them


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Each phase's report on the item (`item.rep_call`), so a fixture can show its logs when the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
