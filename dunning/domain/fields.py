"""What a field may hold, one rule for every way data comes in (the CSV import, the CLI, the UI forms) and
every way it goes out (a mail header, a letter's address block, a template): checked once at the boundary.

Each check returns the problem in plain words, or None; callers phrase it for their user (file:row:column,
a CLI option, a form field)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from email.errors import HeaderParseError
from email.headerregistry import Address

from dunning.domain.errors import InvalidInput

# Any control character (CR, LF, TAB, NUL, ...) or Unicode line break: in a name or an address line it would
# let data escape its header or its line of the address block.
LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text (a note, a reason) may have line breaks and tabs, nothing else of the kind.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# RFC 1035 / RFC 1123 host name label.
# RFC 5322's dot-atom: a local part the stdlib parser accepts without a word (most addresses), asked of it no more.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def line_problem(value: str) -> str | None:
    """A single-line field: a name, a number, an address line."""
    if LINE_BREAKING.search(value):
        return "line breaks and other control characters (a tab too) are not allowed"
    return None


def text_problem(value: str) -> str | None:
    """Free text: line breaks allowed, other control characters not."""
    if CONTROL_IN_TEXT.search(value):
        return "contains a control character"
    return None


def email_address_problem(addr: str) -> str | None:
    """Why `addr` is not a deliverable plain address (local@domain), or None if it is."""
    if LINE_BREAKING.search(addr):
        return "contains a line break or control character"
    if not addr.isascii():
        # Internationalised addresses need SMTPUTF8 on every relay on the way; not supported yet.
        return "contains non-ASCII characters"
    if any(c.isspace() for c in addr):
        return "contains a space"
    if addr.count("@") != 1:
        return "must contain exactly one @"
    local, domain = addr.split("@")
    if not local:
        return "has nothing before the @"
    labels = domain.split(".")
    if len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"has an invalid domain {domain!r}"
    if _DOT_ATOM.fullmatch(local):
        return None
    try:
        Address(addr_spec=addr)  # the stdlib parser has the final word on the local part's syntax
    except (ValueError, IndexError, HeaderParseError) as error:  # the parser's own error is none of the others
        return f"is not a valid address ({error})"
    return None


def is_valid_email_address(addr: str) -> bool:
    """True if `addr` is a plain address we are willing to send to."""
    return email_address_problem(addr) is None


def require_line(field: str, value: str) -> str:
    """A single-line value a person typed (a name, an excuse): refused in neutral words, naming the field."""
    if problem := line_problem(value):
        raise InvalidInput(field, f"{{field}}: {problem}")
    return value


def require_text(field: str, value: str) -> str:
    """Free text a person typed (a note, a reason): line breaks allowed, other control characters not."""
    if problem := text_problem(value):
        raise InvalidInput(field, f"{{field}}: {problem}")
    return value


# The same rules for the UI forms, as JSON-schema patterns: the Prefect server refuses a form that breaks them
# and the UI shows why under the field, so a bad character never reaches (and fails) a run.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


# A day a person or a file gives: ISO 8601's calendar date only (YYYY-MM-DD), not the basic (20260101) or week
# (2026-W01-1) forms Python's date.fromisoformat also takes; and within years where date arithmetic (a term of
# 14 days, a year of interest) cannot run off the calendar's end, as 9999-12-31 + 14 days would.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_day(text: str) -> date:
    """`text` as a day, or ValueError with the reason in plain words."""
    value = text.strip()
    try:
        if not _ISO_DAY.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{value} is out of range ({FIRST_DAY.year} to {LAST_DAY.year})")
    return day


# ISO 4217 currency codes in use (the list of the ISO 4217 maintenance agency, funds codes and precious metals
# left out): an invoice in any other "currency" (XYZ, BTC, EU) is a mistake in the file.
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split())


def currency_problem(code: str) -> str | None:
    if code not in CURRENCIES:
        return f"not an ISO 4217 currency code (e.g. EUR): {code!r}"
    return None


def closest(name: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' for the known name nearest a misspelt one, or ''."""
    import difflib

    found = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {found[0]}?)" if found else ""
