"""Spreadsheet exports as accounting packages write them: CSV with `,`, `;` or a tab, a decimal point or a
decimal comma (with or without thousands separators), UTF-8 with or without BOM or Windows-1252, our headers or
another package's through a mapping file (`dunning.documents.mapping`).

Detected per file, each overridable (argument first, then the mapping file):
- encoding: UTF-8 (a BOM is dropped); bytes that are not UTF-8 are read as Windows-1252. Nothing else is guessed.
- delimiter: Excel's `sep=;` first line when there is one, else whichever of `,` `;` tab the header line holds
  most of outside quotes (`,` on a tie).
- decimal mark: from the amounts that can only be read one way (`1.234,56`, `12,50`, `1,234.56`, `0.10`); the
  mark most of them use is the file's, and an amount that does not fit it is an error. `1.234` and `1,234` can
  be read either way and decide nothing, except that in a `;` file a lone comma is a decimal comma. A file
  without a deciding amount has a decimal comma when `;`-separated, else a decimal point.

Every error names the place as `file:row:column: reason` (row = the line in the file where the record starts,
column = the header as the file writes it); an error in a mapping file names that file and its key.

Streamed: a file is read from disk as it is needed, never held whole, so memory stays flat however long the
export (issue 13). It is read more than once: its bytes once to settle the encoding (an error half-way must not
surface after rows were taken in), its rows once to decide the decimal mark, and once per pass of whoever takes
the records in (`InvoiceRows`)."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from dunning.documents.mapping import (
    DELIMITERS,
    INVOICE_FIELDS,
    OPEN_ITEM_FIELDS,
    REQUIRED,
    ColumnMapping,
)
from dunning.documents.records import DebtorRecord, DocumentError, DocumentKind, InvoiceRecord
from dunning.domain.fields import closest, is_valid_email_address, line_problem
from dunning.domain.kinds import KIND_ALIASES, Channel, DebtorKind

# The database columns' lengths (dunning.storage.models; a test holds them equal): longer values are refused
# per row and column, as the database would refuse them (PostgreSQL with an error, SQLite not at all).
INVOICE_NUMBER_LENGTH = 50
DEBTOR_NUMBER_LENGTH = 50
NAME_LENGTH = 200
EMAIL_LENGTH = 254
PHONE_LENGTH = 50
STREET_LENGTH = 200
POSTCODE_LENGTH = 20
CITY_LENGTH = 100
CALL_TIMES_LENGTH = 100
CONTACT_NAME_LENGTH = 100
MAX_LENGTH = {
    "invoice_number": INVOICE_NUMBER_LENGTH,
    "debtor_number": DEBTOR_NUMBER_LENGTH,
    "debtor_name": NAME_LENGTH,
    "email": EMAIL_LENGTH,
    "phone": PHONE_LENGTH,
    "street": STREET_LENGTH,
    "postcode": POSTCODE_LENGTH,
    "city": CITY_LENGTH,
    "call_times": CALL_TIMES_LENGTH,
    "contact_name": CONTACT_NAME_LENGTH,
    "credits_invoice": INVOICE_NUMBER_LENGTH,
}
MAX_AMOUNT = Decimal("1e12")  # models.Money is Numeric(14, 2): at most 12 digits before the point
_CENT = Decimal("0.01")
_SEP_LINE = re.compile(r"sep=(.)(?:\r\n|\r|\n)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_FORMAT_WORDS = {"%d": "DD", "%m": "MM", "%Y": "YYYY", "%y": "YY", "%b": "Mon", "%B": "Month", "%%": "%"}
_READ_SIZE = 1 << 20  # bytes per read while checking the encoding
# How to address the contact person: never guessed from a first name, only what the export says.
SALUTATIONS = {"heer": "heer", "dhr": "heer", "mevrouw": "mevrouw", "mevr": "mevrouw", "mw": "mevrouw", "mr": "mr",
               "ms": "ms", "mrs": "ms"}

Opener = Callable[[], IO[bytes]]  # opens the file at its start, once per pass



def _salutation(row: _Row, value: str) -> str | None:
    """The contact person's title as the letters use it (heer, mevrouw, mr, ms); empty: not known."""
    if not value.strip():
        return None
    found = SALUTATIONS.get(value.strip().rstrip(".").lower())
    if found is None:
        raise row.fail("contact_salutation", f"unknown salutation {value!r} (heer, mevrouw, mr or ms; or empty)")
    return found

