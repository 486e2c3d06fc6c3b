"""SWIFT MT940 as the Dutch banks export it (ING, Rabobank, ABN AMRO): with or without the SWIFT envelope
(`{1:}{2:}{4:` ... `-}`), the `:940:` header or ABN AMRO's `ABNANL2A` preamble, CRLF or LF.

We cut the file into fields ourselves, so every error can name its line, and let the `mt940` library read each
`:61:` statement line. Amounts are checked strictly first: the library reads `1.234,56` as 1 without a word."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from dunning.bank.lines import Statement, StatementError, StatementLine, with_identities

_TAG = re.compile(r":(\d{2}[A-Z]?|NS):")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
# SWIFT amounts: digits and a decimal comma, at most two decimals here (EUR). No thousands separators.
_AMOUNT = re.compile(r"\d+(?:,\d{0,2})?")
_BALANCE = re.compile(r"(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>.*)")
# The start of a :61: line up to its amount, to check the amount before the library reads it its lenient way.
_STATEMENT_LINE = re.compile(r"\d{6}(?:\d{4}|\s{4})?(?P<mark>R?[CD])[A-Z]?(?P<amount>[0-9][0-9.,' ]*?)(?=[A-Z]|$)")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_ISSUER_REFERENCE = re.compile(r"ISSUER:\s*\S+\s+REF:\s*(\S+)")
# Sub-fields of a structured :86: (ING, Rabobank and ABN AMRO SEPA layouts). Only these split the text, so a
# slash inside a remittance ("NR.201303-111/11.3.2013") stays text.
_KEYWORDS = frozenset({
    "TRTP", "IBAN", "BIC", "NAME", "ADDR", "REMI", "EREF", "PREF", "KREF", "IREF", "CREF", "MARF", "CSID", "CNTP",
    "ORDP", "BENM", "ULTC", "ULTD", "ULTB", "ISDT", "RTRN", "PURP", "BUSP", "CHGS", "EXCH", "OCMT", "SWOC", "BBAN",
})
_STRUCTURED = re.compile("/(" + "|".join(sorted(_KEYWORDS)) + ")/")
# What a bank writes in a :61: reference when there is none.
_NO_REFERENCE = frozenset({"NONREF", "NOTPROVIDED", "EREF", "PREF", "MARF", "IREF", "KREF"})
_WRAP = 65
_CENT = Decimal("0.01")


def parse_mt940(data: bytes, file: str) -> Statement:
    text = _decode(data)
    if not text.strip():
        raise StatementError(file, None, "the file is empty")
    fields = _fields(re.split(r"\r\n|\r|\n", text))
    if not fields:
        raise StatementError(file, None, "not an MT940 statement: no fields such as :20:, :25: or :61:")
    reader = _Reader(file)
    for number, statement in enumerate(_statements(fields, file), start=1):
        reader.read(statement, number)
    return Statement(file=file, format="mt940", lines=with_identities(reader.lines),
                     accounts=tuple(dict.fromkeys(reader.accounts)))


def _decode(data: bytes) -> str:
    # MT940 is meant to be plain ASCII; Dutch exports are UTF-8 or Windows-1252 when a name has an accent.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


@dataclass
class _Field:
    tag: str
    line: int  # 1-based line of the file where the field starts
    physical: list[str] = field(default_factory=list)  # its lines as in the file, the first with the tag

    @property
    def lines(self) -> list[str]:
        return [self.physical[0][len(self.tag) + 2:], *self.physical[1:]]

    @property
    def value(self) -> str:
        return "\n".join(self.lines).strip()


def _fields(lines: list[str]) -> list[_Field]:
    """The file's fields, each with its continuation lines; envelopes, headers and message ends left out."""
    fields: list[_Field] = []
    current: _Field | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("{"):  # SWIFT blocks {1:..}{2:..}{4: open a message, {5:..} trails it
            current = None
            start = line.find("{4:")
            if start < 0:
                continue
            line = line[start + 3:]
            stripped = line.strip()
            if not stripped:
                continue
        if stripped.startswith(("}", "-}")):
            current = None
            continue
        tag = _TAG.match(line)
        if tag:
            current = _Field(tag.group(1), i + 1, [line])
            fields.append(current)
        elif (stripped == "-" and _ends_message(lines, i)) or _is_preamble(lines, i):
            current = None
        elif current is not None:
            current.physical.append(line)
        # Else text outside any field (a bank's header line): nothing of the statement is in it.
    return fields


def _next_line(lines: list[str], i: int) -> int | None:
    return next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)


