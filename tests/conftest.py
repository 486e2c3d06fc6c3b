"""Shared fixtures: an installation on a fresh database, on SQLite and on PostgreSQL.

PostgreSQL tests use DUNNING_TEST_POSTGRES_URL (a server where we may create databases); each test session
creates its own databases there and drops them afterwards. Without the variable they are skipped."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dunning.storage import config, db
from dunning.storage.config import Installation

POSTGRES_URL = os.environ.get("DUNNING_TEST_POSTGRES_URL")
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dunning.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("DUNNING_TEST_POSTGRES_URL is not set")
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


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
