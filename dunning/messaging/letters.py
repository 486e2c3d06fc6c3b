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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from html.entities import name2codepoint
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from dunning.domain.errors import UserError
from dunning.messaging.templating import TEMPLATES_DIR, FieldError, as_dict, check_step, environment, prepare_context

# -- geometry (mm) -----------------------------------------------------------------------------------------
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 25.0, 20.0
CONTENT_W = PAGE_W - LEFT - RIGHT
LETTERHEAD_Y = 20.0
RETURN_Y = 45.0  # DIN 5008 form B: return address zone 45-50
ADDRESS_Y = 62.7  # address zone 62.7-90: six lines of 4.5
ADDRESS_W = 80.0  # window field 20-105; text from 25
ADDRESS_LINES = 6
INFO_X, INFO_Y, INFO_W = 125.0, 50.0, PAGE_W - RIGHT - 125.0
BODY_Y = 100.0
FOLD_MARKS = (105.0, 210.0)
PUNCH_MARK = 148.5
BOTTOM = 25.0  # body text stops at 272
CONTINUATION_TOP = 30.0
PAGE_LABEL_Y = 274.5
FOOTER_LINE_Y = 280.0

FONT = "letter"
BODY_PT, BODY_LH = 10.0, 5.0
SMALL_PT, SMALL_LH = 8.0, 3.8
TABLE_LH, CELL_PAD, CELL_GAP = 4.8, 0.8, 3.0
PARAGRAPH_GAP = 3.0
GREY = (90, 90, 90)


@dataclass(frozen=True)
class Spacing:
    """The body's type size, line height, table line height and gap between paragraphs (mm, pt)."""

    body_pt: float = BODY_PT
    body_lh: float = BODY_LH
    table_lh: float = TABLE_LH
    gap: float = PARAGRAPH_GAP


REGULAR = Spacing()
# A letter that runs onto a second page by a few lines is set a little tighter, when that keeps it on one page:
# the debtor reads one sheet, and no page holds only the end of the letter (still 9.5 pt, easily read).
COMPACT = Spacing(body_pt=9.5, body_lh=4.4, table_lh=4.3, gap=2.0)


class LetterTemplateError(UserError):
    """A letter template whose markup cannot be laid out (not well-formed, an unknown element)."""


# -- the parsed letter -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False


Runs = tuple[Run, ...]


@dataclass(frozen=True)
class Paragraph:
    runs: Runs
    kind: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    bold: bool
    align: str  # "L" or "R"


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    kind: str = ""  # "", "head" or "total"


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    widths: tuple[float, ...]  # mm


Block = Paragraph | Table


@dataclass
class LetterParts:
    recipient: list[str]
    subject: str
    body: list[Block]
    return_address: str = ""
    letterhead: str = ""
    sender: list[Runs] = field(default_factory=list)
    meta: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    page_label: str = "{page}/{pages}"
    continuation: str = ""

    def texts(self) -> Iterator[str]:
        """Every piece of text the letter prints (for the font check)."""
        yield from (self.return_address, self.letterhead, self.subject, self.footer, self.continuation)
        yield self.page_label
        yield from self.recipient
        for line in self.sender:
            yield from (r.text for r in line)
        for label, value in self.meta:
            yield from (label, value)
        for block in self.body:
            if isinstance(block, Paragraph):
                yield from (r.text for r in block.runs)
            else:
                yield from (c.text for row in block.rows for c in row.cells)


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


def font_files(override_dir: Path | None = None) -> tuple[Path, Path]:
    """(regular, bold): the installation's own font if it has one, else the one shipped in templates/."""
    for base in ([override_dir] if override_dir else []) + [TEMPLATES_DIR]:
        regular, bold = base / "letter" / "fonts" / "regular.ttf", base / "letter" / "fonts" / "bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    raise UserError(f"no letter font found: expected {TEMPLATES_DIR / 'letter' / 'fonts' / 'regular.ttf'}")


@lru_cache(maxsize=8)
def _characters(path: Path, mtime_ns: int) -> frozenset[int]:
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


# -- layout ------------------------------------------------------------------------------------------------