def _ends_message(lines: list[str], i: int) -> bool:
    """A lone `-` ends a message; inside an :86: it can also be text (ING wraps a mandate id `MND` / `-` / `EV01`),
    which it is when the text goes on after it."""
    j = _next_line(lines, i)
    return j is None or lines[j].strip()[0] in "{}:" or _is_preamble(lines, j)


def _is_preamble(lines: list[str], i: int) -> bool:
    """`:940:` (Rabobank) or ABN AMRO's `ABNANL2A` / `940` / `ABNANL2A` before each message."""
    stripped = lines[i].strip()
    if stripped in ("940", ":940:"):
        return True
    j = _next_line(lines, i)
    return bool(_BIC.fullmatch(stripped)) and j is not None and lines[j].strip() == "940"


def _statements(fields: list[_Field], file: str) -> list[list[_Field]]:
    statements: list[list[_Field]] = []
    for f in fields:
        if f.tag == "20":
            statements.append([f])
        elif not statements:
            raise StatementError(file, f"line {f.line}", f":{f.tag}: comes before the statement's start (:20:)")
        else:
            statements[-1].append(f)
    return statements


class _Reader:
    def __init__(self, file: str):
        self.file = file
        self.lines: list[StatementLine] = []
        self.accounts: list[str] = []
        self.entries = 0

    def error(self, f: _Field, reason: str) -> StatementError:
        return StatementError(self.file, f"line {f.line}", reason)

    def read(self, fields: list[_Field], number: int) -> None:
        start = fields[0]
        tags = {f.tag: f for f in reversed(fields)}  # the first of each tag
        opening = next((tags[t] for t in ("60F", "60M", "60") if t in tags), None)
        closing = next((tags[t] for t in ("62F", "62M", "62") if t in tags), None)
        if opening is None or closing is None:
            missing = "opening balance (:60F:)" if opening is None else "closing balance (:62F:)"
            raise self.error(start, f"statement {number} has no {missing}")
        # Read for their form only: some banks' exports do not reconcile within one file (ABN AMRO's samples,
        # a day's statement split over files), so a sum that differs is no reason to refuse the movements.
        currency = self.balance(opening, number, "opening")
        self.balance(closing, number, "closing")
        if "25" not in tags:
            raise self.error(start, f"statement {number} has no account (:25:)")
        account = _account(tags["25"].value, currency)
        if not account:
            raise self.error(tags["25"], f"statement {number}: the account (:25:) is empty")
        self.accounts.append(account)
        for i, f in enumerate(fields):
            if f.tag == "61":
                details = fields[i + 1] if i + 1 < len(fields) and fields[i + 1].tag == "86" else None
                self.entries += 1
                self.lines.append(self.movement(f, details, account, currency))

    def balance(self, f: _Field, number: int, which: str) -> str:
        """The balance's currency, once its line has been found well-formed."""
        raw = f.value
        match = _BALANCE.fullmatch(raw)
        amount = match.group("amount") if match else ""
        if not match or not _AMOUNT.fullmatch(amount):
            raise self.error(f, f"statement {number}: the {which} balance :{f.tag}:{raw} is not a C/D mark, a date "
                             "(YYMMDD), a currency and an amount like 1234,56")
        if _day(match.group("date")) is None:
            raise self.error(f, f"statement {number}: the {which} balance date {match.group('date')} is not a date")
        return match.group("currency")

    def movement(self, f: _Field, details: _Field | None, account: str, currency: str) -> StatementLine:
        entry = self.entries
        first, *rest = f.lines
        shape = _STATEMENT_LINE.match(first.strip())
        if shape is None:
            raise self.error(f, f"entry {entry}: cannot read the statement line :61:{first.strip()}")
        amount = shape.group("amount")
        if not _AMOUNT.fullmatch(amount):
            raise self.error(f, f"entry {entry}: amount {amount!r} is not an MT940 amount (digits and a decimal "
                             "comma like 1234,56; no thousands separators)")
        parsed = self.library_line(f, "\n".join([first.strip(), "".join(r.strip() for r in rest)]).strip(),
                                   currency, entry)
        mark = shape.group("mark")
        info = _details(details) if details else _Details(remittance="")
        iban = info.iban or _iban(parsed.get("extra_details"))
        return StatementLine(
            entry=entry, account=account, booked=parsed.get("entry_date") or parsed["date"],
            amount=_decimal(amount), currency=currency, credit=mark in ("C", "RD"),
            reversal=mark.startswith("R") or info.return_reason is not None, counterparty=info.counterparty,
            iban=iban, remittance=info.remittance, reference=info.reference,
            # Only the bank's own reference (after //) names the movement. The customer reference before it is
            # the payer's or ours (an invoice number, an EREF) and comes back on a second part-payment, which
            # would then pass for a line already imported.
            bank_reference=_reference(parsed.get("bank_reference")), end_to_end=info.end_to_end,
            return_reason=info.return_reason)

    def library_line(self, f: _Field, value: str, currency: str, entry: int) -> dict[str, Any]:
        tag = mt940.tags.TAG_BY_ID[61]
        collection = mt940.models.Transactions()
        try:
            data = tag.parse(collection, value)
            data["currency"] = currency
            parsed = tag(collection, data)
        except (RuntimeError, ValueError, ArithmeticError):
            raise self.error(f, f"entry {entry}: cannot read the statement line :61:{value.splitlines()[0]}") from None
        for key in ("date", "entry_date"):
            if key in parsed:  # the library's Date subclass: hand on a plain date
                parsed[key] = date(parsed[key].year, parsed[key].month, parsed[key].day)
        return parsed