def opener_of(data: bytes) -> Opener:
    """Bytes already in memory, read as a file would be."""
    return lambda: io.BytesIO(data)


class RowError(DocumentError):
    """An error at a row (and column) of a spreadsheet: says `file:row:column: reason`, the shape people and
    tests know from the CSV import; `where` is "row 3, column amount" like other document errors."""

    def __init__(self, file: str, row: int, column: str | None, reason: str):
        super().__init__(file, f"row {row}, column {column}" if column else f"row {row}", reason)
        self.row, self.column = row, column
        self.args = (f"{file}:{row}:{column}: {reason}" if column else f"{file}:{row}: {reason}",)


_ROW_WHERE = re.compile(r"row (\d+)")


def row_error(file: str, where: str, column: str | None, reason: str) -> DocumentError:
    """An error about a record read here (`where` is its "row 3"), in the same shape as the reader's own."""
    if match := _ROW_WHERE.fullmatch(where):
        return RowError(file, int(match[1]), column, reason)
    return DocumentError(file, where, f"{column}: {reason}" if column else reason)


# --- invoices ----------------------------------------------------------------------------------------------------


def read_invoice_rows(
    data: bytes,
    file: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: ColumnMapping | None = None,
    default_kind: DebtorKind | None = None,
) -> list[InvoiceRecord]:
    """The invoices and credit notes of a CSV export in memory, all at once (`invoice_rows` streams them)."""
    return list(invoice_rows(opener_of(data), file, encoding=encoding, delimiter=delimiter, mapping=mapping,
                             default_kind=default_kind))


def invoice_rows(
    opener: Opener,
    file: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: ColumnMapping | None = None,
    default_kind: DebtorKind | None = None,
) -> InvoiceRows:
    """The invoices and credit notes of a CSV export, in file order; a row repeated unchanged is read once. A
    negative amount is a credit note: on the invoice in `credits_invoice`, else on the debtor. `default_kind`
    (e.g. `--kind`) fills an empty or absent `debtor_kind`, after the mapping's default. What is wrong with the
    file as a whole (encoding, header, a row that is not CSV or too wide) is refused here; a bad row when the
    records are read."""
    table = _Table(opener, file, encoding, delimiter, mapping)
    kind_defaulted = default_kind is not None or (mapping is not None and "debtor_kind" in mapping.defaults)
    required = [name for name in REQUIRED if not (name == "debtor_kind" and kind_defaulted)]
    columns = _Columns(table, mapping, INVOICE_FIELDS, required)
    amounts = _DecimalMark.decide(columns.values(table.rows(), "amount"), table.delimiter, mapping)
    return InvoiceRows(table, columns, amounts, mapping, default_kind)


_LOW = (1 << 64) - 1


class InvoiceRows:
    """The records of an export, read anew from the file each time they are iterated: whoever takes them in may
    check them all in one pass and write them in the next, holding neither the file nor its records."""

    def __init__(self, table: _Table, columns: _Columns, amounts: _DecimalMark, mapping: ColumnMapping | None,
                 default_kind: DebtorKind | None):
        self._table, self._columns, self._amounts = table, columns, amounts
        self._mapping, self._default_kind = mapping, default_kind
        self._passed = False  # every row passed every check once (and the opener refuses a file that changed)

    def __iter__(self) -> Iterator[InvoiceRecord]:
        passed = self._passed  # then what can only refuse a row is not asked again: half the cost of a pass
        # A number seen before, with its row and a fingerprint of its record (packed in one int: 100,000 of
        # them take a few MB), instead of the record: a repeat must be the same invoice, or it is refused.
        seen: dict[str, int] = {}
        for line, fields in self._table.rows():
            row = self._columns.row(line, fields)
            record = _invoice(row, self._amounts, self._mapping, self._default_kind, passed)
            earlier = seen.get(record.number)
            if earlier is None:
                seen[record.number] = line << 64 | (0 if passed else _fingerprint(record))
                yield record
            elif not passed and earlier & _LOW != _fingerprint(record):
                raise row.fail("invoice_number", f"invoice also on row {earlier >> 64} with other data")
        self._passed = True


