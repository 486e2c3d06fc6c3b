"""The cost of a sweep with nothing to do over a large book (P2, issue 13): what the sweep reads to decide what to
start and what to wake (`dunning.casework.wakeups.due`, the whole of the sweep's database work before it talks to
Prefect; no Prefect server is involved), against reading the same book once, measured in the same run, on
SQLite and, given a server, on PostgreSQL.

    .venv/bin/python -m benchmarks.sweep [--invoices 100000] [--postgres URL] [--repeat 3] [--prefect [--waiting N]]

The book, inserted in bulk: `--invoices` open invoices, four per debtor, 20 of them overdue with their run
waiting (wake-up tomorrow), the rest due within 90 days (one in seven with a run waiting for its courtesy call
or a reminder); every other debtor has three invoices paid on time before (a history the courtesy-call check
reads; none of them is a late payer). So nothing is due. Then the same with something due: the 20 overdue
without a run yet and 100 runs whose wake-up has come. Each figure is the best of `--repeat`; the SQL
statements of one call are counted. Target: at most 2 s for the empty sweep. PostgreSQL: `--postgres URL` or
DUNNING_TEST_POSTGRES_URL, a server where we may create a database (created for the run, dropped afterwards).

`--prefect` adds (e): one round of the scheduled sweep with nothing due, whole (`tasks.sweep.sweep_once`, what the
sweep's run does every minute: `wakeups.due` and its reads of the Prefect API for runs that died or failed),
against a live Prefect server started as `dunning run` starts it (on SQLite in the home) holding `--waiting`
(10,000) suspended invoice runs (made as benchmarks/sweep_wake.py makes them); the installation's clock set to the
book's moment. Wall seconds and this process's CPU seconds, best and median of `--repeat`; target: at most 1 s
("nothing that runs every minute takes more than a second when there is nothing to do")."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select, text, update  # noqa: E402

from benchmarks.common import add_database_options, best, counting_statements, on_each_database  # noqa: E402
from dunning.casework import wakeups  # noqa: E402
from dunning.cli import engine as dunning_engine  # noqa: E402
from dunning.domain.kinds import DebtorKind, PaymentKind  # noqa: E402
from dunning.domain.time import AMSTERDAM  # noqa: E402
from dunning.messaging.mailsink import free_port  # noqa: E402
from dunning.storage import clock, config, db  # noqa: E402
from dunning.storage.models import Debtor, Invoice, Payment  # noqa: E402

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)  # a Tuesday, inside contact hours
TODAY = date(2026, 3, 10)
PER_DEBTOR = 4
OVERDUE = 20
WOKEN = 100
CHUNK = 5000
RUN = "00000000-0000-4000-8000-{:012d}"
PORT = free_port()  # Prefect reads PREFECT_API_URL once, at import: one port for the servers of both databases


def book(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    debtors, invoices, payments = [], [], []
    process = {"flow_run_id": None, "wake_at": None, "closed_reason": None}
    for d in range((n + PER_DEBTOR - 1) // PER_DEBTOR):
        debtors.append({"id": d + 1, "number": f"D-{d:06d}", "name": f"Debiteur {d} B.V.",
                        "kind": DebtorKind.business, "email": f"d{d}@example.com", "language": "nl"})
    for i in range(n):
        overdue = i < OVERDUE
        due = TODAY - timedelta(days=10 + i) if overdue else TODAY + timedelta(days=1 + i % 90)
        waiting = overdue or i % 7 == 0
        invoices.append({"id": i + 1, "number": f"2026-{i:06d}", "debtor_id": i // PER_DEBTOR + 1,
                         "issue_date": due - timedelta(days=30), "due_date": due,
                         "amount": Decimal(f"{100 + i % 9000}.{i * 7 % 100:02d}"), "currency": "EUR",
                         "payment_reference": None} | process
                        | ({"flow_run_id": RUN.format(i), "wake_at": NOW + timedelta(days=1, minutes=i)}
                           if waiting else {}))
    for d in range(0, len(debtors), 2):  # a history of paying on time
        for k in range(3):
            invoice_id = n + 1 + len(payments)
            due = date(2025, 10, 1) + timedelta(days=30 * k)
            invoices.append({"id": invoice_id, "number": f"2025-{invoice_id:06d}", "debtor_id": d + 1,
                             "issue_date": due - timedelta(days=30), "due_date": due, "amount": Decimal("250.00"),
                             "currency": "EUR", "payment_reference": None} | process
                            | {"flow_run_id": RUN.format(invoice_id), "closed_reason": "paid"})
            payments.append({"invoice_id": invoice_id, "amount": Decimal("250.00"), "paid_on": due,
                             "recorded_at": NOW, "kind": PaymentKind.payment, "reversed_at": None})
    return debtors, invoices, payments


def prepare(home: Path, database_url: str, n: int) -> config.Installation:
    (home / "settings.toml").write_text(f'instance = "bench"\nprefect_port = {PORT}\n', encoding="utf-8")
    os.environ["DUNNING_DATABASE_URL"] = database_url
    inst = config.load(home)
    db.migrate(inst)
    engine = db.engine_for(inst.database_url)
    debtors, invoices, payments = book(n)
    with engine.begin() as c:
        for table, rows in ((Debtor, debtors), (Invoice, invoices), (Payment, payments)):
            for start in range(0, len(rows), CHUNK):
                c.execute(insert(table), rows[start:start + CHUNK])
        if engine.dialect.name == "postgresql":  # the ids were given: move the sequences past them
            for table in ("debtor", "invoice", "payment"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
            c.execute(text("ANALYZE"))
        else:
            c.execute(text("ANALYZE"))
    return inst


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    t0 = time.perf_counter()
    inst = prepare(home, database_url, args.invoices)
    with db.transaction(inst) as s:
        stored = s.scalar(select(func.count()).select_from(Invoice))
    print(f"{'set-up':<44} {time.perf_counter() - t0:8.2f} s  ({args.invoices} open invoices, {stored} in all, "
          "bulk insert)")

    def in_session(work: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with db.transaction(inst) as s:
                return work(s)
        return go

    count, _ = best(in_session(lambda s: s.scalar(select(func.count()).select_from(Invoice))), args.repeat)
    read, rows = best(in_session(lambda s: s.execute(select(
        Invoice.number, Invoice.debtor_id, Invoice.due_date, Invoice.amount, Invoice.flow_run_id,
        Invoice.wake_at)).all()), args.repeat)
    print(f"{'(a) SELECT count(*) FROM invoice':<44} {count:8.3f} s")
    print(f"{'(b) read every invoice once':<44} {read:8.3f} s  ({len(rows)} rows)")
    sweep(inst, "(c) empty sweep: wakeups.due, nothing due", args, read, count, target=2.0)
    if args.prefect:
        sweep_round(inst, args, read)

    engine = db.engine_for(inst.database_url)
    with engine.begin() as c:  # the first sweep after the import, and runs whose time has come
        c.execute(update(Invoice).where(Invoice.id <= OVERDUE).values(flow_run_id=None, wake_at=None))
        waiting = c.scalars(select(Invoice.id).where(Invoice.due_date >= TODAY, Invoice.flow_run_id.is_not(None))
                            .order_by(Invoice.id).limit(WOKEN)).all()
        c.execute(update(Invoice).where(Invoice.id.in_(waiting)).values(wake_at=NOW - timedelta(minutes=1)))
    found = sweep(inst, f"(d) {OVERDUE} to start, {WOKEN} to wake", args, read, count)
    print(f"{'':<44} found {len(found.start)} to start, {len(found.wake)} to wake")


def sweep(inst: config.Installation, label: str, args: argparse.Namespace, read: float, count: float,
          target: float | None = None) -> wakeups.Due:
    def due() -> wakeups.Due:
        with db.transaction(inst) as s:
            return wakeups.due(s, inst.home, NOW)

    with counting_statements(inst) as statements:
        found = due()
    took, found = best(due, args.repeat)
    verdict = f"  target <= {target:.1f} s: {'met' if took <= target else 'MISSED'}" if target else ""
    print(f"{label:<44} {took:8.3f} s  {took / read:6.2f} x (b)  {took / count:8.1f} x (a){verdict}")
    print(f"{'    SQL statements':<44} {sum(statements.values()):8d}    "
          f"({', '.join(f'{k} {v}' for k, v in statements.most_common())})")
    if target is not None:
        assert not (found.start or found.wake or found.ask or found.decided), found
    return found


def sweep_round(inst: config.Installation, args: argparse.Namespace, read: float) -> None:
    """(e): `sweep_once` with nothing due, against a Prefect server holding `args.waiting` suspended runs."""
    from benchmarks.sweep_wake import register_deployment

    with db.transaction(inst) as s:
        clock.set_simulated(s, NOW)
    inst.prefect_home.mkdir(parents=True, exist_ok=True)
    log = inst.home / "prefect-server.log"
    t0 = time.perf_counter()
    server = dunning_engine.start_prefect_server(inst, PORT, log)
    try:
        dunning_engine.wait_for_health(inst.prefect_api_url, server)
        asyncio.run(register_deployment(inst.instance))
    finally:
        dunning_engine.stop(server)  # on SQLite the server's own writers would hold the write lock against the runs
    if args.waiting:
        out = inst.home / "run-ids.json"
        subprocess.run([sys.executable, "-m", "benchmarks.sweep_wake", "--create", str(args.waiting), "--out",
                        str(out)], env=dunning_engine.child_env(inst), cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        assert len(json.loads(out.read_text())) == args.waiting
    server = dunning_engine.start_prefect_server(inst, PORT, log)
    try:
        dunning_engine.wait_for_health(inst.prefect_api_url, server)
        print(f"{'    set-up':<44} {time.perf_counter() - t0:8.2f} s  (a Prefect server with {args.waiting} "
              "suspended runs)", flush=True)
        time.sleep(5)  # the server's services have started: their first loop is not in the first measurement
        walls, cpus = asyncio.run(_rounds(inst, args.repeat))
    finally:
        dunning_engine.stop(server)
    wall, cpu = min(walls), min(cpus)
    print(f"{'(e) one round of the sweep, nothing due':<44} {wall:8.3f} s  {wall / read:6.2f} x (b)  median "
          f"{statistics.median(walls):.3f} s; CPU {cpu:.3f} s (median {statistics.median(cpus):.3f})  target <= 1.0 s: "
          f"{'met' if max(walls) <= 1.0 else 'MISSED'}")


async def _rounds(inst: config.Installation, repeat: int) -> tuple[list[float], list[float]]:
    from tasks.sweep import sweep_once

    walls, cpus = [], []
    await sweep_once(inst)  # the first opens the client and imports what it needs: the minute's rounds reuse them
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        report = await sweep_once(inst)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert not (report.started or report.woken or report.restarted or report.asked or report.failed), report
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefect", action="store_true", help="(e) a whole sweep round against a Prefect server")
    parser.add_argument("--waiting", type=int, default=10_000, help="suspended runs on that server (with --prefect)")
    add_database_options(parser)
    args = parser.parse_args()
    if args.prefect:
        os.environ.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)  # the server on SQLite in the home, as by default
        os.environ.update(PREFECT_API_URL=f"http://127.0.0.1:{PORT}/api", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if args.invoices < OVERDUE + 7 * WOKEN:
        parser.error(f"--invoices: at least {OVERDUE + 7 * WOKEN}")
    print(f"{args.invoices} open invoices; measured: dunning.casework.wakeups.due (what the sweep starts and "
          "wakes), without Prefect")
    on_each_database(run, args)


if __name__ == "__main__":
    main()
