"""Importing invoices: a file is read whole into records (`dunning.documents`: UBL e-invoices and spreadsheet
exports), and only then taken into the books (`casework.books`). One bad row or element rejects the whole file
with where and why, and the database stays as it was. Re-importing a file changes nothing; a changed invoice is
corrected."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from dunning.casework import books
from dunning.casework.books import TakenIn
from dunning.documents.mapping import COLUMNS  # noqa: F401  (the columns of our own CSV layout, for callers)
from dunning.documents.reading import ReadOptions, read_invoice_file
from dunning.documents.records import InvoiceRecord
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


def import_records(session: Session, file: str, records: list[InvoiceRecord], now: datetime,
                   default_kind: DebtorKind = DebtorKind.business) -> ImportResult:
    return books.take_in(session, file, records, now, default_kind)


def write_copies(inst: Installation, pdfs: dict[str, bytes]) -> None:
    """The invoices as the debtor received them, where "send a copy" finds them; after the import committed."""
    for number, pdf in pdfs.items():
        target = inst.invoice_copy(number)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".pdf.partial")
        partial.write_bytes(pdf)
        partial.replace(target)
