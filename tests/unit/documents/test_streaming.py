"""A spreadsheet export is streamed (issue 13): read from its file once per pass, never held whole; what is wrong
with the file as a whole is refused before any record is read, a bad row when the records are read, and a file
that changes between passes is refused rather than taken in half old, half new."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from dunning.documents.mapping import COLUMNS
from dunning.documents.reading import ReadOptions, read_invoice_file
from dunning.documents.records import DocumentError
from dunning.documents.spreadsheet import RowError, invoice_rows, read_invoice_rows

HEADER = ",".join(COLUMNS)


def row(n: int, due: str = "2026-02-04", name: str = "Jan de Vries") -> str:
    return (f"F-{n:06d},D-{n // 4:05d},{name} {n // 4},consumer,d{n // 4}@example.nl,+31 6 12345678,Dorpsstraat 1,"
            f"1234 AB,Utrecht,NL,nl,2026-01-05,{due},{100 + n % 900}.{n % 100:02d},EUR")


def export(rows: int, **bad: str) -> bytes:
    return ("\r\n".join([HEADER, *(row(n, **bad) if n == rows - 1 else row(n) for n in range(rows))]) + "\r\n").encode()


class Opens:
    """Bytes as a file that counts how often it was opened."""

    def __init__(self, data: bytes):
        self.data, self.count = data, 0

    def __call__(self) -> io.BytesIO:
        self.count += 1
        return io.BytesIO(self.data)


def test_each_pass_reads_the_file_anew_and_gives_the_same_records():
    opens = Opens(export(5))
    records = invoice_rows(opens, "export.csv")
    before = opens.count  # the bytes checked, the header and the amounts read: the file as a whole
    first, second = list(records), list(records)
    assert first == second and [r.number for r in first] == [f"F-{n:06d}" for n in range(5)]
    assert opens.count == before + 2


def test_a_bad_row_is_refused_when_the_records_are_read_naming_file_row_and_column():
    records = invoice_rows(Opens(export(5, due="2026-13-01")), "export.csv")  # the file as a whole is fine
    with pytest.raises(RowError) as e:
        list(records)
    assert str(e.value) == "export.csv:6:due_date: not a date (YYYY-MM-DD): '2026-13-01'"


def test_a_row_too_wide_is_refused_before_any_record_is_read():
    with pytest.raises(RowError, match=r"^export.csv:3: more fields than the header has columns$"):
        invoice_rows(Opens(export(3).replace(b"EUR\r\nF-000002", b"EUR,x\r\nF-000002")), "export.csv")


def test_a_byte_neither_encoding_has_is_named_where_it_is_in_the_file_beyond_the_first_read():
    data = export(8000)  # over a megabyte: the bad byte is in the second read
    at = len(data) - 20
    data = data[:at] + b"\x81" + data[at + 1:]
    with pytest.raises(DocumentError, match=rf"neither UTF-8 nor Windows-1252 text \(byte 0x81 at {at}\)"):
        read_invoice_rows(data, "export.csv")


def test_reading_a_long_export_holds_no_more_than_a_few_rows_and_the_numbers_seen(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(2000))
    records = read_invoice_file(path, ReadOptions())
    tracemalloc.start()
    try:
        count = sum(1 for _ in records)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 2000
    # Held whole, its records alone take 2.6 MB (the file, its text and its rows as much again); streamed, what
    # stays is one number per invoice (to find a repeated row) and the reader's buffers: 0.35 MB.
    assert peak < 1_000_000, peak


def test_a_file_changed_between_passes_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(3))
    records = read_invoice_file(path, ReadOptions())
    assert len(list(records)) == 3
    path.write_bytes(export(4))
    with pytest.raises(DocumentError, match=r"export.csv: changed while it was read; import it again$"):
        list(records)


def test_an_excel_export_with_its_sep_line_bom_and_decimal_commas_streams_as_it_reads_whole(tmp_path):
    text = "sep=;\r\n" + export(3).decode().replace(",", ";").replace(".", ",").replace("example,nl", "example.nl")
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    streamed = list(read_invoice_file(path, ReadOptions()))
    assert streamed == read_invoice_rows(path.read_bytes(), str(path))
    assert [(r.where, str(r.amount)) for r in streamed] == [("row 3", "100.00"), ("row 4", "101.01"),
                                                             ("row 5", "102.02")]