def _fingerprint(record: InvoiceRecord) -> int:
    """Equal for records equal but for their row (a different record gives the same one once in 2**64)."""
    return hash(replace(record, where="")) & _LOW


def _invoice(row: _Row, amounts: _DecimalMark, mapping: ColumnMapping | None,
             default_kind: DebtorKind | None, passed: bool = False) -> InvoiceRecord:
    v = row.values
    # The whole row at once first (these checks look at characters and lengths, so a row passes them as a whole
    # when each field does); field by field only to name the first that fails.
    if not passed and (line_problem("".join(v.values())) or any(not v[name] for name in row.required)
                       or any(len(v[name]) > limit for name, limit in MAX_LENGTH.items())):
        for name in INVOICE_FIELDS:
            if name in row.required and not v[name]:
                raise row.fail(name, "missing value")
            if problem := line_problem(v[name]):
                raise row.fail(name, problem)
            if name in MAX_LENGTH and len(v[name]) > MAX_LENGTH[name]:
                raise row.fail(name, f"longer than {MAX_LENGTH[name]} characters")
    if v["debtor_kind"]:
        word = v["debtor_kind"].lower()
        try:
            kind: DebtorKind | None = DebtorKind(KIND_ALIASES.get(word, word))
        except ValueError:
            raise row.fail("debtor_kind", f"unknown kind {v['debtor_kind']!r} (consumer or business)") from None
    else:
        kind = default_kind
    if v["email"] and not passed and not _valid_email(v["email"]):
        raise row.fail("email", f"not a valid e-mail address: {v['email']!r}")
    issue_date = _date(row, "issue_date", mapping)
    due_date = _date(row, "due_date", mapping)
    if due_date < issue_date:
        raise row.fail("due_date", "due date lies before the issue date")
    amount = amounts.read(row, "amount")
    if amount == 0:
        raise row.fail("amount", f"amount must not be zero (a credit note has a negative amount): {v['amount']!r}")
    credits_invoice = v["credits_invoice"] or None
    if credits_invoice is not None and amount > 0:
        raise row.fail("amount", f"a credit note (credits_invoice {credits_invoice}) has a negative amount, "
                       f"got {v['amount']!r}")
    if credits_invoice == v["invoice_number"]:
        raise row.fail("credits_invoice", f"a credit note cannot credit itself: {credits_invoice!r}")
    currency = (v["currency"] or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise row.fail("currency", f"not a currency code (e.g. EUR): {v['currency']!r}")
    language = v["language"].lower() or None
    if language not in (None, "nl", "en"):
        raise row.fail("language", f"unsupported language {v['language']!r} (nl or en)")
    country = v["country"].upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha() or not country.isascii()):
        raise row.fail("country", f"not a two-letter country code: {v['country']!r}")
    channel: Channel | None = None
    if v["preferred_channel"]:
        try:
            channel = Channel(v["preferred_channel"].lower())
        except ValueError:
            raise row.fail("preferred_channel",
                           f"unknown channel {v['preferred_channel']!r} (email, letter or phone)") from None
    iban: str | None = None
    if v["iban"]:
        iban, problem = _iban(v["iban"])
        if problem:
            raise row.fail("iban", f"not a valid IBAN: {v['iban']!r} ({problem})")
    debtor = DebtorRecord(
        number=v["debtor_number"],
        name=v["debtor_name"],
        kind=kind,
        email=v["email"] or None,
        phone=v["phone"] or None,
        street=v["street"] or None,
        postcode=v["postcode"] or None,
        city=v["city"] or None,
        country=country,
        language=language,
        contact_name=v["contact_name"] or None,
        contact_salutation=_salutation(row, v["contact_salutation"]),
        iban=iban,
        preferred_channel=channel,
        call_times=v["call_times"] or None,
    )
    return InvoiceRecord(
        where=f"row {row.line}",
        number=v["invoice_number"],
        debtor=debtor,
        issue_date=issue_date,
        due_date=due_date,
        amount=abs(amount),
        currency=currency,
        kind=DocumentKind.credit_note if amount < 0 else DocumentKind.invoice,
        credits_invoice=credits_invoice,
    )


