"""What every benchmark shares: a throw-away PostgreSQL database, the SQL statements counted, the best of a few
timed runs, and the same measurement on SQLite and (given a server) on PostgreSQL."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from dunning.storage import config, db


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new database on the server `admin_url` names, dropped afterwards."""
    name = f"dunning_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        db.engine_for(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def counting_statements(inst: config.Installation) -> Iterator[Counter[str]]:
    """The SQL statements sent to the database, by their first word: each is a round trip."""
    seen: Counter[str] = Counter()

    def count(_conn, _cursor, statement, _params, _context, _executemany):  # type: ignore[no-untyped-def]
        seen[statement.split(None, 1)[0].upper()] += 1

    engine = db.engine_for(inst.database_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def best(work: Callable[[], Any], repeat: int, before: Callable[[], None] | None = None) -> tuple[float, Any]:
    """The shortest of `repeat` timed runs of `work` (`before` each, untimed), and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--postgres", default=os.environ.get("DUNNING_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server where we may create a database (default: DUNNING_TEST_POSTGRES_URL)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")


def on_each_database(run: Callable[[str, str, Path, argparse.Namespace], None], args: argparse.Namespace) -> None:
    """`run(label, database_url, home, args)` on SQLite (unless --no-sqlite) and on PostgreSQL (given --postgres),
    each in a fresh home and database."""
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="dunning-bench-") as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'dunning.sqlite'}", Path(tmp), args)
    if args.postgres:
        with tempfile.TemporaryDirectory(prefix="dunning-bench-") as tmp, postgres_database(args.postgres) as url:
            run("PostgreSQL", url, Path(tmp), args)
