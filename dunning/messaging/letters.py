"""Letters: the debtor's letter as a print-ready A4 PDF for a window envelope.

Layout (mm from the top left corner of the sheet), after DIN 5008 form B, which fits the window envelopes
sold in the Netherlands with the window on the left (C5/6 and DL/EA5/6, window 45 x 90 at 20 from the left
and 15 from the bottom; the sheet folded in three at the fold marks):

- letterhead: the creditor's name at 25, 20
- return address (one small line, 45-50) and the recipient's address (at most six lines, 62.7-90) in the
  window field 25-105 across; lines too long for it are set smaller (down to 8 pt), else wrapped, and an
  address that then needs more than six lines is refused
- sender block (address, phone, e-mail, IBAN, KvK) and date/reference at 125, 50; the subject and the body
  from 100 down (or below the sender block if that is longer), margins 25 left and 20 right
- fold marks at 105 and 210 and a punch mark at 148.5 on the left edge of page 1
- a letter that would run onto a second page by a few lines is set a little tighter (`COMPACT`) when that
  keeps it on one sheet; the closing always stays with the last paragraph and the signature (`_keep_together`)
- on every page a footer (a line at 280, the creditor's registration details under it) and the page number
  ("pagina 1 van 2") right above it; from page 2 on a short header (who wrote to whom, date, reference)

The letter's words come from Jinja2 templates (`templates/letter/{step}.{lang}.html`, see `templating`):
they render, autoescaped, to a small well-formed XHTML vocabulary that `parse_letter` reads and this module
lays out. Debtor data therefore only ever becomes text: ``<script>`` in a name prints as those characters.

The bytes are deterministic: the same context gives the same PDF (creation date and /ID come from `today`
and the content, the font is shipped with the project), so a letter's SHA-256 can be recomputed as evidence.

The font is DejaVu Sans (``templates/letter/fonts/``, an installation may put its own in
``DUNNING_HOME/templates/letter/fonts/``): Unicode, so ``€``, ``ë`` and ``Łódź`` print; a character it lacks
is refused with an error naming the field, never printed as an empty box.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from html.entities import name2codepoint
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from dunning.domain.errors import UserError
from dunning.messaging.letter_parts import (
    CONTENT_W,
    Block,
    Cell,
    LetterParts,
    Paragraph,
    Row,
    Run,
    Runs,
    Table,
    font_files,
)
from dunning.messaging.templating import FieldError, as_dict, check_step, environment, prepare_context


class LetterTemplateError(UserError):
    """A letter template whose markup cannot be laid out (not well-formed, an unknown element)."""


# -- markup ------------------------------------------------------------------------------------------------

_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_SPACES = re.compile(r"[ \t\r\n]+")
_SPACES_IN_LINE = re.compile(r"[ \t]+")
# "EUR 1.234,56" stays on one line: a no-break space between the currency code and the figure.
_AMOUNT = re.compile(r"\b([A-Z]{3}) (?=-?[0-9])")


def _numeric_entities(markup: str) -> str:
    # HTML's named entities (&nbsp;, &middot;) are not XML's: spell them as numbers before parsing.
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_ENTITIES or name not in name2codepoint:
            return m.group(0)
        return f"&#{name2codepoint[name]};"

    return _NAMED_ENTITY.sub(replace, markup)


def _classes(el: Element) -> set[str]:
    return set((el.get("class") or "").split())


def _describe(el: Element) -> str:
    cls = el.get("class")
    return f"<{el.tag} class=\"{cls}\">" if cls else f"<{el.tag}>"


class _Parser:
    def __init__(self, where: str):
        self.where = where

    def fail(self, problem: str) -> LetterTemplateError:
        return LetterTemplateError(f"{self.where}: {problem}")

    def runs(self, el: Element, *, pre: bool = False) -> Runs:
        raw: list[tuple[str, bool, bool]] = []  # text, bold, is a <br/>

        def walk(node: Element, bold: bool) -> None:
            if node.text:
                raw.append((node.text, bold, False))
            for child in node:
                if child.tag in ("strong", "b"):
                    walk(child, True)
                elif child.tag in ("span", "em", "a"):
                    walk(child, bold)
                elif child.tag == "br":
                    raw.append(("\n", bold, True))
                else:
                    raise self.fail(f"{_describe(child)} is not allowed inside {_describe(node)}")
                if child.tail:
                    raw.append((child.tail, bold, False))

        walk(el, False)
        out: list[Run] = []
        at_line_start = True
        for text, bold, is_break in raw:
            if not is_break:
                if pre:
                    text = re.sub(r" *\n *", "\n", _SPACES_IN_LINE.sub(" ", text.replace("\r", "")))
                else:
                    text = _SPACES.sub(" ", text)
                if at_line_start:
                    text = text.lstrip(" ")
            if not text:
                continue
            if is_break and out:
                out[-1] = Run(out[-1].text.rstrip(" "), out[-1].bold)
            if out and out[-1].bold == bold:
                out[-1] = Run(out[-1].text + text, bold)
            else:
                out.append(Run(text, bold))
            at_line_start = text.endswith(("\n", " "))
        if out:
            out[-1] = Run(out[-1].text.rstrip(" \n"), out[-1].bold)
        return tuple(Run(_AMOUNT.sub("\\1\u00a0", r.text), r.bold) for r in out if r.text)

    def text(self, el: Element) -> str:
        return "".join(r.text for r in self.runs(el))

    def lines(self, el: Element) -> list[str]:
        return [self.text(p) for p in self._children(el, "p")]

    def _children(self, el: Element, *tags: str) -> list[Element]:
        for child in el:
            if child.tag not in tags:
                raise self.fail(f"{_describe(child)} is not allowed inside {_describe(el)}")
        return list(el)

    def table(self, el: Element) -> Table:
        rows: list[Row] = []
        for tr in self._children(el, "tr"):
            kind = "total" if "total" in _classes(tr) else ""
            cells = []
            for td in self._children(tr, "td", "th"):
                runs = self.runs(td)
                text = "".join(r.text for r in runs)
                bold = td.tag == "th" or bool(runs) and all(r.bold for r in runs if r.text.strip())
                align = "R" if "amount" in _classes(td) or td.get("align") == "right" else "L"
                cells.append(Cell(text, bold or kind == "total", align))
            if cells and all(td.tag == "th" for td in tr):
                kind = "head"
            rows.append(Row(tuple(cells), kind))
        columns = max((len(r.cells) for r in rows), default=0)
        if any(len(r.cells) != columns for r in rows):
            raise self.fail(f"every row of {_describe(el)} needs {columns} cells")
        width = float(el.get("data-width") or CONTENT_W)
        shares = [float(w) for w in (el.get("data-widths") or "").split()] or [1.0] * columns
        if len(shares) != columns:
            raise self.fail(f"data-widths of {_describe(el)} gives {len(shares)} widths for {columns} columns")
        return Table(tuple(rows), tuple(width * s / sum(shares) for s in shares))

    def body(self, el: Element) -> list[Block]:
        blocks: list[Block] = []
        for child in el:
            classes = _classes(child)
            if child.tag == "p":
                pre = bool(classes & {"note", "pre-line"})
                blocks.append(Paragraph(self.runs(child, pre=pre), " ".join(sorted(classes))))
            elif child.tag == "table":
                blocks.append(self.table(child))
            elif child.tag == "ul":
                for li in self._children(child, "li"):
                    blocks.append(Paragraph((Run("•"), *self.runs(li)), "item"))
            else:
                raise self.fail(f"{_describe(child)} is not allowed in the body (use <p>, <table> or <ul>)")
        return blocks

    def letter(self, markup: str) -> LetterParts:
        try:
            root = SafeElementTree.fromstring(_numeric_entities(markup))
        except (SafeElementTree.ParseError, DefusedXmlException) as e:
            raise self.fail(f"the markup is not well-formed XHTML ({e}); close every tag and write <br/>") from None
        parts = LetterParts(recipient=[], subject="", body=[])
        for el in root:
            classes = _classes(el)
            if el.tag == "h1":
                parts.subject = self.text(el)
            elif el.tag == "div" and "recipient" in classes:
                parts.recipient = [line for line in self.lines(el) if line.strip()]
            elif el.tag == "div" and "sender" in classes:
                parts.sender = [self.runs(p) for p in self._children(el, "p")]
            elif el.tag == "div" and "body" in classes:
                parts.body = self.body(el)
            elif el.tag == "table" and "meta" in classes:
                for row in self.table(el).rows:
                    if len(row.cells) != 2:
                        raise self.fail("every row of <table class=\"meta\"> needs a label and a value")
                    parts.meta.append((row.cells[0].text, row.cells[1].text))
            elif el.tag == "p" and classes & {"letterhead", "return-address", "footer", "page-label", "continuation"}:
                name = (classes & {"letterhead", "return-address", "footer", "page-label", "continuation"}).pop()
                setattr(parts, name.replace("-", "_"), self.text(el))
            else:
                raise self.fail(f"{_describe(el)} is not a part of a letter")
        if not parts.recipient:
            raise self.fail('the letter has no <div class="recipient"> with address lines')
        return parts


def parse_letter(markup: str, where: str = "letter") -> LetterParts:
    """Read the markup a letter template renders to. Raises LetterTemplateError naming `where`."""
    return _Parser(where).letter(unicodedata.normalize("NFC", markup))


# -- fonts -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _characters(path: Path, mtime_ns: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # only where a letter is made: see letter_layout's docstring

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable_characters(override_dir: Path | None = None) -> frozenset[int]:
    """The characters both letter fonts can print."""
    regular, bold = font_files(override_dir)
    return _characters(regular, regular.stat().st_mtime_ns) & _characters(bold, bold.stat().st_mtime_ns)


def _unprintable(text: str, characters: frozenset[int]) -> list[str]:
    # Line breaks and tabs are layout, not glyphs: the markup turns them into lines and spaces.
    return sorted({c for c in unicodedata.normalize("NFC", text) if c not in "\n\r\t" and ord(c) not in characters})


def _describe_chars(chars: Sequence[str]) -> str:
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)


def _fields(context: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, value) of the debtor data and the other values a letter may print."""
    for key in ("debtor", "creditor", "invoice", "agreement"):
        if context.get(key) is not None:
            for name, value in as_dict(context[key]).items():
                yield f"{key}.{name}", value
    for key in ("reference", "personal_note", "agency"):
        yield key, context.get(key)
    yield "creditor.signatory", context.get("signatory")  # settings.toml [signatory]: a mistake there fails loudly
    for i, other in enumerate(context.get("open_invoices") or ()):
        yield f"open_invoices[{i}].number", as_dict(other).get("number")


