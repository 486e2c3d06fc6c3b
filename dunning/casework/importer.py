"""Importing invoices from CSV. All rows are checked before anything is written: one bad row rejects the whole
file with `file:row:column: reason`, and the database stays as it was. Re-importing a file changes nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import String, select
from sqlalchemy.orm import Session

from dunning.casework import debtor_accounts, invoices
from dunning.domain.errors import UserError
from dunning.domain.fields import is_valid_email_address, line_problem
from dunning.domain.kinds import KIND_ALIASES, Channel, DebtorKind
from dunning.storage.models import Debtor, Invoice

COLUMNS = (
    "invoice_number,debtor_number,debtor_name,debtor_kind,email,phone,street,postcode,city,country,language,"
    "issue_date,due_date,amount,currency"
).split(",")
# Optional: when the column is absent, a new debtor prefers e-mail if an address is given, else letters.
OPTIONAL_CHANNEL = "preferred_channel"
OPTIONAL_CALL_TIMES = "call_times"  # when the debtor prefers to be called, in the collector's words
OPTIONAL_IBAN = "iban"  # the account the debtor pays from: a payment from it with a fitting amount is theirs
REQUIRED = {
    "invoice_number",
    "debtor_number",
    "debtor_name",
    "debtor_kind",
    "issue_date",
    "due_date",
    "amount",
}

# Unicode line breaks too: these values end up in mail headers and letters.
MAX_AMOUNT = Decimal("1e12")  # models.Money is Numeric(14, 2): at most 12 digits before the point


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class ImportResult:
    invoices_added: int
    invoices_unchanged: int
    debtors_added: int
    debtors_updated: int


def read_rows(path: Path) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    # newline="": a line break inside a quoted field stays in the field (and is refused), and row numbers are
    # the lines of the file even after blank lines or multi-line fields.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UserError(f"{path}:1:{missing[0]}: missing column (expected: {','.join(COLUMNS)})")
    rows = []
    line = reader.line_num + 1
    for fields in reader:
        start, line = line, reader.line_num + 1
        if len(fields) > len(header):
            raise UserError(f"{path}:{start}: more fields than the header has columns")
        values = dict(zip(header, (f.strip() for f in fields), strict=False))
        values.update({h: "" for h in header[len(fields) :]})
        if not any(values.values()):
            continue
        rows.append(Row(start, values))
    return rows


def _fail(path: Path, row: Row, column: str, reason: str) -> UserError:
    return UserError(f"{path}:{row.line}:{column}: {reason}")


def _parse(path: Path, row: Row) -> dict:
    v = row.values
    for column in COLUMNS:
        if column in REQUIRED and not v[column]:
            raise _fail(path, row, column, "missing value")
        if problem := line_problem(v[column]):
            raise _fail(path, row, column, problem)
        if column in MAX_LENGTH and len(v[column]) > MAX_LENGTH[column]:
            raise _fail(path, row, column, f"longer than {MAX_LENGTH[column]} characters")
    out: dict = {c: (v[c] or None) for c in COLUMNS}
    try:
        out["debtor_kind"] = DebtorKind(KIND_ALIASES.get(v["debtor_kind"], v["debtor_kind"]))
    except ValueError:
        raise _fail(
            path, row, "debtor_kind", f"unknown kind {v['debtor_kind']!r} (consumer or business)"
        ) from None
    if v["email"] and not is_valid_email_address(v["email"]):
        raise _fail(path, row, "email", f"not a valid e-mail address: {v['email']!r}")
    for column in ("issue_date", "due_date"):
        try:
            out[column] = date.fromisoformat(v[column])
        except ValueError:
            raise _fail(path, row, column, f"not a date (YYYY-MM-DD): {v[column]!r}") from None
    if out["due_date"] < out["issue_date"]:
        raise _fail(path, row, "due_date", "due date lies before the issue date")
    try:
        amount = Decimal(v["amount"])
    except InvalidOperation:
        raise _fail(path, row, "amount", f"not an amount (use a dot for decimals): {v['amount']!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise _fail(path, row, "amount", f"amount must be greater than zero: {v['amount']!r}")
    if amount >= MAX_AMOUNT:
        raise _fail(path, row, "amount", f"amount too large (at most {MAX_AMOUNT - Decimal('0.01')}): {v['amount']!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise _fail(path, row, "amount", f"more than two decimals: {v['amount']!r}")
    out["amount"] = amount.quantize(Decimal("0.01"))
    currency = (v["currency"] or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise _fail(path, row, "currency", f"not a currency code (e.g. EUR): {v['currency']!r}")
    out["currency"] = currency
    language = (v["language"] or "nl").lower()
    if language not in ("nl", "en"):
        raise _fail(path, row, "language", f"unsupported language {v['language']!r} (nl or en)")
    out["language"] = language
    if v["country"] and (len(v["country"]) != 2 or not v["country"].isalpha()):
        raise _fail(path, row, "country", f"not a two-letter country code: {v['country']!r}")
    out["country"] = v["country"].upper() or None
    if v.get(OPTIONAL_CHANNEL):
        try:
            out[OPTIONAL_CHANNEL] = Channel(v[OPTIONAL_CHANNEL].lower())
        except ValueError:
            reason = f"unknown channel {v[OPTIONAL_CHANNEL]!r} (email, letter or phone)"
            raise _fail(path, row, OPTIONAL_CHANNEL, reason) from None
    if OPTIONAL_CALL_TIMES in v:
        times = v[OPTIONAL_CALL_TIMES]
        if problem := line_problem(times):
            raise _fail(path, row, OPTIONAL_CALL_TIMES, problem)
        if len(times) > _length(Debtor, "call_times"):
            raise _fail(path, row, OPTIONAL_CALL_TIMES, f"longer than {_length(Debtor, 'call_times')} characters")
        out[OPTIONAL_CALL_TIMES] = times or None
    if v.get(OPTIONAL_IBAN):
        try:
            out[OPTIONAL_IBAN] = IBAN(v[OPTIONAL_IBAN]).compact
        except SchwiftyException as e:
            raise _fail(path, row, OPTIONAL_IBAN, f"not a valid IBAN: {v[OPTIONAL_IBAN]!r} ({e})") from None
    return out


def _length(model: type[Invoice | Debtor], attr: str) -> int:
    column_type = model.__table__.c[attr].type
    assert isinstance(column_type, String) and column_type.length
    return column_type.length


DEBTOR_FIELDS = {
    "name": "debtor_name",
    "kind": "debtor_kind",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "postcode": "postcode",
    "city": "city",
    "country": "country",
    "language": "language",
}
# The database refuses longer values (PostgreSQL with an error, SQLite not at all): say so per row and column.
# kind, country and language have their own checks.
MAX_LENGTH = {
    "invoice_number": _length(Invoice, "number"),
    "debtor_number": _length(Debtor, "number"),
    **{c: _length(Debtor, a) for a, c in DEBTOR_FIELDS.items() if a not in ("kind", "country", "language")},
}


def import_invoices(session: Session, path: Path) -> ImportResult:
    rows = read_rows(path)
    parsed = [(row, _parse(path, row)) for row in rows]
    seen: dict[str, tuple[Row, dict]] = {}
    for row, p in parsed:
        earlier = seen.get(p["invoice_number"])
        if earlier and earlier[1] != p:
            raise _fail(path, row, "invoice_number", f"invoice also on row {earlier[0].line} with other data")
        seen[p["invoice_number"]] = (row, p)

    added = unchanged = debtors_added = debtors_updated = 0
    debtors: dict[str, Debtor] = {}
    references: set[str] = set()  # given out in this import, not yet in the database
    for row, p in parsed:
        debtor = (
            debtors.get(p["debtor_number"])
            or session.scalars(select(Debtor).where(Debtor.number == p["debtor_number"])).one_or_none()
        )
        wanted = {attr: p[col] for attr, col in DEBTOR_FIELDS.items()}
        if OPTIONAL_CHANNEL in p:
            wanted["preferred_channel"] = p[OPTIONAL_CHANNEL]
        if OPTIONAL_CALL_TIMES in p:
            wanted["call_times"] = p[OPTIONAL_CALL_TIMES]
        if debtor is None:
            channel = Channel.email if p["email"] else Channel.letter
            debtor = Debtor(number=p["debtor_number"], **({"preferred_channel": channel} | wanted))
            session.add(debtor)
            debtors_added += 1
        elif p["debtor_number"] not in debtors and any(getattr(debtor, a) != w for a, w in wanted.items()):
            # The newest export knows the debtor's current contact data.
            for attr, value in wanted.items():
                setattr(debtor, attr, value)
            debtors_updated += 1
        debtors[p["debtor_number"]] = debtor

        if p.get(OPTIONAL_IBAN):
            debtor_accounts.add(session, debtor, p[OPTIONAL_IBAN], source="import")

        invoice = session.scalars(select(Invoice).where(Invoice.number == p["invoice_number"])).one_or_none()
        if invoice is None:
            session.add(
                Invoice(
                    number=p["invoice_number"],
                    debtor=debtor,
                    issue_date=p["issue_date"],
                    due_date=p["due_date"],
                    amount=p["amount"],
                    currency=p["currency"],
                    payment_reference=invoices.new_payment_reference(session, p["invoice_number"], references),
                )
            )
            added += 1
            continue
        for attr in ("issue_date", "due_date", "amount", "currency"):
            if getattr(invoice, attr) != p[attr]:
                raise _fail(
                    path, row, attr, f"invoice {invoice.number} exists with {attr} {getattr(invoice, attr)}"
                )
        if invoice.debtor.number != p["debtor_number"]:
            raise _fail(
                path, row, "debtor_number", f"invoice {invoice.number} belongs to {invoice.debtor.number}"
            )
        unchanged += 1
    session.flush()
    return ImportResult(added, unchanged, debtors_added, debtors_updated)
