"""What every benchmark shares: a throw-away PostgreSQL database, the SQL statements counted, the best of a few
timed runs, and the same measurement on SQLite and (given a server) on PostgreSQL; and what the benchmarks that run
the engine's processes share (chaos.py, two_workers.py, wakeup.py): a home with its invoices imported, the
simulated clock, the processes' environment, the `dunning` command, the served deployments awaited, SIGKILL.

Nothing here imports Prefect: it reads its settings once, at import, and these benchmarks set them first."""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from dunning.casework import importer
from dunning.cli import engine
from dunning.domain.time import AMSTERDAM
from dunning.messaging.mailsink import free_port
from dunning.storage import clock, config, db
from tests.support.law import confirm_packaged_rates
from tests.support.prefect_server import wait_for_deployments as wait_for_server_deployments

BIN = Path(sys.executable).parent


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


# -- the engine's processes ----------------------------------------------------------------------------------------


def make_home(home: Path, instance: str, database_url: str | None, policy: str | None = None,
              rates_confirmed: bool = True) -> config.Installation:
    """A fresh installation in `home`: a free port for its Prefect server, `policy` as its policies.toml, the
    packaged rate rows confirmed (the letters state interest, as a careful user has it), its database migrated:
    `database_url`, or SQLite in the home (None)."""
    (home / "settings.toml").write_text(f'instance = "{instance}"\nprefect_port = {free_port()}\n', encoding="utf-8")
    if policy is not None:
        (home / "policies.toml").write_text(policy, encoding="utf-8")
    if rates_confirmed:
        confirm_packaged_rates(home, by=instance)
    if database_url:
        os.environ["DUNNING_DATABASE_URL"] = database_url
    else:
        os.environ.pop("DUNNING_DATABASE_URL", None)
    inst = config.load(home)
    db.migrate(inst)
    return inst


def invoice_row(number: str, debtor: str, name: str, kind: str, email: str, amount: str) -> list[str]:
    """One invoice in our own CSV layout (importer.COLUMNS), due 5 January 2026, in Utrecht, in Dutch."""
    return [number, debtor, name, kind, email, "+31 20 000 0000", "Dorpsstraat 1", "1234 AB", "Utrecht", "NL", "nl",
            "2025-12-06", "2026-01-05", amount, "EUR"]


def import_invoices(inst: config.Installation, rows: Iterable[Sequence[str]]) -> None:
    """`rows` written to the home's invoices.csv and imported, as `dunning import` does."""
    path = inst.home / "invoices.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(importer.COLUMNS)
        w.writerows(rows)
    with db.transaction(inst) as s:
        importer.import_invoices(s, path)


def set_clock(inst: config.Installation, moment: str) -> None:
    """The simulated clock at `moment`, Amsterdam time (as `dunning clock set`)."""
    with db.transaction(inst) as s:
        clock.set_simulated(s, datetime.fromisoformat(moment).replace(tzinfo=AMSTERDAM))


def engine_env(inst: config.Installation, smtp_port: int) -> dict[str, str]:
    """The environment of the engine's processes (`dunning run`'s, engine.child_env) with the mail going to the
    sink at `smtp_port` and no schedule of their own: the benchmark sweeps and imports itself."""
    return engine.child_env(inst) | {
        "DUNNING_SMTP_PORT": str(smtp_port), "DUNNING_SWEEP_SECONDS": "0",
        "DUNNING_BANK_INBOX_SECONDS": "0", "DUNNING_INVOICE_INBOX_SECONDS": "0", "PREFECT_LOGGING_LEVEL": "INFO",
    }


def dunning(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real `dunning` command, a process of its own, as a person types it."""
    return subprocess.run([str(BIN / "dunning"), *args], env=env, capture_output=True, text=True, timeout=300)


def wait_for_deployments(inst: config.Installation, names: Sequence[str], timeout: float = 180) -> None:
    """Until the Prefect server knows every deployment in `names` ("flow/deployment")."""
    wait_for_server_deployments(inst.prefect_api_url, list(names), timeout=timeout)


def sigkill(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # ended on its own meanwhile