def check_letter_context(context: Mapping[str, Any], characters: frozenset[int]) -> None:
    """A letter needs a postal address, and every character of the data must be printable."""
    debtor = as_dict(context["debtor"]) if context.get("debtor") is not None else {}
    for name in ("name", "street", "postcode", "city"):
        value = debtor.get(name)
        if not isinstance(value, str) or not value.strip():
            raise FieldError(f"debtor.{name}", "is required for a letter (the envelope window shows it)")
    for name, value in _fields(context):
        if isinstance(value, str):
            missing = _unprintable(value, characters)
            if missing:
                raise FieldError(name, f"has characters the letter font cannot print: {_describe_chars(missing)}")


# -- the letter of a step ----------------------------------------------------------------------------------


def render_letter_pdf(step: str, lang: str, context: Mapping[str, Any], override_dir: Path | None = None) -> bytes:
    """The letter for `step` in `lang` as a print-ready A4 PDF (see the module docstring for the layout).

    Refuses, before anything renders, a line break in a name or address line and a debtor without a postal
    address (`FieldError`, naming the field); a template with an unknown variable raises jinja2's
    UndefinedError, one whose markup cannot be laid out `LetterTemplateError`."""
    check_step(step)
    values = prepare_context(context, lang, step)
    characters = printable_characters(override_dir)
    check_letter_context(values, characters)
    name = f"letter/{step}.{lang}.html"
    template = environment(override_dir).get_template(name)
    parts = parse_letter(template.render(values), where=template.filename or name)
    for text in parts.texts():
        missing = _unprintable(text, characters)
        if missing:
            raise LetterTemplateError(f"{name}: the letter font cannot print {_describe_chars(missing)} in {text!r}")
    from dunning.messaging.letter_layout import layout_pdf

    creditor = values["creditor"]
    return layout_pdf(parts, today=values["today"], author=str(creditor["name"]), lang=lang,
                      override_dir=override_dir)
