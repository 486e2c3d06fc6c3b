"""What ties a payment to an invoice: the structured creditor reference we state on every message (ISO 11649,
"RF.."), and invoice numbers as people type them in a transfer's description."""

from __future__ import annotations

import hashlib
import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

_BODY_MAX = 21  # ISO 11649: RF, two check digits, at most 21 alphanumerics
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalised(number: str) -> str:
    """An invoice number as a bank line may carry it: letters and digits only, upper case."""
    return _NOT_ALNUM.sub("", number.upper())


def payment_reference(invoice_number: str, *, hashed: bool = False) -> str:
    """The invoice's structured creditor reference, "RF" + check digits + the invoice number's letters and
    digits, so a person can still read the invoice in it. An invoice number too long for the 21 characters,
    without letters or digits, or whose letters and digits another invoice already has (`hashed`), gets a
    digest of the number instead: still one reference per invoice, only not readable."""
    body = normalised(invoice_number)
    if hashed or not body or len(body) > _BODY_MAX:
        digest = int.from_bytes(hashlib.sha256(invoice_number.encode()).digest()[:13], "big")
        body = ""
        while len(body) < 20:
            digest, rest = divmod(digest, 36)
            body += _BASE36[rest]
        body = "H" + body  # never equal to a readable body of only digits, and marks it as a digest
    check = mod_97_10.calc_check_digits(body + "RF")
    return f"RF{check}{body}"


def printed(reference: str) -> str:
    """In groups of four, as it goes on paper and into a banking app: "RF18 5390 0754 7034"."""
    return str(iso11649.format(reference))


_RF_CANDIDATE = re.compile(r"R\s?F\s?\d\s?\d(?:[\s.-]?[0-9A-Z]){1,21}")


def references_in(text: str) -> list[list[str]]:
    """The ISO 11649 references a remittance text may hold, compact ("RF18539007547034"), tolerant of the spaces,
    dots and dashes people and banks put in. Text often follows a reference directly ("RF18 5390 0754 7034 EUR
    12,50"), and a longer run can pass the check digits by chance (1 in 97): so for each place, every valid
    reading, longest first, for the caller to look up among the references it gave."""
    found = []
    for candidate in _RF_CANDIDATE.finditer(text.upper()):
        compact = _NOT_ALNUM.sub("", candidate.group())
        readings = [compact[:end] for end in range(len(compact), 4, -1) if iso11649.is_valid(compact[:end])]
        if readings:
            found.append(readings)
    return found


# Words people put before an invoice number, glued to it or not: "fact2026-1001", "factuurnr. 1001".
_PREFIXES = ("FACTUURNUMMERS", "FACTUURNUMMER", "FACTUURNR", "FACTUREN", "FACTUUR", "FACTNR", "FACT",
             "INVOICES", "INVOICE", "INVNR", "INV", "NUMMER", "NR", "NO", "REF", "KENMERK", "F")
_GLUED = re.compile(r"(?<=\d)(?=[A-Z])")
_TOKEN = re.compile(r"[0-9A-Z]+(?:[-/_.][0-9A-Z]+)*")


def number_candidates(text: str) -> list[str]:
    """What in a remittance text may be an invoice number, normalised, in the order written: each word, the
    word without a leading "factuur"/"nr"-like prefix, and up to three adjacent words joined (a number typed
    with spaces: "2026 1001"). The caller looks them up among the invoice numbers it knows; nothing here
    guesses which are real; where digits run into letters both sides are tried as well."""
    words = _TOKEN.findall(text.upper())
    seen: dict[str, None] = {}
    for i, word in enumerate(words):
        parts = [word, *word.split("/")] if "/" in word else [word]
        # Banks wrap descriptions mid-word and glue the pieces: "201303-128CURSUS", "2013NR.201303-112". Where
        # digits run into letters, each side may be a number too.
        parts += [piece for part in parts for piece in _GLUED.split(part) if piece != part]
        for part in parts:
            _add(seen, normalised(part))
            for prefix in _PREFIXES:
                if part.startswith(prefix) and len(part) > len(prefix):
                    _add(seen, normalised(part[len(prefix):]))
        for width in (2, 3):
            if i + width <= len(words):
                _add(seen, normalised("".join(words[i : i + width])))
    return list(seen)


def _add(seen: dict[str, None], candidate: str) -> None:
    if len(candidate) >= 3:
        seen.setdefault(candidate, None)


def compact_iban(text: str | None) -> str | None:
    return _NOT_ALNUM.sub("", text.upper()) or None if text else None
