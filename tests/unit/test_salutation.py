"""How a message greets the debtor: the person addressed, heer or mevrouw when known, the policy's tone."""

import pytest

from dunning.messaging.salutation import addressee, closing, first_name, salutation, surname


@pytest.mark.parametrize(
    ("language", "name", "title", "tone", "expected"),
    [
        # Dutch, formal: heer/mevrouw and the surname when known, else the neutral form (the name is in "t.a.v.")
        ("nl", "Jan de Vries", "heer", "formal", "Geachte heer De Vries,"),
        ("nl", "J.P. van den Berg", "mevrouw", "formal", "Geachte mevrouw Van den Berg,"),
        ("nl", "Anna Jansen-Smit", "Mevrouw.", "formal", "Geachte mevrouw Jansen-Smit,"),
        ("nl", "Jan de Vries", None, "formal", "Geachte heer, mevrouw,"),
        ("nl", "Jan de Vries", "", "formal", "Geachte heer, mevrouw,"),
        ("nl", None, None, "formal", "Geachte heer, mevrouw,"),
        ("nl", None, "heer", "formal", "Geachte heer,"),
        # Dutch, informal: the first name where the name has one, else the formal greeting
        ("nl", "Jan de Vries", "heer", "informal", "Beste Jan,"),
        ("nl", "Jan de Vries", None, "informal", "Beste Jan,"),
        ("nl", "J. de Vries", "heer", "informal", "Geachte heer De Vries,"),
        ("nl", "J. de Vries", None, "informal", "Geachte heer, mevrouw,"),
        ("nl", None, None, "informal", "Geachte heer, mevrouw,"),
        # English: Mr/Ms and the surname as written, the full name without a title, Sir or Madam without a name
        ("en", "Jan de Vries", "mr", "formal", "Dear Mr de Vries,"),
        ("en", "Hannah Smith", "ms", "formal", "Dear Ms Smith,"),
        ("en", "Hannah Smith", "mevrouw", "formal", "Dear Ms Smith,"),
        ("en", "Hannah  Smith", None, "formal", "Dear Hannah Smith,"),
        ("en", None, "mr", "formal", "Dear Sir or Madam,"),
        ("en", None, None, "formal", "Dear Sir or Madam,"),
        ("en", "Hannah Smith", "ms", "informal", "Dear Hannah,"),
        ("en", "H. Smith", None, "informal", "Dear H. Smith,"),
    ],
)
def test_the_greeting_for_every_case(language, name, title, tone, expected):
    assert salutation(language, name, title=title, tone=tone) == expected


def test_the_person_addressed_is_the_contact_or_a_consumer_never_a_company():
    assert addressee(kind="business", name="Grand Café De Markt B.V.", contact_name="Anna  de Vries") == "Anna de Vries"
    assert addressee(kind="business", name="Grand Café De Markt B.V.", contact_name=None) is None
    assert addressee(kind="business", name="Grand Café De Markt B.V.", contact_name=" ") is None
    assert addressee(kind="consumer", name="Jan de Vries", contact_name=None) == "Jan de Vries"
    assert addressee(kind="consumer", name="Jan de Vries", contact_name="Marie de Vries") == "Marie de Vries"


@pytest.mark.parametrize(
    ("name", "family", "capitalised"),
    [
        ("Jan de Vries", "de Vries", "De Vries"),
        ("Jan Willem van der Berg", "van der Berg", "Van der Berg"),
        ("J.P. van den Berg", "van den Berg", "Van den Berg"),
        ("van Dijk", "van Dijk", "Van Dijk"),
        ("Pieter 't Hart", "'t Hart", "'t Hart"),
        ("Hannah Smith", "Smith", "Smith"),
        ("Anna Jansen-Smit", "Jansen-Smit", "Jansen-Smit"),
        ("Jansen", "Jansen", "Jansen"),
    ],
)
def test_the_surname_keeps_its_particles_and_capitalises_the_first_in_dutch(name, family, capitalised):
    assert surname(name) == family
    assert surname(name, capitalise=True) == capitalised


@pytest.mark.parametrize(
    ("name", "first"),
    [("Jan de Vries", "Jan"), ("Jan-Willem Boer", "Jan-Willem"), ("J. de Vries", None), ("JP Smith", None),
     ("de Vries", None), ("Anna", None)],
)
def test_a_first_name_only_where_the_name_starts_with_one(name, first):
    assert first_name(name) == first


def test_an_unknown_title_tone_or_language_is_refused():
    with pytest.raises(ValueError, match="unknown title 'dr'"):
        salutation("nl", "Jan de Vries", title="dr")
    with pytest.raises(ValueError, match="unknown tone"):
        salutation("nl", "Jan de Vries", tone="jovial")
    with pytest.raises(ValueError, match="unsupported language"):
        salutation("de", "Jan de Vries")


@pytest.mark.parametrize(("language", "greeting", "tone", "expected"), [
    ("en", "Dear Ms Jansen,", "formal", "Yours sincerely,"),
    ("en", "Dear Jan Jansen,", "formal", "Yours sincerely,"),
    ("en", "Dear Sir or Madam,", "formal", "Yours faithfully,"),
    ("en", "Dear Jan,", "informal", "Kind regards,"),
    ("nl", "Geachte heer, mevrouw,", "formal", "Met vriendelijke groet,"),
    ("nl", "Beste Jan,", "informal", "Met vriendelijke groet,"),
])
def test_the_closing_answers_the_greeting(language, greeting, tone, expected):
    assert closing(language, greeting, tone=tone) == expected
