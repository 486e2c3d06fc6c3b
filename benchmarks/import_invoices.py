"""The cost of importing invoices (issue 13): a CSV export of N rows taken in whole (read, every row checked, then
written in one transaction: what `dunning import invoices` does), against reading and checking the same file
alone, measured in the same run, on SQLite and, given a server, on PostgreSQL; and whether memory stays flat as
the file grows (the reader and the take-in stream it).

    .venv/bin/python -m benchmarks.import_invoices [--rows 10000 100000] [--postgres URL] [--repeat 3]
                                                   [--tracemalloc]

The file: our own columns, four invoices per debtor, every debtor with e-mail, phone and address. Measured, for
each size, each of `--repeat` runs in a fresh process (peak RSS only grows within one): (a) `read_invoice_file`
alone, every record read; (b) the import into an empty database (emptied before each run); (c) the same file
again (everything known, nothing changes; the import ANALYZEd the tables on PostgreSQL); then, at the largest
size, the SQL statements of one import, and (d) the file with a bad date in its last row: refused with
file:row:column, the database as it was. Printed: the seconds of each run (and its CPU seconds, which a machine
busy with other work does not stretch), the peak resident size of each run
and how far it rose above the process before the work (flat: the same at 10,000 and at 100,000 rows);
`--tracemalloc` adds Python's own peak. Target: (b) at most 15 s. PostgreSQL: `--postgres URL` or
DUNNING_TEST_POSTGRES_URL, a server where we may create a database (created for the run, dropped afterwards)."""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import delete, func, select  # noqa: E402

from benchmarks.common import add_database_options, counting_statements, on_each_database  # noqa: E402
from dunning.casework.importer import COLUMNS, import_records  # noqa: E402
from dunning.documents.reading import ReadOptions, read_invoice_file  # noqa: E402
from dunning.domain.errors import UserError  # noqa: E402
from dunning.storage import config, db  # noqa: E402
from dunning.storage.models import Debtor, DebtorAccount, Invoice  # noqa: E402

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PER_DEBTOR = 4


def write_csv(path: Path, rows: int, bad_last: bool = False) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(COLUMNS)
        for i in range(rows):
            d = i // PER_DEBTOR
            issued = date(2026, 1, 1) + timedelta(days=i % 60)
            due = "2026-13-01" if bad_last and i == rows - 1 else (issued + timedelta(days=30)).isoformat()
            w.writerow([f"2026-{i:06d}", f"D-{d:06d}", f"Debiteur {d} B.V.", "business" if d % 3 else "consumer",
                        f"d{d}@example.com", "+31 20 123 4567", f"Dorpsstraat {d % 200 + 1}", "1234 AB", "Utrecht",
                        "NL", "nl", issued.isoformat(), due, f"{100 + i % 9000}.{i * 7 % 100:02d}", "EUR"])


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(step: str, database_url: str, path: Path, trace: bool) -> None:
    """One measured step in this fresh process, its figures as one JSON line: peak RSS only grows, so each
    measurement needs a process of its own. `floor` is the peak after the imports, before the work."""
    inst = config.Installation(home=path.parent, database_url=database_url)
    db.engine_for(database_url).connect().close()
    floor = peak_mb()
    if trace:
        tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    outcome = ""
    try:
        if step == "read":
            outcome = f"{sum(1 for _ in read_invoice_file(path, ReadOptions()))} records"
        else:
            records = read_invoice_file(path, ReadOptions())
            with db.transaction(inst) as s:
                outcome = import_records(s, str(path), records, NOW).summary(path.name)
    except UserError as e:
        outcome = f"refused: {e}"
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    print(json.dumps({"seconds": took, "cpu": cpu, "peak": peak_mb(), "floor": floor, "traced": traced,
                      "outcome": outcome}))


def measure(step: str, database_url: str, path: Path, trace: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.import_invoices", "--child", step, database_url, str(path)]
    done = subprocess.run(command + (["--tracemalloc"] if trace else []), cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{step} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(label: str, figures: list[dict[str, Any]], rows: int, target: float | None = None) -> None:
    seconds = [f["seconds"] for f in figures]
    peaks = [f["peak"] for f in figures]
    met = "" if target is None else f"  target <= {target:g} s: {'met' if max(seconds) <= target else 'MISSED'}"
    growth = max(f["peak"] - f["floor"] for f in figures)
    cpu = " ".join(f"{f.get('cpu', 0):.1f}" for f in figures)  # the CPU seconds: the same on a busy machine
    print(f"{label:<40} {' '.join(f'{t:6.2f}' for t in seconds)} s (CPU {cpu} s)  {rows / min(seconds):7.0f} rows/s  "
          f"peak RSS {' '.join(f'{p:4.0f}' for p in peaks)} MB (+{growth:.0f} over the process before the work){met}")


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    inst = config.Installation(home=home, database_url=database_url)
    db.migrate(inst)

    def empty() -> None:
        with db.transaction(inst) as s:
            for table in (DebtorAccount, Invoice, Debtor):
                s.execute(delete(table))

    for rows in args.rows:
        path = home / f"invoices-{rows}.csv"
        write_csv(path, rows)
        print(f"{path.name:<40} {path.stat().st_size / 1e6:6.2f} MB  ({rows} rows, "
              f"{(rows + PER_DEBTOR - 1) // PER_DEBTOR} debtors)")
        show("(a) read and check the file alone", [measure("read", database_url, path)
                                                   for _ in range(args.repeat)], rows)
        imports = []
        for _ in range(args.repeat):
            empty()
            imports.append(measure("import", database_url, path, args.tracemalloc))
        show("(b) import into an empty database", imports, rows, 15)
        print(f"{'':<40} {imports[-1]['outcome']}")
        if args.tracemalloc:
            print(f"{'':<40} Python's own peak (tracemalloc): {imports[-1]['traced']:.1f} MB")
        show("(c) the same file again (all known)", [measure("import", database_url, path)
                                                     for _ in range(args.repeat)], rows)
    rows = args.rows[-1]
    empty()
    with counting_statements(inst) as statements:
        with db.transaction(inst) as s:
            import_records(s, "invoices.csv", read_invoice_file(home / f"invoices-{rows}.csv", ReadOptions()), NOW)
    print(f"{'    SQL statements of one import':<40} {sum(statements.values()):6d}    "
          f"({', '.join(f'{k} {v}' for k, v in statements.most_common())})")
    empty()
    bad = home / "bad.csv"
    write_csv(bad, rows, bad_last=True)
    refused = measure("import", database_url, bad)
    with db.transaction(inst) as s:
        stored = s.scalar(select(func.count()).select_from(Invoice))
    print(f"{'(d) a bad date in the last row':<40} {refused['seconds']:6.2f} s  peak RSS {refused['peak']:4.0f} MB  "
          f"{refused['outcome']}; {stored} invoices stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true", help="also Python's own peak (slows the import)")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "URL", "FILE"), help=argparse.SUPPRESS)
    add_database_options(parser)
    args = parser.parse_args()
    if args.child:
        step, url, file = args.child
        child(step, url, Path(file), args.tracemalloc)
        return
    print(f"a CSV export of {args.rows} invoices; measured: read_invoice_file + casework.importer.import_records "
          "in one transaction, as `dunning import invoices` does")
    on_each_database(run, args)


if __name__ == "__main__":
    main()
