"""The I/O of the books: the watched inbox of invoice files (UBL e-invoices, spreadsheet exports, open-items
lists) from the accounting package."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from dunning.casework.books import sync_open_items
from dunning.casework.importer import import_records, write_copies
from dunning.documents.reading import ReadOptions, read_invoice_file, read_open_items_file
from dunning.domain.errors import UserError
from dunning.domain.kinds import DebtorKind
from dunning.storage import clock, db
from dunning.storage.config import Installation
from tasks import inbox as inbox_files
from tasks.runtime import installation

_OPEN_ITEMS = re.compile(r"^open-items.*\.csv$", re.IGNORECASE)
_DATED = re.compile(r"(\d{4}-\d{2}-\d{2})")


def inbox(inst: Installation) -> Path:
    return inst.home / "inbox" / "invoices"


@dataclass(frozen=True)
class FileOutcome:
    file: str
    imported: bool
    summary: str  # what the import did, or why the file was refused


@task(cache_policy=NO_CACHE)
def import_invoice_inbox() -> list[FileOutcome]:
    """Every file in DUNNING_HOME/inbox/invoices/, oldest first, each taken in as `take_in_file` says: into
    done/, or failed/ with FILE.error.txt saying why."""
    inst = installation()
    outcomes = []
    for path in inbox_files.waiting(inbox(inst)):
        try:
            summary = take_in_file(inst, path)
        except UserError as e:
            inbox_files.failed(path, str(e))
            get_run_logger().error("%s refused, moved to failed/: %s", path.name, e)
            outcomes.append(FileOutcome(path.name, False, str(e)))
            continue
        inbox_files.done(path)
        get_run_logger().info(summary)
        outcomes.append(FileOutcome(path.name, True, summary))
    return outcomes


def take_in_file(inst: Installation, path: Path) -> str:
    """One file of the invoice inbox, whole or not at all (a `UserError` says why), and its summary line: an
    `open-items*.csv` as the ledger's open items (of the date in its name, else of today), anything else as
    invoices and credit notes (UBL or a spreadsheet export, read with the inbox's column mapping if it has one).
    The scheduled import and the import-file desk action take a file in through this. Moving the file is the
    caller's."""
    options = ReadOptions(default_kind=DebtorKind(inst.default_debtor_kind),
                          default_term_days=inst.default_payment_term_days)
    mapping = inst.home / "inbox" / "invoices.columns.toml"  # the export's column mapping, when it needs one
    if mapping.is_file():
        options = replace(options, columns=mapping)
    take_in = _open_items if _OPEN_ITEMS.match(path.name) else _invoices
    return take_in(inst, path, options)


def _invoices(inst: Installation, path: Path, options: ReadOptions) -> str:
    records = read_invoice_file(path, options)
    with db.transaction(inst) as s:
        result = import_records(s, path.name, records, clock.now(s), options.default_kind)
    write_copies(inst, result.pdfs)
    return result.summary(path.name)


def _open_items(inst: Installation, path: Path, options: ReadOptions) -> str:
    items = read_open_items_file(path, options)
    with db.transaction(inst) as s:
        dated = _DATED.search(path.name)
        as_of = date.fromisoformat(dated.group(1)) if dated else clock.local(clock.now(s)).date()
        share = inst.open_items_max_settle_share
        return sync_open_items(s, path.name, items, as_of, clock.now(s), max_share=share).summary(path.name)