# A debtor's address and account repeat on each of its invoices, and checking them is most of the cost of a row
# (the stdlib's address parser, schwifty): the recent ones are remembered, a bounded number.
_valid_email = functools.lru_cache(maxsize=4096)(is_valid_email_address)


@functools.lru_cache(maxsize=4096)
def _iban(raw: str) -> tuple[str | None, str | None]:
    """(the IBAN compact, None), or (None, why it is none)."""
    try:
        return IBAN(raw).compact, None
    except SchwiftyException as e:
        return None, str(e)


def _date(row: _Row, name: str, mapping: ColumnMapping | None) -> date:
    value = row.values[name]
    fmt = mapping.date_format if mapping else None
    if fmt is None:
        try:
            if _ISO_DATE.fullmatch(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise row.fail(name, f"not a date (YYYY-MM-DD): {value!r}")
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        shown = re.sub(r"%.", lambda m: _FORMAT_WORDS.get(m[0], m[0]), fmt)
        raise row.fail(name, f"not a date ({shown}): {value!r}") from None


# --- open items --------------------------------------------------------------------------------------------------


def read_open_items(
    data: bytes,
    file: str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: ColumnMapping | None = None,
    allow_empty: bool = False,
) -> dict[str, Decimal]:
    """The ledger's list of open items: invoice number -> what is still open on it (zero or more). A list
    without items is refused unless `allow_empty` (it would say that nothing at all is open)."""
    table = _Table(opener_of(data), file, encoding, delimiter, mapping)
    columns = _Columns(table, mapping, OPEN_ITEM_FIELDS, OPEN_ITEM_FIELDS)
    amounts = _DecimalMark.decide(columns.values(table.rows(), "open_amount"), table.delimiter, mapping)
    if amounts.rows == 0 and not allow_empty:
        raise RowError(file, table.end, None, "no open items: an empty list would settle every open invoice")
    items: dict[str, Decimal] = {}
    first: dict[str, int] = {}
    for row in (columns.row(line, fields) for line, fields in table.rows()):
        number = row.values["invoice_number"]
        for name in OPEN_ITEM_FIELDS:
            if not row.values[name]:
                raise row.fail(name, "missing value")
            if problem := line_problem(row.values[name]):
                raise row.fail(name, problem)
        if len(number) > INVOICE_NUMBER_LENGTH:
            raise row.fail("invoice_number", f"longer than {INVOICE_NUMBER_LENGTH} characters")
        amount = amounts.read(row, "open_amount")
        if amount < 0:
            raise row.fail("open_amount", f"open amount must not be negative: {row.values['open_amount']!r}")
        if number in items and items[number] != amount:
            raise row.fail("invoice_number",
                           f"invoice also on row {first[number]} with open amount {items[number]}, here {amount}")
        items[number] = amount
        first.setdefault(number, row.line)
    return items


# --- the table ----------------------------------------------------------------------------------------------------


class _Table:
    """A CSV file streamed: its encoding checked on all of its bytes, its delimiter and header read; `rows()`
    reads the records anew each time."""

    def __init__(self, opener: Opener, file: str, encoding: str | None, delimiter: str | None,
                 mapping: ColumnMapping | None):
        self.file, self._opener = file, opener
        self._encoding = _encoding(opener, file, encoding or (mapping.encoding if mapping else None))
        if delimiter is not None and delimiter not in DELIMITERS:
            raise DocumentError(file, None, f"delimiter {delimiter!r} is not one of ',', ';', '\\t' (or 'tab')")
        with self._text() as text:
            first = text.readline()
            sep = _SEP_LINE.fullmatch(first)  # Excel's own way to name the delimiter
            self._offset = 1 if sep else 0  # lines before the header
            self.delimiter = (DELIMITERS[delimiter] if delimiter else (mapping and mapping.delimiter)
                              or (sep and sep[1]) or _delimiter(itertools.chain([] if sep else [first], text)))
        self.end = self._offset + 1  # the line after the last record, once the records were read
        records = self._records()
        try:
            self.header = [h.strip() for h in next(records)[1]]
        finally:
            records.close()
        if self.header:
            self.header[0] = self.header[0].removeprefix("\ufeff").strip()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line where the record starts, its fields), blank records left out; checked against the header only
        once the header is known to hold what we need."""
        return itertools.islice(self._records(), 1, None)

    def _text(self) -> io.TextIOWrapper:
        # newline="": a line break inside a quoted field stays in the field (and is refused), and row numbers are
        # the lines of the file even after blank lines or multi-line fields.
        return io.TextIOWrapper(self._opener(), encoding=self._encoding, newline="")

    def _records(self) -> Generator[tuple[int, list[str]], None, None]:
        """The header (even when blank), then the records."""
        with self._text() as text:
            if self._offset:
                text.readline()
            reader = csv.reader(text, delimiter=self.delimiter)
            line = self._offset + 1
            try:
                yield line, next(reader, [])
                line = self._offset + reader.line_num + 1
                for fields in reader:
                    start, line = line, self._offset + reader.line_num + 1
                    if any(map(str.strip, fields)):
                        yield start, fields
            except csv.Error as e:
                raise RowError(self.file, line, None, f"not readable as CSV ({e})") from None
            except UnicodeDecodeError:  # its bytes were checked: it was written to while we read it
                raise DocumentError(self.file, None, "changed while it was read; import it again") from None
            self.end = line


def _encoding(opener: Opener, file: str, encoding: str | None) -> str:
    """The codec the whole file decodes with, checked on every byte before any row is read."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise DocumentError(file, None, f"unknown encoding {encoding!r} (e.g. utf-8, cp1252)") from None
        codec = "utf-8-sig" if codec == "utf-8" else codec
        if problem := _decode_error(opener, codec):
            reason, at, _byte = problem
            raise DocumentError(file, None, f"not {encoding} text ({reason} at byte {at})")
        return codec
    with opener() as f:
        if f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise DocumentError(file, None, "UTF-16 text (Excel's \"Unicode text\"): save it as CSV, or give the "
                                "encoding utf-16")
    if _decode_error(opener, "utf-8-sig") is None:
        return "utf-8-sig"
    if (problem := _decode_error(opener, "cp1252")) is None:
        return "cp1252"
    _reason, at, byte = problem
    raise DocumentError(file, None, f"neither UTF-8 nor Windows-1252 text (byte 0x{byte:02x} at {at}); give the "
                        "encoding")


