"""Which messages to one debtor go as one: reminders always; the formal letters (ingebrekestelling,
incasso-aankondiging) always for a consumer, for a business as its policy says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dunning.domain.kinds import DebtorKind
from dunning.domain.policy import DEFAULT
from dunning.domain.steps import Message
from dunning.messaging.combining import combines
from dunning.storage.models import Debtor


@pytest.mark.parametrize("message", [Message.herinnering, Message.aanmaning, Message.betaalafspraak])
@pytest.mark.parametrize("kind", [DebtorKind.consumer, DebtorKind.business])
def test_reminders_to_one_debtor_due_together_always_go_as_one(message, kind):
    assert combines(message, Debtor(kind=kind), replace(DEFAULT, one_formal_letter=False))


@pytest.mark.parametrize("message", [Message.ingebrekestelling, Message.incasso_aankondiging])
def test_a_consumer_always_gets_one_formal_letter_a_business_as_its_policy_says(message):
    apart = replace(DEFAULT, one_formal_letter=False)
    assert combines(message, Debtor(kind=DebtorKind.consumer), apart)
    assert combines(message, Debtor(kind=DebtorKind.business), DEFAULT)
    assert not combines(message, Debtor(kind=DebtorKind.business), apart)


@pytest.mark.parametrize("message", [Message.factuurkopie, Message.betwisting_afgewezen, Message.betalingsregeling])
def test_messages_about_one_invoice_go_alone(message):
    assert not combines(message, Debtor(kind=DebtorKind.consumer), DEFAULT)
