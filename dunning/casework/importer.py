"""Importing invoices: a file is read whole into records (`dunning.documents`: UBL e-invoices and spreadsheet
exports), and only then taken into the books (`casework.books`). One bad row or element rejects the whole file
with where and why, and the database stays as it was. Re-importing a file changes nothing; a changed invoice is
corrected."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from dunning.casework import books
from dunning.casework.books import TakenIn
from dunning.documents.mapping import COLUMNS  # noqa: F401  (the columns of our own CSV layout, for callers)
from dunning.documents.reading import ReadOptions, read_invoice_file
from dunning.documents.records import InvoiceRecord
from dunning.domain.fields import FIRST_DAY, currency_problem
from dunning.domain.kinds import DebtorKind
from dunning.storage import clock
from dunning.storage.config import Installation

ImportResult = TakenIn  # what an import did (the name callers knew)


def import_invoices(session: Session, path: Path, now: datetime | None = None,
                    options: ReadOptions | None = None) -> ImportResult:
    """Read `path` (UBL or a spreadsheet export, told from its content) and take it into the books."""
    options = options or ReadOptions()
    records = read_invoice_file(path, options)
    return import_records(session, str(path), records, now or clock.now(session), options.default_kind)


def import_records(session: Session, file: str, records: Iterable[InvoiceRecord], now: datetime,
                   default_kind: DebtorKind = DebtorKind.business) -> ImportResult:
    return books.take_in(session, file, Checked(file, records, clock.local(now).date()), now, default_kind)


# An invoice is issued at most this long ahead of today (a date in 2999 is a typing mistake), and falls due at most
# this long after it is issued (a due date in 9999 would put the whole ladder off the calendar).
MAX_ISSUED_AHEAD = timedelta(days=366)
MAX_TERM = timedelta(days=366)


class Checked:
    """The records, checked for what no single row shows: the file as a whole (one debtor, one name) and the facts
    beside it (today), whatever file they came from. Iterable as often as the books iterate them, checking on the
    way and holding no record (a streamed export stays streamed); errors name the place the reader's way
    (`file:row:column: reason`)."""

    def __init__(self, file: str, records: Iterable[InvoiceRecord], today: date) -> None:
        self.file, self.records, self.today = file, records, today

    def __iter__(self) -> Iterator[InvoiceRecord]:
        names: dict[str, tuple[str, str]] = {}  # debtor number -> (name, where it was first given)
        for record in self.records:
            self._check(record, names)
            yield record

    def _check(self, record: InvoiceRecord, names: dict[str, tuple[str, str]]) -> None:
        from dunning.documents.spreadsheet import row_error

        def fail(column: str, reason: str) -> Exception:
            return row_error(self.file, record.where, column, reason)

        if problem := currency_problem(record.currency):
            raise fail("currency", problem)
        if record.issue_date < FIRST_DAY:
            raise fail("issue_date", f"{record.issue_date.isoformat()} is before {FIRST_DAY.isoformat()}")
        if record.issue_date > self.today + MAX_ISSUED_AHEAD:
            raise fail("issue_date", f"{record.issue_date.isoformat()} is more than a year after today "
                       f"({self.today.isoformat()})")
        if record.due_date - record.issue_date > MAX_TERM:
            raise fail("due_date", f"{record.due_date.isoformat()} is more than a year after the issue date "
                       f"({record.issue_date.isoformat()})")
        name, where = names.setdefault(record.debtor.number, (record.debtor.name, record.where))
        if name != record.debtor.name:
            raise fail("debtor_name", f"debtor {record.debtor.number} is {name!r} on {where} and "
                       f"{record.debtor.name!r} here: one name")


def write_copies(inst: Installation, pdfs: dict[str, bytes]) -> None:
    """The invoices as the debtor received them, where "send a copy" finds them; after the import committed."""
    for number, pdf in pdfs.items():
        target = inst.invoice_copy(number)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".pdf.partial")
        partial.write_bytes(pdf)
        partial.replace(target)