def _decode_error(opener: Opener, codec: str) -> tuple[str, int, int] | None:
    """Why, where and at which byte the file does not decode with `codec`, or None when it does."""
    decoder = codecs.getincrementaldecoder(codec)()
    fed = 0
    with opener() as f:
        while True:
            chunk = f.read(_READ_SIZE)
            pending = len(decoder.getstate()[0])  # the bytes of a character cut by the previous read
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                return e.reason, fed - pending + e.start, e.object[e.start]
            if not chunk:
                return None
            fed += len(chunk)


def _delimiter(lines: Iterable[str]) -> str:
    """The candidate the header line holds most of outside quotes; `,` when it holds none or on a tie."""
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in itertools.chain.from_iterable(lines):
        if char == '"':
            quoted = not quoted
        elif not quoted:
            if char in "\r\n":
                break
            if char in counts:
                counts[char] += 1
    return max(counts, key=lambda c: counts[c])


class _Columns:
    """Where each of our fields is in the file: its column, a default from the mapping file, or nowhere."""

    def __init__(self, table: _Table, mapping: ColumnMapping | None, fields: Sequence[str],
                 required: Sequence[str]):
        self.file, self.mapping, self.fields, self.required = table.file, mapping, fields, frozenset(required)
        self.width = len(table.header)
        # A column without a name: harmless while empty (a trailing delimiter, a spacer), refused where a row
        # has a value in it, or that value would be lost without a word.
        self.unnamed = [i for i, header in enumerate(table.header) if not header.strip()]
        self.index: dict[str, int] = {}
        self.labels: dict[str, str] = {}
        defaults = mapping.defaults if mapping else {}
        for name in fields:
            header = mapping.header(name) if mapping else name
            if header in table.header:
                if table.header.count(header) > 1:
                    raise RowError(table.file, 1, header, "the header has this column more than once")
                self.index[name] = table.header.index(header)
                self.labels[name] = header
            elif mapping is not None and name in mapping.columns:
                raise DocumentError(mapping.file, f"columns.{name}", f"no column {header!r} in {table.file} "
                                    f"(its columns: {', '.join(h for h in table.header if h)})")
        self.defaults = {name: value for name, value in defaults.items() if name in fields}
        self._absent = [name for name in fields if name not in self.index]
        for name in fields:  # in the order of the header we document: the first missing one is named
            if name in self.required and name not in self.index and name not in self.defaults:
                how = f"; or name its header in {mapping.file} [columns]" if mapping else ""
                if len(table.header) == 1 and table.header[0]:
                    how += f"; the header reads as one column with delimiter {table.delimiter!r}"
                raise RowError(table.file, 1, name,
                               f"missing column (required: {','.join(n for n in fields if n in self.required)}"
                               f"{how})")
        if mapping is None:
            # Other columns an export carries are left alone; one that looks like ours misspelt is not, or its
            # values (a preferred channel, a contact person) would be lost without a word.
            for header in table.header:
                hint = closest(header, fields) if header and header not in fields else ""
                if hint:
                    raise RowError(table.file, 1, header, f"unknown column{hint}")

    def values(self, rows: Iterable[tuple[int, list[str]]], name: str) -> Iterator[tuple[int, str]]:
        """(line, value of our field `name`) of each row, each row checked as `row` checks it."""
        i = self.index.get(name)
        for line, fields in rows:
            self._check_width(line, fields)
            yield line, fields[i].strip() if i is not None and i < len(fields) else ""

    def _check_width(self, line: int, fields: list[str]) -> None:
        if len(fields) > self.width and any(map(str.strip, fields[self.width:])):  # empty: a trailing delimiter
            raise RowError(self.file, line, None, "more fields than the header has columns")
        for i in self.unnamed:
            if i < len(fields) and fields[i].strip():
                raise RowError(self.file, line, None, f"a value ({fields[i].strip()[:40]!r}) in column {i + 1}, "
                               "which has no name in the header: name the column or leave it empty")

    def row(self, line: int, fields: list[str]) -> _Row:
        self._check_width(line, fields)
        if len(fields) < self.width:
            fields = fields + [""] * (self.width - len(fields))
        values = {name: fields[i].strip() for name, i in self.index.items()}
        values |= dict.fromkeys(self._absent, "")
        defaulted = _NONE
        for name, default in self.defaults.items():
            if not values[name]:
                values[name] = default
                defaulted = defaulted | {name}
        return _Row(self, line, values, defaulted)


