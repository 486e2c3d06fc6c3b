"""What a field may hold, one rule for every way data comes in (the CSV import, the CLI, the UI forms) and
every way it goes out (a mail header, a letter's address block, a template): checked once at the boundary.

Each check returns the problem in plain words, or None; callers phrase it for their user (file:row:column,
a CLI option, a form field)."""

from __future__ import annotations

import re
from email.headerregistry import Address

from dunning.domain.errors import InvalidInput

# Any control character (CR, LF, TAB, NUL, ...) or Unicode line break: in a name or an address line it would
# let data escape its header or its line of the address block.
LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text (a note, a reason) may have line breaks and tabs, nothing else of the kind.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# RFC 1035 / RFC 1123 host name label.
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
    try:
        Address(addr_spec=addr)  # the stdlib parser has the final word on the local part's syntax
    except (ValueError, IndexError) as error:
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
