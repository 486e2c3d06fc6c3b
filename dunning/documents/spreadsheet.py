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
column = the header as the file writes it); an error in a mapping file names that file and its key."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

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
from dunning.domain.fields import is_valid_email_address, line_problem
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
    """The invoices and credit notes of a CSV export, in file order; a row repeated unchanged is read once. A
    negative amount is a credit note: on the invoice in `credits_invoice`, else on the debtor. `default_kind`
    (e.g. `--kind`) fills an empty or absent `debtor_kind`, after the mapping's default."""
    table = _read_table(data, file, encoding, delimiter, mapping)
    kind_defaulted = default_kind is not None or (mapping is not None and "debtor_kind" in mapping.defaults)
    required = [name for name in REQUIRED if not (name == "debtor_kind" and kind_defaulted)]
    columns = _Columns(table, mapping, INVOICE_FIELDS, required)
    rows = [columns.row(line, fields) for line, fields in table.rows]
    amounts = _DecimalMark.decide([(r, r.values["amount"]) for r in rows], table.delimiter, mapping)
    records: list[InvoiceRecord] = []
    seen: dict[str, InvoiceRecord] = {}
    for row in rows:
        record = _invoice(row, amounts, mapping, default_kind)
        earlier = seen.get(record.number)
        if earlier is None:
            seen[record.number] = record
            records.append(record)
        elif replace(earlier, where=record.where) != record:
            raise row.fail("invoice_number", f"invoice also on {earlier.where} with other data")
    return records


def _invoice(row: _Row, amounts: _DecimalMark, mapping: ColumnMapping | None,
             default_kind: DebtorKind | None) -> InvoiceRecord:
    v = row.values
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
    if v["email"] and not is_valid_email_address(v["email"]):
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
        try:
            iban = IBAN(v["iban"]).compact
        except SchwiftyException as e:
            raise row.fail("iban", f"not a valid IBAN: {v['iban']!r} ({e})") from None
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
    table = _read_table(data, file, encoding, delimiter, mapping)
    columns = _Columns(table, mapping, OPEN_ITEM_FIELDS, OPEN_ITEM_FIELDS)
    rows = [columns.row(line, fields) for line, fields in table.rows]
    if not rows and not allow_empty:
        raise RowError(file, table.end, None, "no open items: an empty list would settle every open invoice")
    amounts = _DecimalMark.decide([(r, r.values["open_amount"]) for r in rows], table.delimiter, mapping)
    items: dict[str, Decimal] = {}
    first: dict[str, int] = {}
    for row in rows:
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


@dataclass(frozen=True)
class _Table:
    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line where the record starts, its fields), blank records left out;
    # checked against the header only once the header is known to hold what we need
    delimiter: str
    end: int  # the line after the last record


def _read_table(data: bytes, file: str, encoding: str | None, delimiter: str | None,
                mapping: ColumnMapping | None) -> _Table:
    text = _decode(data, file, encoding or (mapping.encoding if mapping else None))
    offset = 0  # lines before the header
    hint = None
    if sep := _SEP_LINE.match(text):  # Excel's own way to name the delimiter
        text, offset, hint = text[sep.end():], 1, sep[1]
    if delimiter is not None and delimiter not in DELIMITERS:
        raise DocumentError(file, None, f"delimiter {delimiter!r} is not one of ',', ';', '\\t' (or 'tab')")
    chosen = DELIMITERS[delimiter] if delimiter else (mapping and mapping.delimiter) or hint or _delimiter(text)
    # newline="": a line break inside a quoted field stays in the field (and is refused), and row numbers are
    # the lines of the file even after blank lines or multi-line fields.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=chosen)
    line = offset + 1
    try:
        header = [h.strip() for h in next(reader, [])]
        if header:
            header[0] = header[0].removeprefix("\ufeff").strip()
        rows = []
        line = offset + reader.line_num + 1
        for fields in reader:
            start, line = line, offset + reader.line_num + 1
            if any(f.strip() for f in fields):
                rows.append((start, fields))
    except csv.Error as e:
        raise RowError(file, line, None, f"not readable as CSV ({e})") from None
    return _Table(file, header, rows, chosen, line)


