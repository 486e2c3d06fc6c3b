"""A fresh database per test, on SQLite or on the PostgreSQL server named by DUNNING_TEST_POSTGRES_URL (a server
where we may create databases): each test creates its own database there and drops it afterwards. Without the
variable the PostgreSQL variants are skipped."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dunning.storage import db

POSTGRES_URL = os.environ.get("DUNNING_TEST_POSTGRES_URL")
BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# In a tier whose `database_url` is SQLite unless a test asks for both (tests/process, tests/flows).
on_both_databases = pytest.mark.parametrize("database_url", BOTH_DATABASES, indirect=True)


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
        db.engine_for(f"sqlite:///{tmp_path / 'dunning.sqlite'}").dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("DUNNING_TEST_POSTGRES_URL is not set")
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)
