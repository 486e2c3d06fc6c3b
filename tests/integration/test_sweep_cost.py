"""The sweep costs what is due, not the size of the book: what it finds to do (`wakeups.due`) takes as many SQL
statements over a book of 500 invoices as over one of 50, and finds the same things, on SQLite and PostgreSQL."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event, insert

from dunning.casework import invoices, wakeups
from dunning.domain.kinds import DebtorKind, LineStatus, PaymentKind
from dunning.domain.time import AMSTERDAM
from dunning.storage import db
from dunning.storage.models import BankLine, Debtor, Invoice, Payment

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)  # a Tuesday
TODAY = date(2026, 3, 10)
RUN = "00000000-0000-0000-0000-0000000000{:02d}"
PROCESS = {"flow_run_id": None, "wake_at": None, "closed_reason": None}  # every row names every column it may set


def build(installation) -> None:
    """A few invoices that are due in one way or another, or nearly."""
    debtors, invoices_, payments, lines = [], [], [], []

    def invoice(debtor: int, number: str, due: date, amount: str = "100.00", **extra) -> int:
        invoices_.append({"id": len(invoices_) + 1, "number": number, "debtor_id": debtor,
                          "issue_date": due - timedelta(days=30), "due_date": due, "amount": Decimal(amount),
                          "currency": "EUR", "payment_reference": None} | PROCESS | extra)
        return len(invoices_)

    def pay(invoice_id: int, amount: str, on: date, kind=PaymentKind.payment, reversed_at=None) -> None:
        payments.append({"invoice_id": invoice_id, "amount": Decimal(amount), "paid_on": on, "recorded_at": NOW,
                         "kind": kind, "reversed_at": reversed_at})

    for number in ("D-LATE", "D-PUNCTUAL", "D-OTHER"):
        debtors.append({"id": len(debtors) + 1, "number": number, "name": number, "kind": DebtorKind.business})
    for k in range(3):  # a late payer: their last three invoices paid 20 days late (one in two parts)
        due = date(2026, 1, 5) + timedelta(days=7 * k)
        paid = invoice(1, f"LATE-{k}", due, "0.30")
        pay(paid, "0.10", due + timedelta(days=15))
        pay(paid, "0.20", due + timedelta(days=20))
    pay(invoice(1, "LATE-CREDITED", date(2026, 2, 20)), "100.00", TODAY, PaymentKind.credit_note)  # says nothing
    invoice(1, "LATE-SOON", TODAY + timedelta(days=2))  # courtesy call: its day has come
    invoice(1, "LATE-LATER", TODAY + timedelta(days=10))  # not yet
    for k in range(3):
        due = date(2026, 1, 5) + timedelta(days=7 * k)
        pay(invoice(2, f"PUNCTUAL-{k}", due), "100.00", due)
    invoice(2, "PUNCTUAL-SOON", TODAY + timedelta(days=1))  # a punctual payer: no courtesy call
    invoice(3, "OVERDUE", date(2026, 3, 1))  # to start
    pay(invoice(3, "OVERDUE-PART-PAID", date(2026, 3, 2)), "99.99", TODAY)  # to start: a cent open
    pay(invoice(3, "OVERDUE-PAID", date(2026, 3, 2)), "100.00", TODAY)
    pay(invoice(3, "OVERDUE-TAKEN-BACK", date(2026, 3, 3)), "100.00", TODAY, reversed_at=NOW)  # to start
    invoice(3, "OVERDUE-CLOSED", date(2026, 3, 1), closed_reason="written off")
    invoice(3, "WAKE", date(2026, 2, 1), flow_run_id=RUN.format(1), wake_at=NOW - timedelta(minutes=1))
    invoice(3, "WAIT", date(2026, 2, 1), flow_run_id=RUN.format(2), wake_at=NOW + timedelta(days=1))
    lines.append(_line(1, LineStatus.unmatched, None))  # to ask a person
    lines.append(_line(2, LineStatus.matched, RUN.format(3)))  # decided elsewhere: its run is over
    lines.append(_line(3, LineStatus.unmatched, RUN.format(4)))  # still asking
    with db.engine_for(installation.database_url).begin() as c:
        c.execute(insert(Debtor), debtors)
        c.execute(insert(Invoice), invoices_)
        c.execute(insert(Payment), payments)
        c.execute(insert(BankLine), lines)


def add_filler(installation, start: int, count: int) -> None:
    """Invoices that are not due: within 90 days (some with a run waiting), four per debtor, every debtor with
    an invoice paid on time."""
    debtors, invoices_, payments = [], [], []
    for i in range(start, start + count):
        debtor = 1000 + i // 4
        if i % 4 == 0:
            debtors.append({"id": debtor, "number": f"D-{i:04d}", "name": f"Debiteur {i}",
                            "kind": DebtorKind.business})
            invoices_.append({"id": 10_000 + i, "number": f"PAID-{i:04d}", "debtor_id": debtor,
                              "issue_date": date(2026, 1, 1), "due_date": date(2026, 2, 1),
                              "amount": Decimal("100.00"), "currency": "EUR", "payment_reference": None}
                             | PROCESS)
            payments.append({"invoice_id": 10_000 + i, "amount": Decimal("100.00"), "paid_on": date(2026, 1, 30),
                             "recorded_at": NOW, "kind": PaymentKind.payment, "reversed_at": None})
        waiting = {"flow_run_id": RUN.format(5), "wake_at": NOW + timedelta(hours=1 + i)} if i % 7 == 0 else {}
        invoices_.append({"id": 20_000 + i, "number": f"F-{i:04d}", "debtor_id": debtor, "issue_date": TODAY,
                          "due_date": TODAY + timedelta(days=1 + i % 90), "amount": Decimal("50.00"),
                          "currency": "EUR", "payment_reference": None} | PROCESS | waiting)
    with db.engine_for(installation.database_url).begin() as c:
        c.execute(insert(Debtor), debtors)
        c.execute(insert(Invoice), invoices_)
        c.execute(insert(Payment), payments)


def _line(n: int, status: LineStatus, run: str | None) -> dict:
    return {"identity": f"line-{n}", "file": "s.xml", "entry": n, "account": "NL91ABNA0417164300",
            "booked": TODAY, "amount": Decimal("10.00"), "currency": "EUR", "credit": True, "status": status,
            "imported_at": NOW, "flow_run_id": run}


def due_and_statements(installation) -> tuple[wakeups.Due, int]:
    seen: Counter[str] = Counter()

    def count(_conn, _cursor, statement, _params, _context, _executemany):  # type: ignore[no-untyped-def]
        seen[statement] += 1

    engine = db.engine_for(installation.database_url)
    with db.transaction(installation) as s:
        s.connection()  # the transaction's own BEGIN is not the sweep's
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = wakeups.due(s, installation.home, NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return found, sum(seen.values())


def test_the_sweep_finds_what_is_due_and_only_that(installation):
    build(installation)
    add_filler(installation, 0, 100)
    found, _ = due_and_statements(installation)
    assert found.start == [("OVERDUE", "D-OTHER"), ("OVERDUE-PART-PAID", "D-OTHER"),
                           ("OVERDUE-TAKEN-BACK", "D-OTHER"), ("LATE-SOON", "D-LATE")]
    assert found.wake == [("WAKE", RUN.format(1))]
    assert found.ask == [1]
    assert found.decided == [(2, RUN.format(3))]


def test_the_sweep_takes_as_many_statements_for_500_invoices_as_for_50(installation):
    build(installation)
    add_filler(installation, 0, 50)
    small_found, small = due_and_statements(installation)
    add_filler(installation, 50, 450)
    large_found, large = due_and_statements(installation)
    assert large_found == small_found
    assert small == large <= 6


def test_a_late_payers_history_leaves_out_credited_invoices_and_counts_the_last_payment(installation):
    build(installation)
    with db.transaction(installation) as s:
        late = s.get_one(Debtor, 1)
        assert invoices.lateness_history(s, late) == (20, 20, 20)  # latest due first; the credited one left out
        assert invoices.lateness_history(s, s.get_one(Debtor, 2)) == (0, 0, 0)
        assert invoices.lateness_history(s, s.get_one(Debtor, 3)) == (8,)  # OVERDUE-PAID; the part paid is open
