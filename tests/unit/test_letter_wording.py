"""The wording of every message as a credit manager reads it: who is greeted and who signs, no doubled
punctuation, no past date in the present tense, interest stated from its day at its rate under its article, an
invoice copy promised only when it goes with the message; the signatory and tone settings. Pure: templates are
rendered (letters as their markup) without a database."""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from dunning.casework.policies import policy_for
from dunning.domain.errors import UserError
from dunning.domain.statement import state_claim
from dunning.messaging.letter_parts import Paragraph
from dunning.messaging.letters import parse_letter
from dunning.messaging.templating import STEPS, FieldError, render_email, render_letter_markup
from dunning.storage import config
from dunning.storage.config import Creditor, Signatory

TODAY = date(2026, 11, 23)
INVOICE = {"number": "F-2026-0117", "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1),
           "amount": Decimal("1234.56"), "open_amount": Decimal("1234.56"), "currency": "EUR",
           "payment_reference": "RF81 F202 6011 7"}
CREDITOR = Creditor(name="Bakkerij Jansen B.V.", email="debiteuren@bakkerij-jansen.example", phone="+31 20 555 0101",
                    signatory=Signatory(default="Anna Smit, debiteurenbeheer",
                                        steps=(("ingebrekestelling", "Piet de Boer, directeur"),)))
DEBTORS = {
    "consumer": {"name": "Jan de Vries", "number": "D-1", "kind": "consumer"},
    "business": {"name": "Grand Café De Markt B.V.", "number": "D-2", "kind": "business"},
}


def claim(kind: str, due_date: date = date(2026, 10, 1)):
    return state_claim(consumer=kind == "consumer", amount=Decimal("1234.56"), due_date=due_date, payments=[],
                       today=TODAY, default_notice_deadline=date(2026, 11, 1),
                       term_deadline=date(2026, 12, 9) if kind == "consumer" else None)


def context(kind: str = "consumer", contact: str | None = None, **overrides):
    debtor = {**DEBTORS[kind], "street": "Markt 12a", "postcode": "1234 AB", "city": "Ons Dorp",
              "contact_name": contact}
    values = {
        "debtor": debtor,
        "invoice": INVOICE,
        "open_invoices": [INVOICE],
        "creditor": CREDITOR,
        "today": TODAY,
        "pay_by": date(2026, 12, 9),
        "claim": claim(kind),
        "agency": "Incasso Noord B.V.",
        "agreement": {"promised_on": date(2026, 12, 1), "amount": Decimal("500.00"), "spoke_with": "Mr. J. Smith Jr.",
                      "note": None},
        "plan": [{"due": date(2026, 12, 1), "amount": Decimal("617.28")},
                 {"due": date(2027, 1, 1), "amount": Decimal("617.28")}],
        "dispute": {"raised_on": date(2026, 11, 2), "answer": "Delivered complete on 1 September, signed for."},
    }
    return values | overrides


def letter_text(step: str, language: str, values) -> str:
    """The letter's address, subject and body as a reader reads them: a paragraph's runs (bold or not) as one."""
    parts = parse_letter(render_letter_markup(step, language, values))
    body = ["".join(r.text for r in b.runs) if isinstance(b, Paragraph) else " ".join(c.text for row in b.rows
            for c in row.cells) for b in parts.body]
    return " ".join(" ".join([*parts.recipient, parts.subject, *body]).split())


def texts(step: str, language: str, values) -> dict[str, str]:
    """The e-mail's text, its HTML without tags, and the letter, each as one line of words."""
    email = render_email(step, language, values)
    inline = re.sub(r"</?(strong|a)\b[^>]*>", "", email.html)  # words, not blocks: no space where they end
    html = re.sub(r"<[^>]+>", " ", inline).replace("&amp;", "&").replace("&#39;", "'").replace("&middot;", "·")
    return {"text": " ".join(email.text.split()), "html": " ".join(html.split()),
            "letter": letter_text(step, language, values)}