@dataclass(frozen=True)
class _Row:
    columns: _Columns
    line: int
    values: dict[str, str]  # every field: "" when empty or not in the file
    defaulted: frozenset[str]  # the fields whose value is the mapping file's default

    @property
    def required(self) -> frozenset[str]:
        return self.columns.required

    def fail(self, name: str, reason: str) -> DocumentError:
        mapping = self.columns.mapping
        if name in self.defaulted and mapping is not None:
            return DocumentError(mapping.file, f"defaults.{name}", reason)
        return RowError(self.columns.file, self.line, self.columns.labels.get(name, name), reason)


_NONE: frozenset[str] = frozenset()


# --- amounts ------------------------------------------------------------------------------------------------------

_WORD = {".": "dot", ",": "comma"}
_NAME = {".": "point", ",": "comma"}


@dataclass(frozen=True)
class _DecimalMark:
    mark: str  # "." or ","
    stated: str | None  # the mapping file that states it, or None: detected from the amounts
    rows: int  # how many rows the amounts were of

    @classmethod
    def decide(cls, values: Iterable[tuple[int, str]], delimiter: str, mapping: ColumnMapping | None
               ) -> _DecimalMark:
        """From every (line, amount) of the file, read to its end even when the mapping file states the mark:
        what makes the file unreadable as a whole is refused before any row is taken in."""
        votes = {".": 0, ",": 0}
        first = {".": 0, ",": 0}  # the line of the first amount read one way only
        rows = 0
        for line, value in values:
            rows += 1
            if (mark := _mark_of(value, delimiter)) is not None:
                votes[mark] += 1
                first[mark] = first[mark] or line
        if mapping is not None and mapping.decimal_mark is not None:
            return cls(mapping.decimal_mark, mapping.file, rows)
        if not votes["."] and not votes[","]:
            return cls("," if delimiter == ";" else ".", None, rows)
        # Most amounts decide; on a tie the first that can be read one way only.
        ranked = sorted(votes, key=lambda m: (-votes[m], first[m]))
        return cls(ranked[0], None, rows)

    def read(self, row: _Row, name: str) -> Decimal:
        raw = row.values[name]
        amount = _amount(raw, self.mark)
        if amount is None:
            reason = f"not an amount (use a {_WORD[self.mark]} for decimals): {raw!r}"
            other = "," if self.mark == "." else "."
            if _amount(raw, other) is not None:
                reason += (f"; {self.stated} says decimal_mark = {self.mark!r}" if self.stated
                           else f"; the file's other amounts have a decimal {_NAME[self.mark]}")
            raise row.fail(name, reason)
        if abs(amount) >= MAX_AMOUNT:
            raise row.fail(name, f"amount too large (at most {MAX_AMOUNT - _CENT}): {raw!r}")
        if amount != amount.quantize(_CENT):
            raise row.fail(name, f"more than two decimals: {raw!r}")
        return amount.quantize(_CENT)


