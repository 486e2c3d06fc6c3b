"""What a letter is made of, shared by reading it (dunning.messaging.letters) and laying it out
(dunning.messaging.letter_layout): the page's geometry, the spacing, the parsed parts and the font files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dunning.domain.errors import UserError
from dunning.messaging.templating import TEMPLATES_DIR

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


# -- fonts ---


def font_files(override_dir: Path | None = None) -> tuple[Path, Path]:
    """(regular, bold): the installation's own font if it has one, else the one shipped in templates/."""
    for base in ([override_dir] if override_dir else []) + [TEMPLATES_DIR]:
        regular, bold = base / "letter" / "fonts" / "regular.ttf", base / "letter" / "fonts" / "bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    raise UserError(f"no letter font found: expected {TEMPLATES_DIR / 'letter' / 'fonts' / 'regular.ttf'}")
