"""The letter laid out on A4 with fpdf2 (the geometry, fonts and parsed parts are dunning.messaging.letters'): a
module of its own so that a run that prints no letter does not import fpdf2, a second of every wake-up's start."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from dunning.messaging.letter_parts import (
    ADDRESS_LINES,
    ADDRESS_W,
    ADDRESS_Y,
    BODY_PT,
    BODY_Y,
    BOTTOM,
    CELL_GAP,
    CELL_PAD,
    COMPACT,
    CONTENT_W,
    CONTINUATION_TOP,
    FOLD_MARKS,
    FONT,
    FOOTER_LINE_Y,
    GREY,
    INFO_W,
    INFO_X,
    INFO_Y,
    LEFT,
    LETTERHEAD_Y,
    PAGE_LABEL_Y,
    PAGE_W,
    PUNCH_MARK,
    REGULAR,
    RETURN_Y,
    RIGHT,
    SMALL_LH,
    SMALL_PT,
    Block,
    LetterParts,
    Paragraph,
    Row,
    Spacing,
    Table,
    font_files,
)
from dunning.messaging.templating import FieldError


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