@dataclass(frozen=True)
class _Details:
    remittance: str
    counterparty: str | None = None
    iban: str | None = None
    reference: str | None = None
    end_to_end: str | None = None
    return_reason: str | None = None


def _details(f: _Field) -> _Details:
    """What an :86: says about its :61:, after undoing the bank's line wrapping."""
    lines = f.lines
    glued = "".join(lines).strip()
    if not _STRUCTURED.match(glued):
        text = _unwrap_free_text(f)
        return _Details(remittance=text, reference=_issuer_reference(text))
    # Structured: the slashes carry the structure and the banks cut the lines anywhere, mid-word too (`4420` /
    # `043232693268`, `/REM` / `I/USTD//`), so the lines are glued as they are.
    sub = _subfields(glued)
    remittance, reference = _remittance(sub.get("REMI", ""))
    counterparty = sub.get("CNTP", "").split("/")
    name = sub.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")
    iban = sub.get("IBAN") or counterparty[0]
    return_reason = sub.get("RTRN", "").split("/")[0].strip()
    return _Details(
        remittance=remittance, counterparty=name.strip() or None, iban=_iban(iban), reference=reference,
        end_to_end=_reference(sub.get("EREF")), return_reason=return_reason or None)


def _unwrap_free_text(f: _Field) -> str:
    """Free text: a full line (65 characters) was cut by the bank and goes on without a space; a shorter one
    ended where its writer ended it."""
    text, previous = "", ""
    for physical, line in zip(f.physical, f.lines, strict=True):
        if text:
            text += "" if len(previous) >= _WRAP else " "
        text += line if len(physical) >= _WRAP else line.rstrip()
        previous = physical
    return text.strip()


def _subfields(text: str) -> dict[str, str]:
    """`/EREF/x//CNTP/iban/bic/name/city///REMI/USTD//text/` -> {"EREF": "x", "CNTP": "iban/bic/name/city", ...};
    the first of a repeated keyword counts."""
    found: list[tuple[str, list[str]]] = []
    for token in text.split("/"):
        if token in _KEYWORDS:
            found.append((token, []))
        elif found:
            found[-1][1].append(token)
    out: dict[str, str] = {}
    for key, tokens in found:
        out.setdefault(key, "/".join(tokens).strip("/").strip())
    return out


def _remittance(remi: str) -> tuple[str, str | None]:
    """The remittance text and the structured reference in a REMI sub-field: ING's `USTD//text` or
    `STRD/CUR/reference`, ABN AMRO's `ISSUER: CUR   REF: reference`, Rabobank's plain text."""
    if remi.startswith("USTD/"):
        return remi[len("USTD/"):].lstrip("/").strip(), None
    if remi.startswith("STRD/"):
        _issuer, _, reference = remi[len("STRD/"):].partition("/")
        return "", reference.strip("/").strip() or None
    return remi.strip(), _issuer_reference(remi)


def _issuer_reference(text: str) -> str | None:
    found = _ISSUER_REFERENCE.search(text)
    return found.group(1) if found else None


def _account(value: str, currency: str) -> str:
    """`NL77INGB0574908765EUR`, `NL50RABO0123456789 EUR`, `ABNANL2A/555555555` -> the account itself."""
    account = value.rsplit("/", 1)[-1].strip()
    account = account.split()[0].upper() if account.split() else ""
    if account.endswith(currency) and _IBAN_SHAPE.fullmatch(account[: -len(currency)]):
        account = account[: -len(currency)]
    return account


def _iban(value: str | None) -> str | None:
    compact = "".join((value or "").split()).upper()
    return compact if _IBAN_SHAPE.fullmatch(compact) else None


def _reference(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value and value.upper() not in _NO_REFERENCE else None


def _decimal(amount: str) -> Decimal:
    return Decimal(amount.replace(",", ".").rstrip(".") or "0").quantize(_CENT)


def _day(yymmdd: str) -> date | None:
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
    except ValueError:
        return None