GREETINGS = {
    ("nl", "consumer", None): "Geachte heer, mevrouw,",
    ("nl", "consumer", "Marie de Vries"): "Geachte heer, mevrouw,",
    ("nl", "business", None): "Geachte heer, mevrouw,",
    ("nl", "business", "Anna de Vries"): "Geachte heer, mevrouw,",
    ("en", "consumer", None): "Dear Jan de Vries,",
    ("en", "consumer", "Marie de Vries"): "Dear Marie de Vries,",
    ("en", "business", None): "Dear Sir or Madam,",
    ("en", "business", "Anna de Vries"): "Dear Anna de Vries,",
}
# The closing answers the greeting: a name gets "Yours sincerely,", "Dear Sir or Madam," gets "Yours faithfully,".
def closing_after(greeting: str) -> str:
    if greeting.startswith("Geachte"):
        return "Met vriendelijke groet,"
    return "Yours faithfully," if greeting == "Dear Sir or Madam," else "Yours sincerely,"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_every_message_greets_the_person_and_is_signed_without_doubled_punctuation(step, language):
    signer = "Piet de Boer, directeur" if step == "ingebrekestelling" else "Anna Smit, debiteurenbeheer"
    for (lang, kind, contact), greeting in GREETINGS.items():
        if lang != language:
            continue
        for channel, text in texts(step, language, context(kind, contact)).items():
            where = f"{step} {language} {kind} {contact} {channel}"
            assert greeting in text, where
            assert "Beste" not in text and "Dear Grand" not in text, where  # never the company's name
            assert f"{closing_after(greeting)} {signer} Bakkerij Jansen B.V." in text, where
            if channel == "letter" and contact:
                assert ("t.a.v." if language == "nl" else "Attn.") + f" {contact}" in text, where
            # "Bakkerij Jansen B.V.." and the like: a name that ends in a full stop ending a sentence
            assert not re.search(r"(?<!\.)\.\.(?!\.)|,,|,\.|\s[,.;:]\s", text), (where, text)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("step", STEPS)
def test_a_past_date_is_never_stated_in_the_present_tense(step, language):
    due = "1 oktober 2026" if language == "nl" else "1 October 2026"
    present = (rf"(moet uiterlijk|betaaldatum is|moet .* betaald zijn) {due}" if language == "nl"
               else rf"(is due|due by|must be paid by) (on )?{due}")
    for kind in DEBTORS:
        for text in texts(step, language, context(kind)).values():
            assert not re.search(present, text), (step, language, kind, text)
    assert "moest uiterlijk" not in render_email(step, "nl", context()).text


def test_without_a_signatory_the_closing_names_the_company():
    values = context("business", creditor=replace(CREDITOR, signatory=Signatory()))
    for text in texts("herinnering", "nl", values).values():
        assert "Met vriendelijke groet, Bakkerij Jansen B.V. +31 20 555 0101" in text.replace("Telefoon ", "")


def test_heer_or_mevrouw_on_file_greets_by_surname_and_an_informal_policy_by_first_name():
    debtor = {**DEBTORS["business"], "contact_name": "Anna van den Berg", "contact_salutation": "mevrouw"}
    assert "Geachte mevrouw Van den Berg," in render_email("aanmaning", "nl", context(debtor=debtor)).text
    assert "Dear Ms van den Berg," in render_email("aanmaning", "en", context(debtor=debtor)).text
    informal = render_email("herinnering", "nl", context(debtor=debtor, tone="informal"))
    assert informal.text.startswith("Beste Anna,\n") and "<p>Beste Anna,</p>" in informal.html
    with pytest.raises(FieldError, match="debtor.contact_salutation: unknown title 'dr'"):
        render_email("herinnering", "nl", context(debtor={**debtor, "contact_salutation": "dr"}))


@pytest.mark.parametrize(
    ("kind", "language", "sentence"),
    [
        ("consumer", "nl", "vanaf 2 november 2026 de wettelijke rente (artikel 6:119 BW): 4% per jaar."),
        ("business", "nl", "vanaf 2 oktober 2026 de wettelijke handelsrente (artikel 6:119a BW): 10,40% per jaar."),
        ("consumer", "en", "(article 6:119 of the Dutch Civil Code) on the unpaid invoice amount from "
                           "2 November 2026: 4% a year."),
        ("business", "en", "statutory commercial interest (article 6:119a of the Dutch Civil Code) on the unpaid "
                           "invoice amount from 2 October 2026: 10.40% a year."),
    ],
)
def test_the_formal_letters_state_the_interest_from_its_first_day_at_its_rate_under_its_article(kind, language,
                                                                                                sentence):
    for step in ("ingebrekestelling", "incasso-aankondiging"):
        for channel, text in texts(step, language, context(kind)).items():
            assert sentence in text, (step, channel)


def test_a_rate_change_during_the_interest_is_stated_with_its_date():
    # Due 1 May 2026: commercial interest from 2 May at 10.15%, and at 10.40% from 1 July 2026 (BW 6:120).
    values = context("business", claim=claim("business", due_date=date(2026, 5, 1)))
    assert ("vanaf 2 mei 2026 de wettelijke handelsrente (artikel 6:119a BW): 10,15% per jaar, en vanaf "
            "1 juli 2026 10,40% per jaar.") in texts("ingebrekestelling", "nl", values)["letter"]
    assert "from 2 May 2026: 10.15% a year, and from 1 July 2026 10.40% a year." in " ".join(
        render_email("ingebrekestelling", "en", values).text.split())