class _Letter(FPDF):
    def __init__(self, regular: Path, bold: Path):
        super().__init__(orientation="P", unit="mm", format="A4")
        # Page numbers are drawn once the page count is known (`_decorate`), not through fpdf2's "{nb}" alias,
        # which would also replace "{nb}" typed in a debtor's name.
        self.alias_nb_pages(None)
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_margins(LEFT, CONTINUATION_TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.spacing = REGULAR

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)


def _fit_line(pdf: _Letter, text: str, width: float, sizes: Sequence[float]) -> float:
    for size in sizes:
        pdf.font(size)
        if pdf.get_string_width(text) <= width:
            return size
    return sizes[-1]


def _recipient(pdf: _Letter, lines: list[str]) -> None:
    """The address in the window, in one size: the largest that keeps every line whole, else wrapped at 10 pt."""
    size = BODY_PT
    for candidate in (BODY_PT, 9.0, 8.0):
        pdf.font(candidate)
        if all(pdf.get_string_width(line) <= ADDRESS_W for line in lines):
            size = candidate
            break
    pdf.font(size)
    layout = [part for line in lines
              for part in pdf.multi_cell(ADDRESS_W, 4.5, line, dry_run=True, output=MethodReturnValue.LINES)]
    if len(layout) > ADDRESS_LINES:
        raise FieldError("debtor address", f"needs {len(layout)} lines; the envelope window shows {ADDRESS_LINES}")
    for i, text in enumerate(layout):
        pdf.set_xy(LEFT, ADDRESS_Y + i * 4.5)
        pdf.cell(ADDRESS_W, 4.5, text)


