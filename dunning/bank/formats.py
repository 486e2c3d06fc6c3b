"""Which reader a statement file needs, told from its content: banks name their exports freely (.xml, .940,
.sta, .swi, .txt), so the file name decides nothing."""

from __future__ import annotations

import re
from pathlib import Path

from dunning.bank.camt import parse_camt
from dunning.bank.lines import Statement, StatementError
from dunning.bank.mt940 import parse_mt940

_MT940 = re.compile(rb"^(?::20:|:25:|:61:|:940:|\{1:)|ABNANL2A", re.MULTILINE)
_BOM = b"\xef\xbb\xbf"


def read_statement(data: bytes, file: str) -> Statement:
    head = data.removeprefix(_BOM).lstrip()
    if not head:
        raise StatementError(file, None, "the file is empty")
    if head.startswith(b"<"):
        return parse_camt(data, file)
    if _MT940.search(head):
        return parse_mt940(data, file)
    raise StatementError(file, None, "not a CAMT.053 or MT940 statement: neither XML nor MT940 fields "
                         "(:20:, :25:, :61:)")


def read_statement_file(path: Path) -> Statement:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise StatementError(str(path), None, f"cannot be read: {e.strerror or e}") from None
    return read_statement(data, str(path))
