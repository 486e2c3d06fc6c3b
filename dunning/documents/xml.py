"""XML as files from outside arrive: read safely (no DTD, entities or network; a DOCTYPE refused), a byte-order
mark or blank lines before the declaration tolerated, and a syntax error named by the file's own line. Shared by
the e-invoice reader and the bank statement reader."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from dunning.documents.records import DocumentError

PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True
)


def body(data: bytes) -> tuple[bytes, int]:
    """The XML without a byte-order mark or blank lines before its declaration, and how many lines that skipped
    (some bank portals put a blank line before the declaration, which XML does not allow; it hides nothing)."""
    found = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    found = found if found.startswith(b"<?xml") else data
    return found, data[: len(data) - len(found)].count(b"\n")


def root_of(data: bytes, file: str, what: str, error: type[DocumentError] | Any = DocumentError) -> Any:
    """The document's root element; `error(file, where, reason)` for an empty file, broken XML or a DOCTYPE (a
    DOCTYPE has no place in `what` and is how entity tricks start: refused rather than ignored)."""
    if not data.strip():
        raise error(file, None, "the file is empty")
    xml, skipped = body(data)
    try:
        tree = etree.fromstring(xml, PARSER).getroottree()
    except etree.XMLSyntaxError as e:
        line = (e.position[0] if e.position else e.lineno) + skipped
        reason = re.sub(r"(,? line \d+(, column \d+)?)+$", "", str(e.msg))  # the place is said once, in `where`
        raise error(file, f"line {line}", f"not well-formed XML: {reason}") from None
    if tree.docinfo.doctype:
        raise error(file, None, f"a DOCTYPE declaration is not allowed in {what}")
    return tree.getroot()
