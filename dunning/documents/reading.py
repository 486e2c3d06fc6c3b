"""Which reader an invoice file needs, told from its content: a UBL e-invoice (XML), else a spreadsheet export."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

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


def read_invoice_file(path: Path, options: ReadOptions) -> list[InvoiceRecord]:
    from dunning.documents import spreadsheet, ubl
    from dunning.documents.mapping import read_mapping

    data = read_bytes(path)
    if ubl.is_ubl(data):
        record = ubl.read_ubl(data, str(path), default_term_days=options.default_term_days)
        if not (record.debtor.company_id or record.debtor.vat_id):
            # The document does not say: a known debtor keeps its kind, a new one gets the installation's.
            record = replace(record, debtor=replace(record.debtor, kind=None))
        records = [record]
    else:
        mapping = read_mapping(options.columns) if options.columns else None
        records = spreadsheet.read_invoice_rows(data, str(path), encoding=options.encoding,
                                                delimiter=options.delimiter, mapping=mapping,
                                                default_kind=options.kind)
    if options.kind is not None:  # the person's word beats what the file suggests
        records = [replace(r, debtor=replace(r.debtor, kind=options.kind)) for r in records]
    return records


def read_open_items_file(path: Path, options: ReadOptions) -> dict:
    from dunning.documents import spreadsheet
    from dunning.documents.mapping import read_mapping

    mapping = read_mapping(options.columns) if options.columns else None
    return spreadsheet.read_open_items(read_bytes(path), str(path), encoding=options.encoding,
                                       delimiter=options.delimiter, mapping=mapping)
