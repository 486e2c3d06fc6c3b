"""The e-mail templates render in every language, format money and dates for the reader, and are safe."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from jinja2 import UndefinedError
from jinja2.sandbox import SecurityError

from dunning.bank.references import payment_reference, printed
from dunning.domain.errors import UserError
from dunning.domain.statement import state_claim
from dunning.messaging.mailer import InvalidAddressError, SmtpSettings, compose_email
from dunning.messaging.preview import preview
from dunning.messaging.templating import (
    LADDER_STEPS,
    STEPS,
    TEMPLATES_DIR,
    FieldError,
    longdate,
    money,
    render_email,
)

INVOICE = {"number": "F-2026-0117", "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1),
           "amount": Decimal("1234.56"), "open_amount": Decimal("1234.56"), "currency": "EUR",
           "payment_reference": "RF81 F202 6011 7"}
OTHER_INVOICE = {"number": "F-2026-0201", "issue_date": date(2026, 10, 3), "due_date": date(2026, 11, 2),
                 "amount": Decimal("99.00"), "open_amount": Decimal("99.00"), "currency": "EUR",
                 "payment_reference": printed(payment_reference("F-2026-0201"))}


def context(kind="consumer", **overrides):
    values = {
        "debtor": {"name": "Jan de Vries", "number": "D-0042", "kind": kind},
        "invoice": INVOICE,
        "open_invoices": [INVOICE],
        "creditor": {"name": "Voorbeeld B.V.", "email": "debiteuren@example.invalid", "phone": "020 123 4567",
                     "iban": "NL91 ABNA 0417 1643 00"},
        "today": date(2026, 11, 22),
        "pay_by": date(2026, 12, 6),
        "personal_note": None,
        "claim": statement(kind),
        "agreement": {"promised_on": date(2026, 12, 6), "amount": Decimal("1234.56"), "spoke_with": "Jan",
                      "note": None},
        "plan": [{"due": date(2026, 12, 6), "amount": Decimal("617.28")},
                 {"due": date(2027, 1, 6), "amount": Decimal("617.28")}],
        "dispute": {"raised_on": date(2026, 11, 2),
                    "answer": "The goods were delivered complete on 1 September; the signed receipt is attached."},
    }
    return values | overrides


def statement(kind="consumer", today=date(2026, 11, 22)):
    return state_claim(
        consumer=kind == "consumer",
        amount=Decimal("1234.56"),
        due_date=date(2026, 10, 1),
        payments=[],
        today=today,
        default_notice_deadline=date(2026, 11, 1),
        term_deadline=date(2026, 12, 6) if kind == "consumer" else None,
    )


@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_every_template_renders_subject_text_and_html(step, language, kind):
    email = render_email(step, language, context(kind))

    assert "F-2026-0117" in email.subject and "\n" not in email.subject
    # Without heer/mevrouw on file Dutch greets formally without a name; English names the consumer (no contact).
    greeting = {"nl": "Geachte heer, mevrouw,",
                "en": "Dear Jan de Vries," if kind == "consumer" else "Dear Sir or Madam,"}
    for part in (email.text, email.html):
        assert greeting[language] in part
        assert "Voorbeeld B.V." in part
        assert "NL91 ABNA 0417 1643 00" in part
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in email.html


@pytest.mark.parametrize("step", (*LADDER_STEPS, "incasso-aankondiging", "betaalafspraak"))
def test_dutch_messages_show_amounts_and_dates_the_dutch_way(step):
    email = render_email(step, "nl", context())
    for part in (email.text, email.html):
        assert "EUR 1.234,56" in part
        assert "6 december 2026" in part


def test_english_messages_show_amounts_and_dates_the_english_way():
    email = render_email("herinnering", "en", context())
    assert "EUR 1,234.56" in email.text
    assert "6 December 2026" in email.text


def test_business_ingebrekestelling_states_commercial_interest_costs_and_total_from_the_law_module():
    claim = statement("business")
    text = render_email("ingebrekestelling", "nl", context("business")).text
    # 1234.56 at 10.40% (BW 6:119a, rate from 1 July 2026) for 2 Oct to 21 Nov 2026 incl., 51 days = 17.94;
    # costs 15% of the principal (BIK scale) = 185.18
    assert claim.interest == Decimal("17.94") and claim.costs == Decimal("185.18")
    assert "Wettelijke handelsrente van 2 oktober 2026 tot vandaag: EUR 17,94" in text
    assert "Incassokosten: EUR 185,18" in text
    assert "Totaal: EUR 1.437,68" in text


def test_ingebrekestelling_without_a_deadline_fails_loudly():
    with pytest.raises(TypeError, match="longdate needs a date"):
        render_email("ingebrekestelling", "nl", context(pay_by=None))


def test_herinnering_without_pay_by_asks_to_pay_soon():
    text = render_email("herinnering", "nl", context(pay_by=None)).text
    assert "zo snel mogelijk" in text


def test_consumers_are_pointed_to_free_debt_help_and_businesses_are_not():
    assert "geldfit.nl" in render_email("aanmaning", "nl", context("consumer")).text
    assert "geldfit.nl" not in render_email("aanmaning", "nl", context("business")).text


def test_html_and_script_in_debtor_name_and_note_are_escaped_in_the_html_part():
    hostile = '<script>alert("x")</script><b>Jan</b>'
    email = render_email("herinnering", "en", context(
        debtor={"name": hostile, "number": "D-1", "kind": "consumer"}, personal_note="<img src=x onerror=alert(1)>"))

    assert "<script>" not in email.html and "<img" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Jan&lt;/b&gt;" in email.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in email.html
    assert hostile in email.text  # plain text is not HTML: shown as typed


def test_personal_note_appears_in_both_parts():
    email = render_email("aanmaning", "en", context(personal_note="As agreed on the phone with Mrs de Vries."))
    assert "As agreed on the phone with Mrs de Vries." in email.text
    assert "As agreed on the phone with Mrs de Vries." in email.html


def test_missing_variable_fails_loudly():
    incomplete = context()
    del incomplete["creditor"]
    with pytest.raises(UndefinedError, match="creditor"):
        render_email("herinnering", "nl", incomplete)


def test_misspelt_field_fails_loudly():
    with pytest.raises(UndefinedError, match="has no attribute 'issue_date'"):
        render_email("herinnering", "nl", context(invoice={"number": "F-1"}))


def test_override_folder_is_searched_before_the_shipped_templates(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "herinnering.nl.subject.txt").write_text("Vriendelijke herinnering {{ invoice.number }}\n")

    email = render_email("herinnering", "nl", context(), override_dir=tmp_path)

    assert email.subject == "Vriendelijke herinnering F-2026-0117"
    assert "Geachte heer, mevrouw," in email.text  # files not overridden still come from templates/


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language"):
        render_email("herinnering", "de", context())


def test_money_refuses_floats_and_unrounded_amounts():
    with pytest.raises(TypeError, match="Decimal"):
        money(1234.56, "EUR", "nl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="round"):
        money(Decimal("1.005"), "EUR", "nl")


def test_money_and_longdate_follow_the_language():
    assert money(Decimal("1234.5"), "EUR", "nl") == "EUR 1.234,50"
    assert money(Decimal("-1234.56"), "EUR", "nl") == "EUR -1.234,56"
    assert money(Decimal("1234.56"), "EUR", "en") == "EUR 1,234.56"
    assert longdate(date(2026, 11, 22), "nl") == "22 november 2026"
    assert longdate(date(2026, 11, 22), "en") == "22 November 2026"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_consumer_ingebrekestelling_is_a_valid_14_dagenbrief(language):
    email = render_email("ingebrekestelling", language, context("consumer"))
    text = " ".join(email.text.split())
    # BW 6:96 lid 6: the exact costs (15% of 1,234.56 = 185.18), and 14 days from the day after receipt
    if language == "nl":
        assert "Die zijn EUR 185,18" in text
        assert "binnen veertien dagen, te rekenen vanaf de dag nadat u deze e-mail heeft ontvangen" in text
        assert "uiterlijk 6 december 2026" in text
    else:
        assert "collection costs of EUR 185.18" in text
        assert "within fourteen days from the day after you received this e-mail, that is by 6 December 2026" in text
    for invalid in ("na dagtekening", "na verzending", "after the date of this", "after sending"):
        assert invalid not in text
    assert "Incassokosten:" not in text and "Collection costs:" not in text, "consumers owe no costs yet"


def test_consumer_interest_runs_only_from_the_day_after_the_aanmaning_term():
    claim = statement("consumer")
    # In default from 2 Nov (the aanmaning's term ended 1 Nov, BW 6:82); 4% (6:119) for 20 days on 1,234.56
    assert claim.interest_from == date(2026, 11, 2)
    assert claim.interest == Decimal("2.71")
    assert claim.due_now == Decimal("1237.27") and claim.due_after_term == Decimal("1422.45")


# -- every step, both channels' files ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_every_step_has_an_email_and_a_letter_template(step, language):
    for name in (f"email/{step}.{language}.subject.txt", f"email/{step}.{language}.txt",
                 f"email/{step}.{language}.html", f"letter/{step}.{language}.html"):
        assert (TEMPLATES_DIR / name).is_file(), name


def test_all_open_invoices_are_listed_when_there_is_more_than_one():
    alone = render_email("herinnering", "nl", context())
    assert "F-2026-0201" not in alone.text and "F-2026-0201" not in alone.html

    both = render_email("aanmaning", "nl", context(open_invoices=[INVOICE, OTHER_INVOICE]))
    for part in (both.text, both.html):
        assert "Op dit moment staan deze facturen van u open" in part
        assert "F-2026-0201" in part and "EUR 99,00" in part and "2 november 2026" in part
        assert OTHER_INVOICE["payment_reference"] in part  # each invoice with its own reference
    assert ("- factuur F-2026-0201 van 3 oktober 2026, vervallen op 2 november 2026: EUR 99,00, betalingskenmerk "
            f"{OTHER_INVOICE['payment_reference']}\n") in both.text


# -- the new steps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["consumer", "business"])
def test_incasso_aankondiging_tells_the_last_day_and_what_is_owed(kind):
    claim = state_claim(consumer=kind == "consumer", amount=Decimal("1234.56"), due_date=date(2026, 10, 1),
                        payments=[], today=date(2026, 12, 20), default_notice_deadline=date(2026, 11, 1),
                        term_deadline=date(2026, 12, 6) if kind == "consumer" else None)
    email = render_email("incasso-aankondiging", "nl", context(kind, claim=claim, pay_by=date(2027, 1, 4),
                                                               agency="Incasso & Co"))
    text = " ".join(email.text.split())
    # The 14-day term has run (a consumer owes the costs now); a business owed them from the start.
    assert claim.costs == Decimal("185.18") and claim.due_now == claim.due_after_term
    assert f"Incassokosten: {money(claim.costs, 'EUR', 'nl')}" in text
    assert f"Totaal: {money(claim.due_now, 'EUR', 'nl')}" in text
    assert "uiterlijk 4 januari 2027" in text and "incassobureau Incasso & Co" in text
    assert "Incasso &amp; Co" in email.html  # escaped in HTML


def test_incasso_aankondiging_without_a_claim_shows_the_open_amount():
    email = render_email("incasso-aankondiging", "en", context(claim=None, pay_by=date(2027, 1, 4)))
    assert "Amount due:        EUR 1,234.56" in email.text
    assert "a collection agency" in email.text and "4 January 2027" in email.text


def test_incasso_aankondiging_without_a_last_day_fails_loudly():
    with pytest.raises(TypeError, match="longdate needs a date"):
        render_email("incasso-aankondiging", "nl", context(pay_by=None))


def test_betaalafspraak_confirms_amount_date_and_what_remains():
    agreement = {"promised_on": date(2026, 12, 1), "amount": Decimal("500.00"), "spoke_with": "mevrouw De Vries",
                 "note": "Rest in januari.\r\nBel eerst <b>even</b>."}
    email = render_email("betaalafspraak", "nl", context(agreement=agreement))
    text = " ".join(email.text.split())
    assert "met mevrouw De Vries" in text
    assert "U betaalt EUR 500,00 uiterlijk 1 december 2026." in text
    assert "nog EUR 734,56 open" in text
    assert "Rest in januari." in email.text and "&lt;b&gt;even&lt;/b&gt;" in email.html
    assert "<b>even</b>" not in email.html


def test_betaalafspraak_in_full_says_nothing_remains():
    email = render_email("betaalafspraak", "en", context(agreement={
        "promised_on": date(2026, 12, 1), "amount": Decimal("1234.56"), "spoke_with": "", "note": None}))
    assert "will still be open" not in email.text
    assert "Thank you for the phone call." in email.text


def test_betaalafspraak_without_an_agreement_fails_loudly():
    values = context()
    del values["agreement"]
    with pytest.raises(UndefinedError, match="agreement"):
        render_email("betaalafspraak", "nl", values)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_betalingsregeling_lists_every_instalment_and_the_total(language):
    plan = [{"due": date(2026, 12, 1), "amount": Decimal("400.00")},
            {"due": date(2027, 1, 1), "amount": Decimal("400.00")},
            {"due": date(2027, 2, 1), "amount": Decimal("434.56")}]
    email = render_email("betalingsregeling", language, context(plan=plan))
    for instalment in plan:
        assert longdate(instalment["due"], language) in email.text
        assert money(instalment["amount"], "EUR", language) in email.html
    assert money(Decimal("1234.56"), "EUR", language) in email.text
    assert ("Termijn 3" if language == "nl" else "Instalment 3") in email.text


# -- debtor data that would break out of its line ----------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "number", "street", "postcode", "city"])
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\x00"])
def test_line_breaks_in_debtor_name_or_address_are_refused_naming_the_field(field, breaker):
    debtor = {"name": "Jan de Vries", "number": "D-1", "kind": "consumer", "street": "Dorpsstraat 1",
              "postcode": "1234 AB", "city": "Ons Dorp"}
    debtor[field] = f"{debtor[field]}{breaker}Bcc: victim@example.invalid"
    with pytest.raises(FieldError, match=f"debtor.{field}: line breaks and other control characters") as refused:
        render_email("herinnering", "nl", context(debtor=debtor))
    assert isinstance(refused.value, UserError) and isinstance(refused.value, ValueError)
    assert refused.value.field == f"debtor.{field}"


def test_line_breaks_in_the_invoice_number_are_refused():
    with pytest.raises(FieldError, match="invoice.number"):
        render_email("herinnering", "nl", context(invoice={**INVOICE, "number": "F-1\nSubject: x"}))


@pytest.mark.parametrize("key", ["invoice", "open_invoices", "combined"])
def test_a_payment_reference_that_is_not_iso_11649_or_breaks_its_line_is_refused_naming_the_field(key):
    def values(reference):
        invoice = {**INVOICE, "payment_reference": reference}
        return context(**{key: invoice if key == "invoice" else [INVOICE, invoice]})

    field = "invoice.payment_reference" if key == "invoice" else rf"{key}\[1\].payment_reference"
    with pytest.raises(FieldError, match=f"{field} is not a valid ISO 11649 creditor reference"):
        render_email("herinnering", "nl", values("RF00 F202 6011 7"))  # check digits wrong: no bank line matches it
    with pytest.raises(FieldError, match=f"{field}: line breaks"):
        render_email("herinnering", "nl", values("RF81 F202\n6011 7"))


def test_an_invoice_without_its_payment_reference_fails_loudly():
    invoice = {k: v for k, v in INVOICE.items() if k != "payment_reference"}
    with pytest.raises(UndefinedError, match="payment_reference"):
        render_email("herinnering", "nl", context(invoice=invoice))


def test_line_breaks_in_a_combined_invoice_number_are_refused():
    with pytest.raises(FieldError, match=r"combined\[0\].number"):
        render_email("herinnering", "nl", context(combined=[{**OTHER_INVOICE, "number": "F-2\nBcc: x"}]))


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_every_message_states_the_payment_reference_and_asks_to_quote_it(step, language):
    email = render_email(step, language, context())
    label = "betalingskenmerk" if language == "nl" else "payment reference"
    for part in (email.text, email.html):
        assert "RF81 F202 6011 7" in part
        assert label in part.lower()
        assert "omschrijving" not in part.lower() and "quoting invoice" not in part


def test_the_mailer_refuses_line_breaks_in_the_recipient_name_and_subject_too():
    common = {"settings": SmtpSettings(), "to_address": "jan@example.invalid", "text": "t", "html": "<p>t</p>",
              "message_id_key": "F-1:herinnering:email:1", "now": datetime(2026, 11, 22, 9, tzinfo=UTC)}
    with pytest.raises(InvalidAddressError, match="recipient name contains a line break"):
        compose_email(to_name="Jan\r\nBcc: x@example.invalid", subject="Herinnering", **common)
    with pytest.raises(InvalidAddressError, match="subject contains a line break"):
        compose_email(to_name="Jan", subject="Herinnering\nBcc: x@example.invalid", **common)


def test_personal_note_keeps_its_lines_and_refuses_control_characters():
    email = render_email("herinnering", "nl", context(personal_note="Eerste regel\r\nTweede regel\r\n"))
    assert "Eerste regel\nTweede regel\n" in email.text
    with pytest.raises(FieldError, match="personal_note: contains a control character"):
        render_email("herinnering", "nl", context(personal_note="bel mij\x1b[31m"))


def test_creditor_from_settings_may_be_an_object_without_address_fields():
    from dunning.storage.config import Creditor

    email = render_email("herinnering", "nl", context(creditor=Creditor()))
    assert "NL91ABNA0417164300" in email.text


# -- operators' templates ------------------------------------------------------------------------------------


def test_an_operator_template_cannot_reach_python_internals(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "herinnering.nl.subject.txt").write_text("{{ invoice.number.__class__.__mro__ }}\n")
    with pytest.raises(SecurityError):
        render_email("herinnering", "nl", context(), override_dir=tmp_path)


def test_preview_writes_the_email_parts_without_sending(tmp_path):
    written = preview("aanmaning", "nl", "email", context(), None, tmp_path / "out")

    names = sorted(p.name for p in written)
    assert names == ["F-2026-0117-aanmaning.nl.html", "F-2026-0117-aanmaning.nl.subject.txt",
                     "F-2026-0117-aanmaning.nl.txt"]
    subject = (tmp_path / "out" / "F-2026-0117-aanmaning.nl.subject.txt").read_text(encoding="utf-8")
    assert subject == "Aanmaning: factuur F-2026-0117 is nog steeds niet betaald\n"
    assert "EUR 1.234,56" in (tmp_path / "out" / "F-2026-0117-aanmaning.nl.txt").read_text(encoding="utf-8")


def test_preview_fails_loudly_on_an_unknown_variable_and_writes_nothing(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "herinnering.nl.txt").write_text("Beste {{ debtor.naam }},\n")
    with pytest.raises(UndefinedError, match="naam"):
        preview("herinnering", "nl", "email", context(), tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_preview_refuses_unknown_steps_and_channels(tmp_path):
    with pytest.raises(UserError, match="unknown step"):
        preview("sommatie", "nl", "email", context(), None, tmp_path)
    with pytest.raises(UserError, match="unknown channel"):
        preview("herinnering", "nl", "fax", context(), None, tmp_path)


def test_an_override_added_while_running_is_used_from_the_next_message_on(tmp_path):
    before = render_email("herinnering", "nl", context(), override_dir=tmp_path)
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "herinnering.nl.subject.txt").write_text("Nog open: {{ invoice.number }}\n")

    after = render_email("herinnering", "nl", context(), override_dir=tmp_path)

    assert before.subject.startswith("Herinnering") and after.subject == "Nog open: F-2026-0117"


@pytest.mark.parametrize(
    ("language", "wording"),
    [
        ("nl", "te rekenen vanaf de dag nadat u de brief heeft ontvangen die wij u ook per post sturen"),
        ("en", "within fourteen days from the day after you receive the letter we are also sending you by post"),
    ],
)
def test_the_email_copy_of_a_posted_14_dagenbrief_counts_the_term_from_the_letter(language, wording):
    email = render_email("ingebrekestelling", language, context("consumer", by_post=True))
    for part in (email.text, email.html):
        assert wording in " ".join(part.replace("<strong>", "").replace("</strong>", "").split())


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", ["herinnering", "aanmaning"])
def test_one_message_about_several_invoices_names_them_all_in_subject_and_text(step, language):
    third = {**OTHER_INVOICE, "number": "F-2026-0300", "payment_reference": printed(payment_reference("F-2026-0300"))}
    email = render_email(step, language, context(combined=[OTHER_INVOICE, third],
                                                 open_invoices=[INVOICE, OTHER_INVOICE, third]))
    joiner = " en " if language == "nl" else " and "
    assert f"F-2026-0117, F-2026-0201{joiner}F-2026-0300" in email.subject
    for part in (email.text, email.html):
        assert f"F-2026-0201{joiner}F-2026-0300" in part
        for invoice in (INVOICE, OTHER_INVOICE, third):
            assert invoice["payment_reference"] in part
