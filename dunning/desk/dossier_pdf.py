"""The dossier of a case handed to the incasso agency as a PDF table (dunning.desk.incasso_archive puts it in the
archive): a module of its own so that the invoice runs, which import the archive, do not import fpdf2 (a second
of every wake-up's start) unless they hand a case off."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from dunning.domain.time import local
from dunning.messaging.letters import font_files, printable_characters
from dunning.storage.config import Installation
from dunning.storage.models import DossierEntry, Invoice

FONT = "dossier"
MARGIN = 15.0  # mm

_WORDS = {
    "nl": {"title": "Dossier van factuur {number}", "date": "Datum", "invoice": "Factuur", "debtor": "Debiteur",
           "intro": "Het dossier van factuur {number} zoals het bij de overdracht op {day} vastlag: elk contact "
                    "met de debiteur en alle bewijs, oudste eerst. Tijden in Nederlandse tijd. Een bericht staat "
                    "met zijn SHA-256 in messages/ van dit archief.",
           "when": "Wanneer", "what": "Wat", "channel": "Kanaal", "by": "Door", "summary": "Omschrijving",
           "facts": "Gegevens", "amount": "Factuurbedrag", "open": "Openstaand", "issue": "Factuurdatum",
           "due": "Vervaldatum", "reference": "Betalingskenmerk", "sent": "Ingebrekestelling verzonden",
           "term": "Termijn verstreken na", "empty": "Het dossier is leeg.", "page": "pagina {page} van {pages}"},
    "en": {"title": "Dossier of invoice {number}", "date": "Date", "invoice": "Invoice", "debtor": "Debtor",
           "intro": "The dossier of invoice {number} as it stood at the hand-off on {day}: every contact with the "
                    "debtor and all evidence, oldest first. Times in Dutch time. A message is in messages/ of "
                    "this archive with its SHA-256.",
           "when": "When", "what": "What", "channel": "Channel", "by": "By", "summary": "Summary",
           "facts": "Facts", "amount": "Invoice amount", "open": "Open", "issue": "Invoice date",
           "due": "Due date", "reference": "Payment reference", "sent": "Ingebrekestelling sent",
           "term": "Term ended after", "empty": "The dossier is empty.", "page": "page {page} of {pages}"},
}


class _DossierPdf(FPDF):
    """A4 landscape: the dossier's table is wide. The letters' font (`letters.font_files`), so every character
    a letter could print prints here too; a footer with the page on every page."""

    def __init__(self, regular: Path, bold: Path, footer: str, page_label: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.alias_nb_pages(None)  # no "{nb}" replaced in the text: the page count is given (`pages`)
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 5)
        self.footer_text = footer
        self.page_label = page_label  # "{page}" and "{pages}" are replaced
        self.pages_total = 0

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT, "", 7)
        self.set_text_color(90)
        total = self.pages_total or self.page_no()
        label = self.page_label.replace("{page}", str(self.page_no())).replace("{pages}", str(total))
        self.cell(0, 4, f"{self.footer_text} · {label}", align="C")
        self.set_text_color(0)


def dossier_pdf(
    inst: Installation, invoice: Invoice, entries: list[DossierEntry], row: Mapping[str, str], today: date
) -> bytes:
    """The dossier as a table, A4 landscape, in the installation's language, in the letters' font. The same
    entries on the same day give the same bytes."""
    override = inst.home / "templates"
    characters = printable_characters(override)
    words = _WORDS.get(inst.language, _WORDS["en"])

    def text(value: object) -> str:
        # Stored before anything checked it, or from outside: what the font cannot print becomes "?".
        return "".join(c if c == "\n" or ord(c) in characters else "?" for c in str(value or ""))

    number = invoice.number
    title = text(words["title"].format(number=number))
    stated = [
        (words["debtor"], f"{row['debtor_number']} {row['debtor_name']}"),
        (words["invoice"], number),
        (words["issue"], row["issue_date"]),
        (words["due"], row["due_date"]),
        (words["amount"], f"{row['currency']} {row['invoice_amount']}"),
        (words["open"], f"{row['currency']} {row['open']}"),
        (words["reference"], row["payment_reference"]),
        (words["sent"], row["ingebrekestelling_sent_on"]),
        (words["term"], row["term_ended_on"]),
    ]
    lines = []
    for e in entries:
        summary = e.summary
        if e.content_hash:
            digest = e.content_hash
            summary += "\nSHA-256 " + " ".join(digest[i:i + 8] for i in range(0, len(digest), 8))
        lines.append((local(e.at).strftime("%Y-%m-%d %H:%M"), e.kind, e.channel or "", e.by or "", summary))

    def render(pages: int) -> tuple[bytes, int]:
        pdf = _DossierPdf(*font_files(override), text(f"{inst.creditor.name} · {title}"), words["page"])
        try:
            pdf.pages_total = pages
            pdf.set_creation_date(datetime.combine(today, time(), tzinfo=UTC))
            pdf.set_title(title)
            pdf.set_author(text(inst.creditor.name))
            pdf.set_creator("dunning")
            pdf.set_lang(inst.language)
            pdf.add_page()
            pdf.set_font(FONT, "B", 14)
            pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FONT, "", 9)
            pdf.multi_cell(0, 4.5, text(words["intro"].format(number=number, day=today.isoformat())),
                           new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(3)
            with pdf.table(col_widths=(1, 2), width=160, align="LEFT", first_row_as_headings=False,
                           borders_layout="NONE", line_height=4.5, text_align="LEFT") as facts_table:
                for label, value in stated:
                    cells = facts_table.row()
                    cells.cell(text(label))
                    cells.cell(text(value))
            pdf.ln(4)
            if not lines:
                pdf.multi_cell(0, 4.5, words["empty"])
            else:
                heading = FontFace(emphasis="BOLD")
                with pdf.table(col_widths=(26, 30, 14, 18, 120), align="LEFT", headings_style=heading,
                               borders_layout="HORIZONTAL_LINES", line_height=4.2, text_align="LEFT",
                               padding=1, repeat_headings=1) as table:
                    head = table.row()
                    for key in ("when", "what", "channel", "by", "summary"):
                        head.cell(words[key])
                    for line in lines:
                        cells = table.row()
                        for value in line:
                            cells.cell(text(value))
            return bytes(pdf.output()), pdf.pages_count
        finally:
            for font in pdf.fonts.values():
                if hasattr(font, "close"):
                    font.close()  # fpdf2 keeps the font files open otherwise

    _, pages = render(0)
    content, _ = render(pages)
    return content
