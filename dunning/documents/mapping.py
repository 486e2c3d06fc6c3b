"""Our column names, and a mapping file that says how another package's export names them.

A mapping file (`--columns mapping.toml`) is TOML:

    delimiter = ";"            # optional: ",", ";" or "\\t" (or "tab"); detected when not given
    decimal_mark = ","         # optional: "." or ","; detected from the amounts when not given
    date_format = "%d-%m-%Y"   # optional: strptime format of the dates; ISO (2026-01-31) when not given
    encoding = "cp1252"        # optional: detected (UTF-8 with or without BOM, else Windows-1252) when not given

    [columns]                  # our field = their header; a field not named here is looked for under its own name
    invoice_number = "Factuurnummer"
    amount = "Bedrag"

    [defaults]                 # a value for a field the export lacks (or leaves empty)
    debtor_kind = "business"
    currency = "EUR"

One mapping file may serve the invoice export and the open-items list: `open_amount` is a field too."""

from __future__ import annotations

import codecs
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dunning.documents.records import DocumentError
from dunning.domain.fields import line_problem

# The invoice export, as README "Importing invoices" shows its header.
COLUMNS = (
    "invoice_number", "debtor_number", "debtor_name", "debtor_kind", "email", "phone", "street", "postcode", "city",
    "country", "language", "issue_date", "due_date", "amount", "currency",
)
REQUIRED = ("invoice_number", "debtor_number", "debtor_name", "debtor_kind", "issue_date", "due_date", "amount")
# Optional columns: left out of the header, the field is not given (the importer keeps what it knows).
OPTIONAL = ("preferred_channel", "call_times", "iban", "contact_name", "contact_salutation", "credits_invoice")
INVOICE_FIELDS = (*COLUMNS, *OPTIONAL)
# The ledger's list of open items.
OPEN_ITEM_FIELDS = ("invoice_number", "open_amount")
FIELDS = (*INVOICE_FIELDS, "open_amount")
# A constant for the whole file makes sense for these only.
DEFAULTABLE = ("debtor_kind", "currency", "language", "country", "preferred_channel")

DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t"}
DECIMAL_MARKS = (".", ",")
_SETTINGS = ("delimiter", "decimal_mark", "date_format", "encoding")
_TABLES = ("columns", "defaults")


@dataclass(frozen=True)
class ColumnMapping:
    file: str  # the mapping file, as errors name it
    columns: dict[str, str] = field(default_factory=dict)  # our field -> their header
    defaults: dict[str, str] = field(default_factory=dict)  # our field -> the value when the export lacks it
    date_format: str | None = None
    decimal_mark: str | None = None  # "." or ","
    delimiter: str | None = None  # ",", ";" or "\t"
    encoding: str | None = None

    def header(self, name: str) -> str:
        """The header under which the export holds our field `name`."""
        return self.columns.get(name, name)


def read_mapping(path: Path | str) -> ColumnMapping:
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DocumentError(file, None, "no such file") from None
    except OSError as e:
        raise DocumentError(file, None, f"cannot be read ({e.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(file, None, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    return parse_mapping(text, file)


def parse_mapping(text: str, file: str) -> ColumnMapping:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DocumentError(file, None, f"not valid TOML ({e})") from None
    known = (*_SETTINGS, *_TABLES)
    for key in doc:
        if key not in known:
            raise DocumentError(file, _key(key), f"unknown key (known: {', '.join(known)})")
    settings: dict[str, str] = {}
    for key in _SETTINGS:
        if key in doc:
            settings[key] = _string(file, key, doc[key])
    delimiter = settings.get("delimiter")
    if delimiter is not None:
        if delimiter not in DELIMITERS:
            raise DocumentError(file, "delimiter", f"{delimiter!r} is not one of ',', ';', '\\t' (or 'tab')")
        delimiter = DELIMITERS[delimiter]
    mark = settings.get("decimal_mark")
    if mark is not None and mark not in DECIMAL_MARKS:
        raise DocumentError(file, "decimal_mark", f"{mark!r} is not '.' or ','")
    encoding = settings.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DocumentError(file, "encoding", f"unknown encoding {encoding!r} (e.g. utf-8, cp1252)") from None
    date_format = settings.get("date_format")
    if date_format is not None and not _is_date_format(date_format):
        raise DocumentError(file, "date_format", f"not a date format with day, month and year: {date_format!r}")
    tables = {name: _table(file, name, doc.get(name, {})) for name in _TABLES}
    for name, header in tables["columns"].items():
        if name not in FIELDS:
            raise DocumentError(file, f"columns.{_key(name)}", f"unknown field (fields: {', '.join(FIELDS)})")
        if not header.strip():
            raise DocumentError(file, f"columns.{name}", "empty header")
    for name in tables["defaults"]:
        if name not in DEFAULTABLE:
            raise DocumentError(
                file, f"defaults.{_key(name)}", f"no default possible for this field (only: {', '.join(DEFAULTABLE)})"
            )
    return ColumnMapping(
        file=file,
        columns={name: header.strip() for name, header in tables["columns"].items()},
        defaults={name: value.strip() for name, value in tables["defaults"].items()},
        date_format=date_format,
        decimal_mark=mark,
        delimiter=delimiter,
        encoding=encoding,
    )


def _key(key: str) -> str:
    """A key as an error names it: its repr when it holds anything that would break the one-line message."""
    return key if key.isprintable() and key.strip() == key and key else repr(key)


def _string(file: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise DocumentError(file, key, f"must be a string, got {value!r}")
    if key != "delimiter" and (problem := line_problem(value)):
        raise DocumentError(file, key, problem)
    return value


def _table(file: str, name: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise DocumentError(file, name, f"must be a table ([{name}])")
    return {key: _string(file, f"{name}.{_key(key)}", v) for key, v in value.items()}


def _is_date_format(fmt: str) -> bool:
    """Writes and reads back a day, month and year that cannot be mistaken for one another."""
    probe = date(2031, 12, 25)
    try:
        return datetime.strptime(probe.strftime(fmt), fmt).date() == probe
    except ValueError:
        return False
