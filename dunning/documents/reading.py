"""Which reader an invoice file needs, told from its content: a UBL e-invoice (XML), else a spreadsheet export."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from dunning.documents.records import DocumentError, InvoiceRecord
from dunning.domain.kinds import DebtorKind


@dataclass(frozen=True)
class ReadOptions:
    """How a person said to read the files (the command's options), and the installation's defaults."""

    encoding: str | None = None
    delimiter: str | None = None
    columns: Path | None = None  # a mapping file: our field = their header
    kind: DebtorKind | None = None  # every debtor in the file is this kind (--kind)
    default_kind: DebtorKind = DebtorKind.business  # for a debtor the file does not say the kind of
    default_term_days: int = 30  # for an invoice without a due date


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(str(path), None, "no such file") from None
    except OSError as e:
        raise DocumentError(str(path), None, f"cannot be read: {e.strerror or e}") from None


_SNIFF = 1 << 16  # bytes that hold the root element of any e-invoice: enough to tell UBL from a spreadsheet


class _FileOpener:
    """Opens `path` once per pass over a streamed file, and refuses a file that changed since the first: the
    rows a later pass writes must be the rows the first one checked."""

    def __init__(self, path: Path):
        self.path = path
        self.seen: tuple[int, int, int] | None = None

    def __call__(self) -> IO[bytes]:
        try:
            f = self.path.open("rb")
        except FileNotFoundError:
            raise DocumentError(str(self.path), None, "no such file") from None
        except OSError as e:
            raise DocumentError(str(self.path), None, f"cannot be read: {e.strerror or e}") from None
        stat = os.fstat(f.fileno())
        now = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self.seen is None:
            self.seen = now
        elif now != self.seen:
            f.close()
            raise DocumentError(str(self.path), None, "changed while it was read; import it again")
        return f


class _Kind:
    """Records with every debtor of one kind, as they are iterated."""

    def __init__(self, records: Iterable[InvoiceRecord], kind: DebtorKind):
        self.records, self.kind = records, kind

    def __iter__(self) -> Iterator[InvoiceRecord]:
        for r in self.records:
            yield replace(r, debtor=replace(r.debtor, kind=self.kind))


def read_invoice_file(path: Path, options: ReadOptions) -> Iterable[InvoiceRecord]:
    """The records of an invoice file. A spreadsheet export is streamed: the file's faults as a whole are refused
    here, and each iteration reads its rows anew (a bad row is refused there), holding neither the file nor its
    records; iterate it as often as needed."""
    from dunning.documents import spreadsheet, ubl
    from dunning.documents.mapping import read_mapping

    opener = _FileOpener(path)
    with opener() as f:
        head = f.read(_SNIFF)
    records: Iterable[InvoiceRecord]
    if ubl.is_ubl(head):
        data = read_bytes(path)
        record = ubl.read_ubl(data, str(path), default_term_days=options.default_term_days)
        if not (record.debtor.company_id or record.debtor.vat_id):
            # The document does not say: a known debtor keeps its kind, a new one gets the installation's.
            record = replace(record, debtor=replace(record.debtor, kind=None))
        records = [record]
    else:
        mapping = read_mapping(options.columns) if options.columns else None
        records = spreadsheet.invoice_rows(opener, str(path), encoding=options.encoding,
                                           delimiter=options.delimiter, mapping=mapping, default_kind=options.kind)
    if options.kind is not None:  # the person's word beats what the file suggests
        records = _Kind(records, options.kind)
    return records


def read_open_items_file(path: Path, options: ReadOptions) -> dict:
    from dunning.documents import spreadsheet
    from dunning.documents.mapping import read_mapping

    mapping = read_mapping(options.columns) if options.columns else None
    return spreadsheet.read_open_items(read_bytes(path), str(path), encoding=options.encoding,
                                       delimiter=options.delimiter, mapping=mapping)
