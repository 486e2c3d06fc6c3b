"""Text from debtors, their books and staff, put into the Markdown the Prefect UI shows (call sheets, approval and
dispute sheets, the overview, reports, payment sheets): as text, never as markup. A debtor named
`<img src=x onerror=alert(2)>` is shown as those characters, a `|` or a line break in a hold reason does not
break the sheet's table, an `*` does not turn the rest of a line bold, and control characters (ESC, BEL) are
dropped."""

from __future__ import annotations

import re

# Markdown's own characters and the HTML ones; each is shown as itself (a backslash escape, or an entity for the
# HTML ones, which a renderer passing raw HTML through would otherwise take as a tag).
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(#|[+-](?=\s))")  # a heading or a list item, where the text starts a line
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]+")


def text(value: object) -> str:
    """`value` as inline Markdown text: one line, every special character shown as itself."""
    if value is None:
        return ""
    plain = _CONTROL.sub("", _BREAKS.sub(" ", str(value))).strip()
    escaped = "".join(_HTML.get(c, c) for c in plain)
    return _LINE_START.sub(r"\\\1", _MARKDOWN.sub(r"\\\1", escaped))


def cell(value: object, empty: str = "-") -> str:
    """`value` in a table cell: as `text`, and never empty (an empty cell shifts nothing, but reads as missing)."""
    return text(value) or empty
