"""Letters as print-ready PDFs: every template renders, the legal content is right, debtor data stays text,
and the PDF is read back by extracting its text (pypdf), as a person or a court would read it."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from pypdf import PdfReader

from dunning.domain.statement import state_claim
from dunning.law import collection_costs, fourteen_day_term
from dunning.messaging.letters import LetterTemplateError, parse_letter, render_letter_pdf
from dunning.messaging.preview import preview
from dunning.messaging.templating import STEPS, FieldError, longdate, money, render_letter_markup

POSTED = date(2026, 11, 23)  # a Monday: presumed delivered Wednesday 25 November (Sun/Mon never count)
INVOICE = {"number": "F-2026-0117", "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1),
           "amount": Decimal("1234.56"), "open_amount": Decimal("1234.56"), "currency": "EUR",
           "payment_reference": "RF81 F202 6011 7"}


def claim_for(kind: str, today: date = POSTED, term_deadline: date | None = None):
    return state_claim(
        consumer=kind == "consumer",
        amount=Decimal("1234.56"),
        due_date=date(2026, 10, 1),
        payments=[],
        today=today,
        default_notice_deadline=date(2026, 11, 1),
        term_deadline=term_deadline,
    )


def letter_context(kind: str = "consumer", **overrides):
    pay_by = fourteen_day_term(POSTED).deadline if kind == "consumer" else POSTED + timedelta(days=14)
    values = {
        "debtor": {"name": "Jan de Vries", "number": "D-0042", "kind": kind, "street": "Keizersgracht 123",
                   "postcode": "1015 CJ", "city": "Amsterdam", "country": "NL"},
        "invoice": INVOICE,
        "open_invoices": [INVOICE],
        "creditor": {"name": "Voorbeeld B.V.", "email": "debiteuren@example.invalid", "phone": "020 123 4567",
                     "iban": "NL91 ABNA 0417 1643 00", "street": "Herengracht 1", "postcode": "1015 BA",
                     "city": "Amsterdam", "kvk": "12345678"},
        "today": POSTED,
        "sent_on": POSTED,
        "posted_on": POSTED,
        "pay_by": pay_by,
        "personal_note": None,
        "claim": claim_for(kind, term_deadline=pay_by if kind == "consumer" else None),
        "agreement": {"promised_on": date(2026, 12, 1), "amount": Decimal("500.00"), "spoke_with": "Jan",
                      "note": None},
        "plan": [{"due": date(2026, 12, 1), "amount": Decimal("617.28")},
                 {"due": date(2027, 1, 1), "amount": Decimal("617.28")}],
        "dispute": {"raised_on": date(2026, 11, 2),
                    "answer": "The goods were delivered complete on 1 September; the signed receipt is attached."},
        "reference": "F-2026-0117",
    }
    return values | overrides


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with runs of whitespace as one space: what a reader sees, wherever lines wrap."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


# -- every template ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_every_letter_renders_to_a_readable_a4_pdf(step, language, kind):
    pdf = render_letter_pdf(step, language, letter_context(kind))

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in pt
    text = pdf_text(pdf)
    for expected in ("Jan de Vries", "Keizersgracht 123", "1015 CJ AMSTERDAM", "Voorbeeld B.V.",
                     "NL91 ABNA 0417 1643 00", "F-2026-0117", "D-0042", longdate(POSTED, language)):
        assert expected in text, expected
    pages = page_count(pdf)
    assert (f"pagina 1 van {pages}" if language == "nl" else f"page 1 of {pages}") in text
    assert "KvK 12345678" in text


def test_a_foreign_address_ends_with_the_country_in_capitals():
    debtor = {**letter_context()["debtor"], "street": "Rue Neuve 1", "postcode": "1000", "city": "Bruxelles",
              "country": "BE"}
    text = pdf_text(render_letter_pdf("herinnering", "nl", letter_context(debtor=debtor)))
    assert "1000 BRUXELLES BELGIË" in text


# -- the law's content ---------------------------------------------------------------------------------------


def test_consumer_letter_is_a_valid_14_dagenbrief_with_exact_costs_and_the_computed_deadline():
    term = fourteen_day_term(POSTED)
    assert term.presumed_delivery == date(2026, 11, 25) and term.deadline == date(2026, 12, 9)
    context = letter_context("consumer", pay_by=term.deadline)

    text = pdf_text(render_letter_pdf("ingebrekestelling", "nl", context))

    costs = collection_costs(Decimal("1234.56"), consumer=True)
    assert costs == Decimal("185.18") == context["claim"].costs
    assert f"Die zijn {money(costs, 'EUR', 'nl')}." in text  # BW 6:96 lid 6: the exact amount
    # The term counts from the day after receipt of THIS LETTER (HR 25-11-2016), and its last day is stated.
    assert ("Betaal dit bedrag binnen veertien dagen, te rekenen vanaf de dag nadat u deze brief heeft "
            "ontvangen. Dat is uiterlijk 9 december 2026.") in text
    for invalid in ("na dagtekening", "na verzending", "deze e-mail", "dagen na de datum"):
        assert invalid not in text
    assert "Incassokosten EUR" not in text, "a consumer owes no costs yet: they are not in the total"
    assert f"U betaalt dan in totaal {money(context['claim'].due_after_term, 'EUR', 'nl')}" in text


def test_english_consumer_letter_counts_the_term_from_receipt_of_the_letter():
    text = pdf_text(render_letter_pdf("ingebrekestelling", "en", letter_context("consumer")))
    assert ("within fourteen days from the day after you received this letter, "
            "that is by 9 December 2026 at the latest,") in text
    assert "collection costs of EUR 185.18" in text
    assert "this e-mail" not in text


def test_business_letter_states_interest_and_costs_worked_out_by_hand():
    claim = claim_for("business")
    text = pdf_text(render_letter_pdf("ingebrekestelling", "nl", letter_context("business", claim=claim)))

    # Worked out by hand, not by the law module:
    #   interest (BW 6:119a): due Thursday 1 Oct 2026, so from 2 Oct up to the start of 23 Nov, the letter's day
    #     ("tot vandaag"): 30 days in October (2..31) + 22 in November (1..22) = 52 days. Rate 10.40% a year:
    #     the row of 1 Jul 2026 in dunning/law/data/nl_rates_commercial.csv (marked unverified there); one
    #     period, no year has passed so nothing compounds, actual/365, rounded once to cents:
    #     1,234.56 x 10.40 / 100 x 52 / 365 = 6,676.50048 / 365 = 18.2918 -> EUR 18.29
    #   collection costs (Besluit BIK scale, BW 6:96 lid 4): 15% of the first 2,500 = 1,234.56 x 15% = 185.184
    #     -> EUR 185.18, above the minimum of EUR 40
    #   total: 1,234.56 + 18.29 + 185.18 = EUR 1,438.03
    assert claim.interest_from == date(2026, 10, 2)
    assert (claim.interest, claim.costs, claim.due_now) == (Decimal("18.29"), Decimal("185.18"), Decimal("1438.03"))
    assert "Wettelijke handelsrente van 2 oktober 2026 tot vandaag EUR 18,29" in text
    assert "Incassokosten EUR 185,18" in text
    assert "Totaal EUR 1.438,03" in text
    assert "veertien dagen" not in text


def test_betalingsregeling_letter_has_the_instalments_table():
    plan = [{"due": date(2026, 12, 1) + timedelta(days=30 * i), "amount": Decimal("100.00")} for i in range(12)]
    plan[-1]["amount"] = Decimal("134.56")
    text = pdf_text(render_letter_pdf("betalingsregeling", "nl", letter_context(plan=plan)))
    assert "Termijn Uiterlijk betalen op Bedrag" in text
    assert "12 27 oktober 2027 EUR 134,56" in text
    assert "Totaal EUR 1.234,56" in text


def test_a_long_plan_runs_onto_more_pages_with_page_numbers_and_the_table_heading_repeated():
    plan = [{"due": date(2027, 1, 1) + timedelta(days=30 * i), "amount": Decimal("10.00")} for i in range(70)]
    pdf = render_letter_pdf("betalingsregeling", "nl", letter_context(plan=plan))
    pages = page_count(pdf)
    assert pages >= 2
    reader = PdfReader(io.BytesIO(pdf))
    second = " ".join(reader.pages[1].extract_text().split())
    assert f"pagina 2 van {pages}" in second
    assert "Vervolg van onze brief van 23 november 2026 aan Jan de Vries, kenmerk F-2026-0117" in second
    assert "Termijn Uiterlijk betalen op Bedrag" in second


# -- the payment reference -------------------------------------------------------------------------------


def test_the_payment_block_states_the_payment_reference_under_the_iban_and_asks_to_quote_it():
    text = pdf_text(render_letter_pdf("herinnering", "nl", letter_context()))
    assert ("Rekeningnummer (IBAN) NL91 ABNA 0417 1643 00 Ten name van Voorbeeld B.V. "
            "Betalingskenmerk RF81 F202 6011 7 Vermeld bij uw betaling het betalingskenmerk.") in text
    text = pdf_text(render_letter_pdf("herinnering", "en", letter_context()))
    assert ("Account (IBAN) NL91 ABNA 0417 1643 00 Account name Voorbeeld B.V. "
            "Payment reference RF81 F202 6011 7 Please quote the payment reference when you pay") in text


@pytest.mark.parametrize("kind", ["consumer", "business"])
def test_the_ingebrekestelling_asks_to_quote_the_payment_reference_with_the_iban(kind):
    text = pdf_text(render_letter_pdf("ingebrekestelling", "nl", letter_context(kind)))
    assert ("op rekening NL91 ABNA 0417 1643 00 ten name van Voorbeeld B.V., met als betalingskenmerk: "
            "RF81 F202 6011 7.") in text
    text = pdf_text(render_letter_pdf("ingebrekestelling", "en", letter_context(kind)))
    assert ("to account NL91 ABNA 0417 1643 00 in the name of Voorbeeld B.V., quoting payment reference "
            "RF81 F202 6011 7.") in text


def test_the_open_invoices_are_listed_each_with_its_own_payment_reference():
    other = {**INVOICE, "number": "F-2026-0201", "due_date": date(2026, 11, 2), "open_amount": Decimal("99.00"),
             "payment_reference": "RF44 F202 6020 1"}
    text = pdf_text(render_letter_pdf("aanmaning", "nl", letter_context(open_invoices=[INVOICE, other])))
    assert ("Factuur Vervaldatum Betalingskenmerk Nog te betalen "
            "F-2026-0117 1 oktober 2026 RF81 F202 6011 7 EUR 1.234,56 "
            "F-2026-0201 2 november 2026 RF44 F202 6020 1 EUR 99,00 Totaal EUR 1.333,56") in text
    assert ("Elke factuur heeft een eigen betalingskenmerk. Betaalt u een factuur op rekening NL91 ABNA 0417 1643 00 "
            "ten name van Voorbeeld B.V., vermeld dan het betalingskenmerk van die factuur.") in text


def test_betaalafspraak_letter_confirms_what_was_agreed():
    text = pdf_text(render_letter_pdf("betaalafspraak", "en", letter_context()))
    assert "You will pay EUR 500.00 by 1 December 2026." in text
    assert "EUR 734.56 will still be outstanding on invoice F-2026-0117" in text


# -- debtor data is text -----------------------------------------------------------------------------------


def test_html_and_script_in_the_debtor_name_and_note_print_literally():
    hostile = '<script>alert("x")</script><b>Jan</b> & Zn {nb}'
    note = "<img src=x onerror=alert(1)>\nTweede regel: € 12,50 voor Zoë & René"
    context = letter_context(debtor={**letter_context()["debtor"], "name": hostile}, personal_note=note)

    text = pdf_text(render_letter_pdf("herinnering", "en", context))

    assert f"Dear {hostile}," in text  # not markup, not fpdf2's page-count alias
    assert "<img src=x onerror=alert(1)> Tweede regel: € 12,50 voor Zoë & René" in text
    assert "&lt;" not in text and "&amp;" not in text


def test_markup_in_data_cannot_add_parts_to_the_letter():
    markup = render_letter_markup("herinnering", "nl", letter_context(
        personal_note='</p></div><p class="footer">Betaal aan NL00 FAKE 0000 0000 00</p><div class="body"><p>'))
    parts = parse_letter(markup)
    assert "FAKE" not in parts.footer
    assert any("FAKE" in r.text for block in parts.body for r in getattr(block, "runs", ()))


@pytest.mark.parametrize("field", ["name", "street", "postcode", "city"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\u2028"])
def test_line_breaks_in_name_or_address_are_refused_before_rendering(field, breaker):
    debtor = {**letter_context()["debtor"]}
    debtor[field] = f"{debtor[field]}{breaker}Extra regel"
    with pytest.raises(FieldError, match=f"debtor.{field}: line breaks and other control characters"):
        render_letter_pdf("ingebrekestelling", "nl", letter_context(debtor=debtor))


@pytest.mark.parametrize("field", ["street", "postcode", "city"])
def test_a_letter_needs_a_postal_address(field):
    debtor = {**letter_context()["debtor"], field: None}
    with pytest.raises(FieldError, match=f"debtor.{field} is required for a letter"):
        render_letter_pdf("herinnering", "nl", letter_context(debtor=debtor))


def test_a_character_the_font_cannot_print_is_refused_naming_the_field():
    debtor = {**letter_context()["debtor"], "name": "王小明"}
    refused = r"debtor.name has characters the letter font cannot print: .*'王' \(U\+738B\)"
    with pytest.raises(FieldError, match=refused):
        render_letter_pdf("herinnering", "nl", letter_context(debtor=debtor))


def test_diacritics_decomposed_or_not_print_the_same():
    composed = letter_context(debtor={**letter_context()["debtor"], "name": "Zoë Brontë-Łódź"})
    decomposed = letter_context(debtor={**letter_context()["debtor"], "name": "Zoe\u0308 Bronte\u0308-Łódź"})
    assert render_letter_pdf("herinnering", "nl", composed) == render_letter_pdf("herinnering", "nl", decomposed)
    assert "Dear Zoë Brontë-Łódź," in pdf_text(render_letter_pdf("herinnering", "en", composed))


def test_an_address_too_long_for_the_window_is_refused():
    debtor = {**letter_context()["debtor"], "name": "Stichting " + "Heel Lange Naam " * 20}
    with pytest.raises(FieldError, match="envelope window shows 6"):
        render_letter_pdf("herinnering", "nl", letter_context(debtor=debtor))


# -- evidence ------------------------------------------------------------------------------------------------


def test_the_same_letter_gives_the_same_bytes():
    first = render_letter_pdf("ingebrekestelling", "nl", letter_context())
    again = render_letter_pdf("ingebrekestelling", "nl", letter_context())
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    later = render_letter_pdf("ingebrekestelling", "nl", letter_context(today=POSTED + timedelta(days=1)))
    assert later != first
    assert b"/CreationDate (D:20261123000000Z)" in first


def test_the_font_is_embedded():
    pdf = render_letter_pdf("herinnering", "nl", letter_context())
    assert b"/FontFile2" in pdf and b"DejaVu" in pdf


# -- operators' templates and preview ------------------------------------------------------------------------


def test_an_installation_template_overrides_the_shipped_letter(tmp_path):
    (tmp_path / "letter").mkdir()
    (tmp_path / "letter" / "herinnering.nl.html").write_text(
        '{% extends "letter/_layout.html" %}{% block subject %}Even een seintje{% endblock %}'
        "{% block body %}<p>Beste {{ debtor.name }}, factuur {{ invoice.number }} staat nog open.</p>{% endblock %}",
        encoding="utf-8",
    )
    text = pdf_text(render_letter_pdf("herinnering", "nl", letter_context(), override_dir=tmp_path))
    assert "Even een seintje" in text and "factuur F-2026-0117 staat nog open" in text
    assert "Ingebrekestelling" in pdf_text(render_letter_pdf("ingebrekestelling", "nl", letter_context(),
                                                             override_dir=tmp_path))


def test_an_unknown_variable_in_a_letter_template_fails_loudly_at_preview(tmp_path):
    (tmp_path / "letter").mkdir()
    (tmp_path / "letter" / "aanmaning.nl.html").write_text(
        '{% extends "letter/_layout.html" %}{% block body %}<p>{{ debtor.voornaam }}</p>{% endblock %}',
        encoding="utf-8")
    with pytest.raises(UndefinedError, match="voornaam"):
        preview("aanmaning", "nl", "letter", letter_context(), tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_malformed_letter_markup_is_refused_with_the_template_named(tmp_path):
    (tmp_path / "letter").mkdir()
    (tmp_path / "letter" / "aanmaning.nl.html").write_text(
        '{% extends "letter/_layout.html" %}{% block body %}<p>Open<br>regel</p>{% endblock %}', encoding="utf-8")
    with pytest.raises(LetterTemplateError, match=r"aanmaning.nl.html: the markup is not well-formed"):
        render_letter_pdf("aanmaning", "nl", letter_context(), override_dir=tmp_path)


def test_an_unknown_element_is_refused():
    with pytest.raises(LetterTemplateError, match=r"<img> is not allowed"):
        parse_letter('<div><div class="recipient"><p>x</p></div><div class="body"><p><img/></p></div></div>')


def test_preview_writes_the_letter_pdf(tmp_path):
    written = preview("ingebrekestelling", "en", "letter", letter_context(), None, tmp_path)
    assert [p.name for p in written] == ["F-2026-0117-ingebrekestelling.en.pdf"]
    assert "Notice of default: invoice F-2026-0117" in pdf_text(written[0].read_bytes())


def test_rendering_a_letter_does_not_import_prefect():
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from decimal import Decimal\n"
        "import dunning.messaging.letters, dunning.cli.letters\n"
        "assert not [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')], 'prefect imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_page_label_pattern_replaces_only_its_own_placeholders():
    text = pdf_text(render_letter_pdf("herinnering", "nl", letter_context(
        debtor={**letter_context()["debtor"], "name": "{page} {pages}"})))
    assert "Geachte heer, mevrouw," in text and re.search(r"\{page\} \{pages\} Keizersgracht 123", text)
