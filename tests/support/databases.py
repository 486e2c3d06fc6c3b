"""A fresh database per test, on SQLite or on the PostgreSQL server named by DUNNING_TEST_POSTGRES_URL (a server
where we may create databases): each test creates its own database there and drops it afterwards. Without the
variable the PostgreSQL variants are skipped."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dunning.storage import db
from dunning.storage.config import Installation

POSTGRES_URL = os.environ.get("DUNNING_TEST_POSTGRES_URL")
BOTH_DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# In a tier whose `database_url` is SQLite unless a test asks for both (tests/process, tests/flows).
on_both_databases = pytest.mark.parametrize("database_url", BOTH_DATABASES, indirect=True)


def _admin_url() -> str:
    assert POSTGRES_URL
    return POSTGRES_URL


def create_postgres_database(template: str | None = None) -> str:
    """A new database on the test server, empty or a copy of the database `template` (a URL); returns its URL."""
    name = f"dunning_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    db.engine_for(url).dispose()
    name = make_url(url).database
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database(kind: str, tmp_path: Path, migrated: MigratedTemplates | None = None) -> Iterator[str]:
    """A new database of `kind` ("sqlite" or "postgres") for one test, empty or, given `migrated`, a copy of its
    database at the newest schema; dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'dunning.sqlite'}"
        if migrated is not None:
            migrated.copy_sqlite(tmp_path / "dunning.sqlite")
        yield url
        db.engine_for(url).dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("DUNNING_TEST_POSTGRES_URL is not set")
    url = create_postgres_database(template=migrated.postgres() if migrated is not None else None)
    if migrated is not None:
        migrated.copies.add(url)
    try:
        yield url
    finally:
        drop_postgres_database(url)


class MigratedTemplates:
    """One database of each kind migrated to the newest schema, per test session (per pytest-xdist worker), made
    when first asked for: a test's installation is a copy of it (a file copy, CREATE DATABASE ... TEMPLATE)
    instead of running every migration again, a fraction of a second saved hundreds of times. `copies`: the
    URLs of the copies, which need no migrating."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self.copies: set[str] = set()

    def copy_sqlite(self, target: Path) -> None:
        if self._sqlite is None:
            path = self._folder / "migrated.sqlite"
            _migrate(f"sqlite:///{path}", self._folder)
            self._sqlite = path
        shutil.copyfile(self._sqlite, target)
        self.copies.add(f"sqlite:///{target}")

    def postgres(self) -> str:
        if self._postgres is None:
            url = create_postgres_database()
            _migrate(url, self._folder)
            self._postgres = url
        return self._postgres

    def drop(self) -> None:
        if self._postgres is not None:
            drop_postgres_database(self._postgres)


def _migrate(url: str, home: Path) -> None:
    """Migrate the database at `url`, then close every connection to it: a database copied while connected to
    is refused by PostgreSQL, and an SQLite file must have its write-ahead log folded in before it is copied."""
    db.migrate(Installation(home=home, database_url=url))
    db.engine_for(url).dispose()
