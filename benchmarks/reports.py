"""The cost of the finance desk's reports over a large book: each report (and the whole report page, charts
included) against a baseline measured in the same run, a plain `SELECT count(*), sum(amount)` over the invoices,
on SQLite and, given a server, on PostgreSQL.

    .venv/bin/python -m benchmarks.reports [--invoices 100000] [--postgres URL] [--repeat 3]

The book, inserted in bulk: `--invoices` invoices (four per debtor) issued over the fifteen months before
31 March 2026; half of them paid in full around their due date, a tenth in part, a tenth paid and taken back by
the bank, one in twenty with a credit note; one in fifty in US dollars (reported apart from the euros); a call
for every fifth invoice past its due date (five collectors, two in three reached, promises, excuses), a
herinnering for every third, an aanmaning for every sixth. The page is written in Dutch, the default. Each
figure is the best of `--repeat` runs; the SQL statements of one run are counted. PostgreSQL: `--postgres URL` or
DUNNING_TEST_POSTGRES_URL, a server where we may create a database (created for the run, dropped afterwards)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from benchmarks.common import add_database_options, best, counting_statements, on_each_database  # noqa: E402
from dunning.bank.references import payment_reference  # noqa: E402
from dunning.casework import ledger  # noqa: E402
from dunning.desk import report_pages, reports  # noqa: E402
from dunning.domain.kinds import DebtorKind, PaymentKind, TaskKind, TaskStatus  # noqa: E402
from dunning.domain.steps import Step  # noqa: E402
from dunning.domain.time import AMSTERDAM  # noqa: E402
from dunning.storage import config, db  # noqa: E402
from dunning.storage.models import Debtor, DossierEntry, HumanTask, Invoice, Payment  # noqa: E402

AS_OF = date(2026, 3, 31)
PER_DEBTOR = 4
COLLECTORS = ("Marie", "Piet", "Fatima", "Joost", "Anouk")
EXCUSES = ("Cannot pay now", "Payment run is next week", "Invoice not received", "")
CHUNK = 5000


def moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, clock_time(hour), tzinfo=AMSTERDAM).astimezone(UTC)


def amount(i: int) -> Decimal:
    return Decimal(f"{100 + i % 9000}.{i * 7 % 100:02d}")


def book(n: int) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {"invoice": [], "payment": [], "task": [], "entry": []}
    recorded = moment(AS_OF)
    for i in range(n):
        number = f"2026-{i:06d}"
        issued = AS_OF - timedelta(days=i * 7919 % 450)  # spread over fifteen months, not in number order
        due = issued + timedelta(days=30)
        total = amount(i)
        rows["invoice"].append({"id": i + 1, "number": number, "debtor_id": i // PER_DEBTOR + 1, "issue_date": issued,
                                "due_date": due, "amount": total, "currency": "USD" if i % 50 == 49 else "EUR",
                                "payment_reference": payment_reference(number)})

        def pay(value: Decimal, on: date, kind: PaymentKind = PaymentKind.payment, back: bool = False,
                invoice_id: int = i + 1) -> None:
            if on <= AS_OF:
                rows["payment"].append({"invoice_id": invoice_id, "amount": value, "paid_on": on,
                                        "recorded_at": recorded, "kind": kind,
                                        "reversed_at": recorded if back else None})

        late = timedelta(days=i % 60 - 10)
        if i % 10 < 5:
            pay(total, due + late)
        elif i % 10 == 5:
            pay((total / 2).quantize(Decimal("0.01")), due + late)
        elif i % 10 == 6:
            pay(total, due + late, back=True)
        if i % 20 == 7:
            pay((total / 10).quantize(Decimal("0.01")), issued + timedelta(days=5), PaymentKind.credit_note)
        if i % 3 == 0 and due + timedelta(days=14) < AS_OF:
            rows["entry"].append({"invoice_id": i + 1, "key": f"{number}:herinnering:email:1",
                                  "at": moment(due + timedelta(days=14)), "kind": "herinnering", "channel": "email",
                                  "by": None, "summary": "herinnering sent", "data": None})
        if i % 6 == 0 and due + timedelta(days=28) < AS_OF:
            rows["entry"].append({"invoice_id": i + 1, "key": f"{number}:aanmaning:email:1",
                                  "at": moment(due + timedelta(days=28)), "kind": "aanmaning", "channel": "email",
                                  "by": None, "summary": "aanmaning sent", "data": None})
        called = due + timedelta(days=5)
        if i % 5 == 0 and called < AS_OF:
            reached = i % 3 != 0
            outcome = {
                "reached": reached, "spoke_with": "", "note": "", "by": COLLECTORS[i % len(COLLECTORS)],
                "promised_on": (called + timedelta(days=7)).isoformat() if reached and i % 2 == 0 else None,
                "promised_amount": None, "excuse": EXCUSES[i % len(EXCUSES)] if reached else "",
                "summarised": False, "dispute": "", "plan_requested": reached and i % 7 == 0, "send_copy": False,
                "open_at_call": str(total),
            }
            rows["task"].append({"invoice_id": i + 1, "kind": TaskKind.call, "step": Step.call(1),
                                 "status": TaskStatus.done, "created_at": moment(called, 9),
                                 "completed_at": moment(called), "completed_by": outcome["by"], "outcome": outcome})
            rows["entry"].append({"invoice_id": i + 1, "key": f"{number}:call-1:outcome", "at": moment(called),
                                  "kind": "call", "channel": "phone", "by": outcome["by"],
                                  "summary": "reached" if reached else "not reached", "data": outcome})
    return rows


def prepare(home: Path, database_url: str, n: int) -> config.Installation:
    inst = config.Installation(home=home, database_url=database_url)
    db.migrate(inst)
    engine = db.engine_for(inst.database_url)
    debtors = (n + PER_DEBTOR - 1) // PER_DEBTOR
    rows = book(n)
    with engine.begin() as c:
        for start in range(0, debtors, CHUNK):
            c.execute(insert(Debtor), [
                {"id": d + 1, "number": f"D-{d:06d}", "name": f"Debiteur {d} B.V.", "kind": DebtorKind.business,
                 "email": f"d{d}@example.com", "country": "NL", "language": "nl"}
                for d in range(start, min(start + CHUNK, debtors))
            ])
        for model, key in ((Invoice, "invoice"), (Payment, "payment"), (HumanTask, "task"), (DossierEntry, "entry")):
            for start in range(0, len(rows[key]), CHUNK):
                c.execute(insert(model), rows[key][start:start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table in ("debtor", "invoice"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
            c.execute(text("ANALYZE"))
    print(f"{'book':<28} {n} invoices, {debtors} debtors, {len(rows['payment'])} payments and credits, "
          f"{len(rows['task'])} calls, {len(rows['entry'])} dossier entries")
    return inst


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    t0 = time.perf_counter()
    inst = prepare(home, database_url, args.invoices)
    print(f"{'set-up (bulk insert)':<28} {time.perf_counter() - t0:8.2f} s")

    def in_session(work: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with db.transaction(inst) as s:
                return work(s)
        return go

    baseline, _ = best(in_session(lambda s: s.execute(select(func.count(), func.sum(Invoice.amount))).one()),
                       args.repeat)
    print(f"{'baseline count(*), sum':<28} {baseline:8.3f} s")
    try:
        rows, _ = best(in_session(ledger.invoice_rows), 1)
        print(f"{'for scale: dunning invoices':<28} {rows:8.3f} s  {rows / baseline:7.1f} x baseline  "
              "(casework.ledger.invoice_rows: every invoice read as an object)")
    except DBAPIError as e:  # PostgreSQL takes at most 65,535 parameters; invoice_rows passes one per invoice
        print(f"{'for scale: dunning invoices':<28} fails: {str(e.orig).splitlines()[0][:100]}")
    found: dict[str, reports.Report] = {}
    for name in reports.NAMES:
        with counting_statements(inst) as statements:
            in_session(lambda s, name=name: reports.build(s, name, AS_OF))()
        seconds, found[name] = best(in_session(lambda s, name=name: reports.build(s, name, AS_OF)), args.repeat)
        print(f"{name:<28} {seconds:8.3f} s  {seconds / baseline:7.1f} x baseline  "
              f"{sum(statements.values())} SQL statement(s)")
    every = reports.Reports.of(AS_OF, found)
    page, paths = best(lambda: report_pages.write_folder(home / "reports" / AS_OF.isoformat(), every), args.repeat)
    print(f"{'charts and page':<28} {page:8.3f} s  ({len(paths)} files)")
    total = sum(best(in_session(lambda s, name=name: reports.build(s, name, AS_OF)), 1)[0] for name in reports.NAMES)
    print(f"{'all five and the page':<28} {total + page:8.3f} s  {(total + page) / baseline:7.1f} x baseline")
    aging = every.aging
    print(f"{'sanity':<28} aging total EUR {aging.total} = buckets "
          f"{sum((b.amount for b in aging.buckets), Decimal('0.00'))}; receivables on {AS_OF} "
          f"EUR {every.dso.months[-1].receivables}; DSO {every.dso.months[-1].days} days; "
          f"{every.promises.total.made} promises, {every.calls.total.attempts} calls, "
          f"collected EUR {every.collected.total}")
    for c in aging.currencies[1:]:
        print(f"{'':<28} apart: aging total {c.currency} {c.total} = buckets "
              f"{sum((b.amount for b in c.buckets), Decimal('0.00'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    add_database_options(parser)
    args = parser.parse_args()
    on_each_database(run, args)


if __name__ == "__main__":
    main()