def _grouped(separator: str) -> str:
    return rf"[1-9]\d{{0,2}}(?:{re.escape(separator)}\d{{3}})+"


_PATTERNS: dict[str, re.Pattern[str]] = {
    # Only "-": a credit note. A "+" is no export's way of writing an amount.
    mark: re.compile(rf"(?P<sign>-?)(?P<whole>{_grouped(group)}|\d*)(?:{re.escape(mark)}(?P<fraction>\d+))?",
                     re.ASCII)
    for mark, group in ((".", ","), (",", "."))
}


def _amount(raw: str, mark: str) -> Decimal | None:
    """`raw` read with `mark` as the decimal mark (and the other as thousands separator), or None."""
    match = _PATTERNS[mark].fullmatch(raw)
    if match is None or not (match["whole"] or match["fraction"]):
        return None
    whole = match["whole"].replace(",", "").replace(".", "") or "0"  # digits and the thousands separators
    return Decimal(f"{match['sign']}{whole}.{match['fraction'] or '0'}")


_AMBIGUOUS = {sep: re.compile(rf"[1-9]\d{{0,2}}{re.escape(sep)}\d{{3}}", re.ASCII) for sep in ".,"}
_ONLY_GROUPS = {sep: re.compile(_grouped(sep), re.ASCII) for sep in ".,"}
_GROUPED_WITH_MARK = {
    mark: re.compile(rf"{_grouped(group)}{re.escape(mark)}\d+", re.ASCII) for mark, group in ((".", ","), (",", "."))
}
_PLAIN_WITH_MARK = {mark: re.compile(rf"\d*{re.escape(mark)}\d+", re.ASCII) for mark in ".,"}


def _mark_of(raw: str, delimiter: str) -> str | None:
    """The decimal mark `raw` can only be read with, or None: no mark, either mark, or not an amount at all."""
    digits = raw.lstrip("+-")
    if "." in digits and "," in digits:
        mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        return mark if _GROUPED_WITH_MARK[mark].fullmatch(digits) else None
    for sep, other in ((".", ","), (",", ".")):
        if sep not in digits:
            continue
        if _AMBIGUOUS[sep].fullmatch(digits):  # 1.234 or 1,234: a thousands separator or three decimals
            return "," if sep == "," and delimiter == ";" else None
        if _ONLY_GROUPS[sep].fullmatch(digits):  # 1.234.567: thousands separators, no decimals
            return other
        return sep if _PLAIN_WITH_MARK[sep].fullmatch(digits) else None
    return None