def test_the_incasso_aankondiging_states_one_consequence_and_one_way_out():
    for text in texts("incasso-aankondiging", "nl", context()).values():
        assert text.count("Dan dragen wij de vordering over aan incassobureau Incasso Noord B.V.") == 1
        assert "U kunt de overdracht voorkomen door dit bedrag uiterlijk 9 december 2026 te betalen" in text
        for contradiction in ("liever niet", "nog één keer", "laatste kans"):
            assert contradiction not in text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_aanmaning_demands_and_the_herinnering_asks(language):
    aanmaning = render_email("aanmaning", language, context()).text
    herinnering = render_email("herinnering", language, context(pay_by=None)).text
    if language == "nl":
        assert "Wij verzoeken u het openstaande bedrag uiterlijk 9 december 2026 over te maken." in aanmaning
        assert "Wilt u" not in aanmaning
        assert "Wilt u het bedrag zo snel mogelijk overmaken?" in herinnering
    else:
        assert "We now ask you to pay the outstanding amount by 9 December 2026." in aanmaning
        assert "We would be grateful if you could pay the amount as soon as possible." in herinnering


@pytest.mark.parametrize("language", ["nl", "en"])
def test_an_invoice_copy_is_promised_only_when_it_goes_with_the_message(language):
    attached = texts("factuurkopie", language, context(copy_attached=True))
    missing = texts("factuurkopie", language, context(copy_attached=False))
    if language == "nl":
        assert "U vindt de factuur als bijlage bij dit bericht." in attached["text"]
        assert "De factuur zit bij deze brief." in attached["letter"]
        for text in missing.values():
            assert "sturen wij u de gegevens van factuur F-2026-0117" in text and "kopie van factuur" not in text
            assert "Wilt u ook een kopie van de factuur zelf ontvangen? Laat het ons weten" in text
    else:
        assert "please find attached a copy of invoice F-2026-0117" in attached["text"]
        for text in missing.values():
            assert "here are the details of invoice F-2026-0117" in text and "copy of invoice" not in text
            assert "If you would also like a copy of the invoice itself, just let us know" in text
    subject = render_email("factuurkopie", language, context(copy_attached=False)).subject
    assert subject == ("Gegevens van factuur F-2026-0117" if language == "nl" else "Details of invoice F-2026-0117")


def test_an_invoice_copy_before_its_due_date_says_when_it_is_due():
    later = {**INVOICE, "due_date": date(2026, 12, 15)}
    assert "De uiterste betaaldatum is 15 december 2026." in render_email(
        "factuurkopie", "nl", context(invoice=later)).text
    assert "Payment is due by 15 December 2026." in render_email("factuurkopie", "en", context(invoice=later)).text
    assert "De uiterste betaaldatum was 1 oktober 2026." in render_email("factuurkopie", "nl", context()).text


# -- the settings ----------------------------------------------------------------------------------------------


def settings(tmp_path, text: str):
    (tmp_path / "settings.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_signatory_comes_from_settings_per_message_with_a_default(tmp_path):
    home = settings(tmp_path, '[signatory]\ndefault = "Anna Smit,  debiteurenbeheer"\n'
                              'ingebrekestelling = "Piet de Boer, directeur"\n')
    signatory = config.load(home).creditor.signatory
    assert signatory.for_message("herinnering") == "Anna Smit, debiteurenbeheer"
    assert signatory.for_message("ingebrekestelling") == "Piet de Boer, directeur"
    assert config.load(settings(tmp_path, "")).creditor.signatory.for_message("aanmaning") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[signatory]\nsommatie = "A"\n', "signatory.sommatie: unknown key (default, or a message: herinnering,"),
        ('[signatory]\ndefault = 3\n', "signatory.default: the name of who signs, as text, got 3"),
        ('[signatory]\ndefault = ""\n', "signatory.default: the name of who signs, as text"),
        ('[signatory]\naanmaning = "A\\nB"\n', "signatory.aanmaning: line breaks"),
        ('signatory = "Anna"\n', "signatory: a table ([signatory])"),
        ('[creditor]\nsignatory = "Anna"\n', "unknown setting(s) in [creditor]: signatory"),
    ],
)
def test_a_mistake_in_the_signatory_is_named_with_the_file_and_key(tmp_path, text, message):
    with pytest.raises(UserError) as refused:
        config.load(settings(tmp_path, text))
    assert str(refused.value).startswith(str(tmp_path / "settings.toml")) and message in str(refused.value)


def test_the_tone_is_a_policy_setting_formal_unless_the_file_says_informal(tmp_path):
    assert policy_for(tmp_path, "D-1").tone == "formal"
    (tmp_path / "policies.toml").write_text('[policy.familiar]\ntone = "informal"\n[debtors]\n"D-2" = "familiar"\n')
    assert (policy_for(tmp_path, "D-1").tone, policy_for(tmp_path, "D-2").tone) == ("formal", "informal")
    (tmp_path / "policies.toml").write_text('[default]\ntone = "jovial"\n')
    with pytest.raises(UserError, match=r'default.tone: must be "formal" or "informal", not \'jovial\''):
        policy_for(tmp_path, "D-1")
