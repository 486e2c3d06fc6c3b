"""The letter's layout as the debtor holds it: a letter whose body fits on one page is one page, and the closing
and the signatory always stand on the page of the last paragraph of the body, never alone on a page of their
own. Every step x language, for a consumer and for a business debtor with a contact person; the PDF is
read back page by page (pypdf)."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from dunning.messaging.letter_parts import COMPACT, Paragraph
from dunning.messaging.letters import parse_letter, render_letter_pdf
from dunning.messaging.templating import STEPS, render_letter_markup
from tests.unit.test_letter_wording import context


def pages_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def closing_group(step: str, language: str, values) -> tuple[str, str, str]:
    """The end of the body's last paragraph, the closing and the signatory, as the letter prints them."""
    body = parse_letter(render_letter_markup(step, language, values)).body
    closing = next(i for i, b in enumerate(body) if isinstance(b, Paragraph) and "closing" in b.kind.split())
    before, signature = body[closing - 1], body[closing + 1]
    assert isinstance(before, Paragraph) and isinstance(signature, Paragraph)

    def words(block: Paragraph) -> str:
        return " ".join("".join(r.text for r in block.runs).split())

    return words(before)[-30:], words(body[closing]), words(signature).split(" Bakkerij")[0]  # type: ignore[arg-type]


def assert_closing_with_the_body(pdf: bytes, step: str, language: str, values) -> list[str]:
    pages = pages_of(pdf)
    end_of_body, closing, signatory = closing_group(step, language, values)
    on = [[n for n, page in enumerate(pages) if text in page] for text in (end_of_body, closing, signatory)]
    assert on[0] and on[0][-1] == len(pages) - 1, f"{step}: the body's last paragraph is not on the last page"
    assert on[1] == [len(pages) - 1] and on[2] and on[2][-1] == len(pages) - 1, (step, on, pages[-1][:200])
    return pages


@pytest.mark.parametrize(("kind", "contact"), [("consumer", None), ("business", "Marie de Vries")])
@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_a_letter_that_fits_is_one_page_with_the_closing_and_signatory_under_its_body(step, language, kind, contact):
    values = context(kind, contact)
    pages = assert_closing_with_the_body(render_letter_pdf(step, language, values), step, language, values)
    assert len(pages) == 1, f"{step} {language} {kind}: {len(pages)} pages, the last: {pages[-1][:200]}"


def test_a_long_letter_keeps_the_closing_with_its_last_paragraph_on_the_last_page():
    plan = [{"due": date(2026, 12, 1) + timedelta(days=30 * n), "amount": Decimal("25.00")} for n in range(40)]
    values = context("consumer", "Marie de Vries", plan=plan)
    pages = assert_closing_with_the_body(render_letter_pdf("betalingsregeling", "nl", values), "betalingsregeling",
                                         "nl", values)
    assert len(pages) >= 2
    assert pages[-1].split("pagina")[0].strip()  # the last page holds more than a page label


def test_the_compact_spacing_is_still_a_readable_letter():
    # set tighter only to keep a letter on one sheet, never below 9.5 pt on 4.4 mm lines
    assert (COMPACT.body_pt, COMPACT.body_lh) >= (9.5, 4.4)