def _first_page(pdf: _Letter, parts: LetterParts) -> float:
    """Letterhead, window, sender block, date and reference, fold marks; returns where the body may start."""
    if parts.letterhead:
        pdf.font(14, bold=True)
        pdf.set_xy(LEFT, LETTERHEAD_Y)
        pdf.cell(CONTENT_W, 7, parts.letterhead)
    if parts.return_address:
        size = _fit_line(pdf, parts.return_address, ADDRESS_W, (7.0, 6.5, 6.0))
        pdf.font(size)
        pdf.set_text_color(*GREY)
        pdf.set_xy(LEFT, RETURN_Y + 1)
        pdf.cell(ADDRESS_W, 3.5, parts.return_address)
        pdf.set_text_color(0)
        pdf.set_draw_color(*GREY)
        pdf.set_line_width(0.1)
        pdf.line(LEFT, RETURN_Y + 4.8, LEFT + ADDRESS_W, RETURN_Y + 4.8)
        pdf.set_draw_color(0)
    _recipient(pdf, parts.recipient)

    y = INFO_Y
    for i, runs in enumerate(parts.sender):
        pdf.set_xy(INFO_X, y)
        first = i == 0
        for run in runs:
            pdf.font(9.0 if first else SMALL_PT, bold=run.bold or first)
            pdf.multi_cell(INFO_W, SMALL_LH, run.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = pdf.get_y()
    y += 4 if parts.sender else 0
    pdf.font(SMALL_PT)
    label_w = min(max((pdf.get_string_width(label) for label, _ in parts.meta), default=0) + 2.5, INFO_W / 2)
    for label, value in parts.meta:
        pdf.set_text_color(*GREY)
        pdf.set_xy(INFO_X, y)
        pdf.multi_cell(label_w, SMALL_LH, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        label_bottom = pdf.get_y()
        pdf.set_text_color(0)
        pdf.set_xy(INFO_X + label_w, y)
        pdf.multi_cell(INFO_W - label_w, SMALL_LH, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = max(pdf.get_y(), label_bottom)

    pdf.set_draw_color(*GREY)
    pdf.set_line_width(0.2)
    for at in FOLD_MARKS:
        pdf.line(4, at, 8, at)
    pdf.line(4, PUNCH_MARK, 10, PUNCH_MARK)
    pdf.set_draw_color(0)
    return max(BODY_Y, y + 8)


def _paragraph(pdf: _Letter, paragraph: Paragraph) -> None:
    if pdf.get_y() + 2 * pdf.spacing.body_lh > pdf.page_break_trigger:  # no lone first line at the foot of a page
        pdf.add_page()
    runs = list(paragraph.runs)
    bullet = ""
    if paragraph.kind == "item":
        bullet, runs = runs[0].text.strip(), runs[1:]
    # fpdf2's text region breaks the lines of the whole paragraph at once, across changes of bold, so a word
    # is never split where a bold run starts (FPDF.write would do that).
    spacing = pdf.spacing
    line_height = spacing.body_lh / (spacing.body_pt * 25.4 / 72)  # fpdf2 wants it as a factor of the type size
    with pdf.text_columns(l_margin=LEFT, r_margin=RIGHT, line_height=line_height) as region:
        with region.paragraph(
            bottom_margin=pdf.spacing.gap, indent=4.0 if bullet else 0, bullet_string=bullet, bullet_r_margin=1.5
        ) as par:
            for run in runs:
                pdf.font(pdf.spacing.body_pt, bold=run.bold)
                par.write(run.text)
    pdf.font(pdf.spacing.body_pt)


def _row_height(pdf: _Letter, row: Row, widths: Sequence[float]) -> float:
    lines = 1
    for cell, width in zip(row.cells, widths, strict=True):
        pdf.font(pdf.spacing.body_pt, bold=cell.bold)
        if cell.text:
            found = pdf.multi_cell(width, pdf.spacing.table_lh, cell.text, dry_run=True, output=MethodReturnValue.LINES)
            lines = max(lines, len(found))
    return lines * pdf.spacing.table_lh + 2 * CELL_PAD


def _draw_row(pdf: _Letter, row: Row, table: Table) -> None:
    inner = [w - (CELL_GAP if i < len(table.widths) - 1 else 0) for i, w in enumerate(table.widths)]
    height = _row_height(pdf, row, inner)
    y, x = pdf.get_y(), LEFT
    total_w = sum(table.widths)
    pdf.set_line_width(0.3)
    if row.kind == "total":
        pdf.line(LEFT, y, LEFT + total_w, y)
    for cell, width, inner_w in zip(row.cells, table.widths, inner, strict=True):
        pdf.font(pdf.spacing.body_pt, bold=cell.bold)
        pdf.set_xy(x, y + CELL_PAD)
        pdf.multi_cell(inner_w, pdf.spacing.table_lh, cell.text, align=cell.align, new_x=XPos.RIGHT, new_y=YPos.TOP)
        x += width
    if row.kind == "head":
        pdf.set_line_width(0.2)
        pdf.line(LEFT, y + height, LEFT + total_w, y + height)
    pdf.set_xy(LEFT, y + height)


def _table(pdf: _Letter, table: Table) -> None:
    inner = [w - (CELL_GAP if i < len(table.widths) - 1 else 0) for i, w in enumerate(table.widths)]
    heads = [row for row in table.rows if row.kind == "head"]
    pdf.set_auto_page_break(False, margin=BOTTOM)  # the margin stays: page_break_trigger must clear the footer
    try:
        for row in table.rows:
            if pdf.get_y() + _row_height(pdf, row, inner) > pdf.page_break_trigger:
                pdf.add_page()
                for head in heads if row.kind != "head" else []:
                    _draw_row(pdf, head, table)  # a table going on on the next page repeats its heading
            _draw_row(pdf, row, table)
    finally:
        pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.set_y(pdf.get_y() + pdf.spacing.gap + 1)


def _keep_together(body: list[Block]) -> Iterator[list[Block]]:
    """The body in groups that go on one page: the closing ("Met vriendelijke groet,") with the paragraph
    before it and the signature after it, so a page never holds only a greeting and a name."""
    closings = [i for i, b in enumerate(body) if isinstance(b, Paragraph) and "closing" in b.kind.split()]
    start = 0
    for i in closings:
        first = max(start, i - 1)
        last = i + 1 if i + 1 < len(body) and isinstance(body[i + 1], Paragraph) else i
        yield from ([b] for b in body[start:first])
        yield body[first:last + 1]
        start = last + 1
    yield from ([b] for b in body[start:])


def _height(pdf: _Letter, block: Block) -> float:
    """Height a block takes (an upper bound for paragraphs: measured as if all bold)."""
    if isinstance(block, Table):
        inner = [w - (CELL_GAP if i < len(block.widths) - 1 else 0) for i, w in enumerate(block.widths)]
        return sum(_row_height(pdf, row, inner) for row in block.rows) + pdf.spacing.gap + 1
    pdf.font(pdf.spacing.body_pt, bold=True)
    text = "".join(r.text for r in block.runs)
    lines = pdf.multi_cell(CONTENT_W, pdf.spacing.body_lh, text, dry_run=True, output=MethodReturnValue.LINES)
    return len(lines) * pdf.spacing.body_lh + pdf.spacing.gap


def _decorate(pdf: _Letter, parts: LetterParts) -> None:
    """Page numbers, footer and continuation header on every page, now that the page count is known."""
    pages = pdf.pages_count
    pdf.set_auto_page_break(False)
    for number in range(1, pages + 1):
        pdf.page = number
        if number > 1:
            pdf.font(SMALL_PT, bold=True)
            pdf.set_xy(LEFT, 12)
            pdf.cell(CONTENT_W, SMALL_LH, parts.letterhead)
            if parts.continuation:
                pdf.font(SMALL_PT)
                pdf.set_xy(LEFT, 12 + SMALL_LH)
                pdf.multi_cell(CONTENT_W, SMALL_LH, parts.continuation)
            pdf.set_line_width(0.1)
            pdf.line(LEFT, 22, PAGE_W - RIGHT, 22)
        pdf.font(SMALL_PT)
        pdf.set_xy(LEFT, PAGE_LABEL_Y)
        label = parts.page_label.replace("{page}", str(number)).replace("{pages}", str(pages))
        pdf.cell(CONTENT_W, SMALL_LH, label, align="R")
        if parts.footer:
            pdf.set_draw_color(*GREY)
            pdf.set_line_width(0.1)
            pdf.line(LEFT, FOOTER_LINE_Y, PAGE_W - RIGHT, FOOTER_LINE_Y)
            pdf.set_draw_color(0)
            pdf.set_text_color(*GREY)
            pdf.font(7.0)
            pdf.set_xy(LEFT, FOOTER_LINE_Y + 1.5)
            pdf.multi_cell(CONTENT_W, 3.4, parts.footer, align="C")
            pdf.set_text_color(0)
    pdf.page = pages


def layout_pdf(parts: LetterParts, *, today: date, title: str = "", author: str = "", lang: str = "nl",
               override_dir: Path | None = None) -> bytes:
    """Lay out a parsed letter on A4; the same parts and `today` give the same bytes. A letter that needs a second
    page at the regular spacing and fits on one at the compact spacing is set compact."""
    pages, pdf = _layout(parts, REGULAR, today=today, title=title, author=author, lang=lang,
                         override_dir=override_dir)
    if pages > 1:
        compact_pages, compact = _layout(parts, COMPACT, today=today, title=title, author=author, lang=lang,
                                         override_dir=override_dir)
        if compact_pages == 1:
            return compact
    return pdf


def _layout(parts: LetterParts, spacing: Spacing, *, today: date, title: str, author: str, lang: str,
            override_dir: Path | None) -> tuple[int, bytes]:
    pdf = _Letter(*font_files(override_dir))
    pdf.spacing = spacing
    try:
        # Fixed metadata: creation date (and so /ID, a hash of the content and this date) from the letter's day.
        pdf.set_creation_date(datetime.combine(today, time(), tzinfo=UTC))
        pdf.set_title(title or parts.subject)
        pdf.set_author(author)
        pdf.set_creator("dunning")
        pdf.set_lang(lang)
        pdf.add_page()
        pdf.set_y(_first_page(pdf, parts))
        if parts.subject:
            pdf.font(11.0, bold=True)
            pdf.multi_cell(CONTENT_W, 5.5, parts.subject, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_y(pdf.get_y() + 5)
        for group in _keep_together(parts.body):
            if len(group) > 1:
                height = sum(_height(pdf, block) for block in group)
                if pdf.get_y() + height > pdf.page_break_trigger >= CONTINUATION_TOP + height:
                    pdf.add_page()
            for block in group:
                if isinstance(block, Table):
                    _table(pdf, block)
                else:
                    _paragraph(pdf, block)
        _decorate(pdf, parts)
        return pdf.pages_count, bytes(pdf.output())
    finally:
        for font in pdf.fonts.values():
            if hasattr(font, "close"):
                font.close()  # fpdf2 keeps the font files open otherwise


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
    creditor = values["creditor"]
    return layout_pdf(parts, today=values["today"], author=str(creditor["name"]), lang=lang,
                      override_dir=override_dir)
