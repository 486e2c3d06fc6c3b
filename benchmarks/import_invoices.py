"""The cost of importing invoices (issue 13): a CSV export of N rows taken in whole (read, every row checked, then
written in one transaction: what `dunning import invoices` does), against reading and checking the same file
alone, measured in the same run, on SQLite and, given a server, on PostgreSQL.

    .venv/bin/python -m benchmarks.import_invoices [--rows 100000] [--postgres URL] [--repeat 3]

The file: our own columns, four invoices per debtor, every debtor with e-mail, phone and address. Measured:
(a) `read_invoice_file` alone; (b) the import into an empty database (emptied before each repetition); (c) the
same file again (everything known, nothing changes; on PostgreSQL after ANALYZE, as autovacuum would); (d) the
file with a bad date in its last row: refused with file:row:column, the database as it was. Each figure is the
best of `--repeat`; the SQL statements of one import are counted; memory is the process's peak resident size
after each step (it only grows). Target: (b) at most 15 s. PostgreSQL: `--postgres URL` or
DUNNING_TEST_POSTGRES_URL, a server where we may create a database
(created for the run, dropped afterwards)."""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import delete, func, select, text  # noqa: E402

from benchmarks.common import add_database_options, best, counting_statements, on_each_database  # noqa: E402
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


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    inst = config.Installation(home=home, database_url=database_url)
    db.migrate(inst)
    path, bad = home / "invoices.csv", home / "bad.csv"
    write_csv(path, args.rows)
    write_csv(bad, args.rows, bad_last=True)
    print(f"{'file':<44} {path.stat().st_size / 1e6:8.2f} MB  ({args.rows} rows, "
          f"{(args.rows + PER_DEBTOR - 1) // PER_DEBTOR} debtors)")
    options = ReadOptions()

    read, records = best(lambda: read_invoice_file(path, options), args.repeat)
    print(f"{'(a) read and check the file alone':<44} {read:8.2f} s  {args.rows / read:10.0f} rows/s"
          f"   peak {peak_mb():6.0f} MB")
    del records

    def take_in() -> Any:
        records = read_invoice_file(path, options)
        with db.transaction(inst) as s:
            return import_records(s, str(path), records, NOW)

    def empty() -> None:
        with db.transaction(inst) as s:
            for table in (DebtorAccount, Invoice, Debtor):
                s.execute(delete(table))

    took, result = best(take_in, args.repeat, before=empty)
    print(f"{'(b) import into an empty database':<44} {took:8.2f} s  {args.rows / took:10.0f} rows/s"
          f"   peak {peak_mb():6.0f} MB  ratio (b)/(a) {took / read:5.1f}"
          f"  target <= 15 s: {'met' if took <= 15 else 'MISSED'}")
    print(f"{'':<44} {result.summary(path.name)}")
    empty()
    with counting_statements(inst) as statements:
        take_in()
    print(f"{'    SQL statements':<44} {sum(statements.values()):8d}    "
          f"({', '.join(f'{k} {v}' for k, v in statements.most_common())})")

    if db.engine_for(inst.database_url).dialect.name == "postgresql":
        # As autovacuum does within a minute of a bulk insert: without statistics the planner reads a lookup of
        # 500 invoice numbers as most of the table and scans it (see README, Benchmarks).
        with db.engine_for(inst.database_url).begin() as c:
            c.execute(text("ANALYZE"))
    again, result = best(take_in, args.repeat)
    print(f"{'(c) the same file again (all known)':<44} {again:8.2f} s  {args.rows / again:10.0f} rows/s"
          f"   peak {peak_mb():6.0f} MB  ratio (c)/(a) {again / read:5.1f}")
    print(f"{'':<44} {result.summary(path.name)}")

    empty()
    start = time.perf_counter()
    try:
        records = read_invoice_file(bad, options)
        with db.transaction(inst) as s:
            import_records(s, str(bad), records, NOW)
        refusal = "not refused!"
    except UserError as e:
        refusal = str(e)
    refused = time.perf_counter() - start
    with db.transaction(inst) as s:
        stored = s.scalar(select(func.count()).select_from(Invoice))
    print(f"{'(d) a bad date in the last row':<44} {refused:8.2f} s  {refusal}; {stored} invoices stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    add_database_options(parser)
    args = parser.parse_args()
    print(f"a CSV export of {args.rows} invoices; measured: read_invoice_file + casework.importer.import_records "
          "in one transaction, as `dunning import invoices` does")
    on_each_database(run, args)


if __name__ == "__main__":
    main()