def _decode(data: bytes, file: str, encoding: str | None) -> str:
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise DocumentError(file, None, f"unknown encoding {encoding!r} (e.g. utf-8, cp1252)") from None
        try:
            return data.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError as e:
            raise DocumentError(file, None, f"not {encoding} text ({e.reason} at byte {e.start})") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DocumentError(file, None, "UTF-16 text (Excel's \"Unicode text\"): save it as CSV, or give the "
                            "encoding utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as e:
        raise DocumentError(file, None, f"neither UTF-8 nor Windows-1252 text (byte 0x{data[e.start]:02x} at "
                            f"{e.start}); give the encoding") from None


def _delimiter(text: str) -> str:
    """The candidate the header line holds most of outside quotes; `,` when it holds none or on a tie."""
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in text:
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
        for name in fields:  # in the order of the header we document: the first missing one is named
            if name in self.required and name not in self.index and name not in self.defaults:
                how = f"; or name its header in {mapping.file} [columns]" if mapping else ""
                if len(table.header) == 1 and table.header[0]:
                    how += f"; the header reads as one column with delimiter {table.delimiter!r}"
                raise RowError(table.file, 1, name,
                               f"missing column (required: {','.join(n for n in fields if n in self.required)}"
                               f"{how})")

    def row(self, line: int, fields: list[str]) -> _Row:
        if any(f.strip() for f in fields[self.width:]):  # empty ones are a trailing delimiter
            raise RowError(self.file, line, None, "more fields than the header has columns")
        values: dict[str, str] = {}
        defaulted: set[str] = set()
        for name in self.fields:
            i = self.index.get(name)
            value = fields[i].strip() if i is not None and i < len(fields) else ""
            if not value and name in self.defaults:
                value = self.defaults[name]
                defaulted.add(name)
            values[name] = value
        return _Row(self, line, values, frozenset(defaulted))


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


# --- amounts ------------------------------------------------------------------------------------------------------

_WORD = {".": "dot", ",": "comma"}
_NAME = {".": "point", ",": "comma"}


@dataclass(frozen=True)
class _DecimalMark:
    mark: str  # "." or ","
    stated: str | None  # the mapping file that states it, or None: detected from the amounts

    @classmethod
    def decide(cls, values: list[tuple[_Row, str]], delimiter: str, mapping: ColumnMapping | None) -> _DecimalMark:
        if mapping is not None and mapping.decimal_mark is not None:
            return cls(mapping.decimal_mark, mapping.file)
        votes: dict[str, list[int]] = {".": [], ",": []}
        for row, value in values:
            if (mark := _mark_of(value, delimiter)) is not None:
                votes[mark].append(row.line)
        if not votes["."] and not votes[","]:
            return cls("," if delimiter == ";" else ".", None)
        # Most amounts decide; on a tie the first that can be read one way only.
        ranked = sorted(votes, key=lambda m: (-len(votes[m]), votes[m][0] if votes[m] else 0))
        return cls(ranked[0], None)

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
    mark: re.compile(rf"(?P<sign>[-+]?)(?P<whole>{_grouped(group)}|\d*)(?:{re.escape(mark)}(?P<fraction>\d+))?",
                     re.ASCII)
    for mark, group in ((".", ","), (",", "."))
}


def _amount(raw: str, mark: str) -> Decimal | None:
    """`raw` read with `mark` as the decimal mark (and the other as thousands separator), or None."""
    match = _PATTERNS[mark].fullmatch(raw)
    if match is None or not (match["whole"] or match["fraction"]):
        return None
    whole = re.sub(r"\D", "", match["whole"]) or "0"
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
