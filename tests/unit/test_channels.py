"""Which channel carries a step: preference, formal steps on paper, fallback with a note."""

from dunning.domain.kinds import Channel, DebtorKind
from dunning.domain.steps import Step
from dunning.messaging.channels import route
from dunning.storage.models import Debtor


def debtor(email="jan@example.com", street="Kerkstraat 1", preferred=Channel.email) -> Debtor:
    return Debtor(
        number="D-1", name="Jan", kind=DebtorKind.consumer, email=email, street=street, postcode="1017 GA",
        city="Amsterdam", country="NL", language="nl", preferred_channel=preferred,
    )


def test_the_preferred_channel_carries_an_ordinary_step():
    assert route(Step.parse("herinnering"), debtor()).channels == (Channel.email,)
    assert route(Step.parse("aanmaning"), debtor(preferred=Channel.letter)).channels == (Channel.letter,)


def test_a_debtor_who_prefers_the_phone_gets_written_steps_by_email():
    assert route(Step.parse("herinnering"), debtor(preferred=Channel.phone)).channels == (Channel.email,)


def test_the_ingebrekestelling_goes_by_letter_and_also_by_email():
    assert route(Step.parse("ingebrekestelling"), debtor()).channels == (Channel.email, Channel.letter)


def test_no_email_address_falls_back_to_a_letter_with_a_note():
    r = route(Step.parse("herinnering"), debtor(email=None))
    assert r.channels == (Channel.letter,)
    assert r.notes == ("herinnering: no usable e-mail address; sent by letter instead",)


def test_a_malformed_email_address_counts_as_none():
    assert route(Step.parse("herinnering"), debtor(email="jan@@example")).channels == (Channel.letter,)


def test_no_postal_address_sends_the_formal_step_by_email_only_and_says_so():
    r = route(Step.parse("ingebrekestelling"), debtor(street=""))
    assert r.channels == (Channel.email,)
    assert "no postal address" in r.notes[0]


def test_without_any_address_nothing_can_be_sent():
    r = route(Step.parse("aanmaning"), debtor(email=None, street=None))
    assert r.channels == () and "neither" in r.notes[0]


def test_a_policy_can_send_the_aanmaning_by_post_too():
    assert route(Step.parse("aanmaning"), debtor(), formal=("aanmaning", "ingebrekestelling")).channels == (
        Channel.email, Channel.letter
    )
    assert route(Step.parse("ingebrekestelling"), debtor(), formal=()).channels == (Channel.email,)
