"""The step vocabulary: every stored step text reads back as the same step, and nothing else is a step."""

import pytest

from dunning.domain.steps import LADDER, Message, Step, StepError, StepKind

STORED = [
    "herinnering",
    "aanmaning",
    "ingebrekestelling",
    "incasso-aankondiging",
    "betaalafspraak@call-2",
    "betalingsregeling@plan-3",
    "betwisting-afgewezen@dispute-1",
    "factuurkopie@call-2",
    "factuurkopie@courtesy-call",
    "call-1",
    "call-12",
    "courtesy-call",
    "approve-ingebrekestelling",
    "approve-incasso",
    "approve-incasso@2",
    "dispute-1",
    "plan-3",
]


@pytest.mark.parametrize("text", STORED)
def test_every_stored_step_text_reads_back_as_the_same_step(text):
    assert str(Step.parse(text)) == text


@pytest.mark.parametrize(
    "text", ["", "call-0", "call-01", "call-x", "approve-aanmaning", "approve-incasso@1", "herinnering@",
             "herinnering@call", "brief", "plan-3@call-1", "courtesy-call@2", "Herinnering"],
)
def test_text_that_names_no_step_is_refused(text):
    with pytest.raises(StepError):
        Step.parse(text)


def test_a_confirmation_names_the_call_it_confirms_and_sends_a_betaalafspraak():
    step = Step.send(Message.betaalafspraak, about=Step.call(2))
    assert str(step) == "betaalafspraak@call-2"
    assert step.sends is Message.betaalafspraak
    assert step.about == Step.call(2)


def test_an_approval_asked_again_is_a_new_question_about_the_same_step():
    first = Step.approval("incasso")
    assert str(first.again()) == "approve-incasso@2"
    assert first.again().gate == "incasso"
    assert first.again() != first


def test_steps_are_values_usable_as_keys():
    assert {Step.parse("call-1"): 1}[Step.call(1)] == 1
    assert Step.courtesy_call().kind is StepKind.courtesy_call and Step.courtesy_call().is_call


def test_the_formal_ladder_is_herinnering_aanmaning_ingebrekestelling():
    assert [m.value for m in LADDER] == ["herinnering", "aanmaning", "ingebrekestelling"]


def test_a_step_that_is_no_message_sends_nothing():
    with pytest.raises(StepError):
        _ = Step.call(1).sends
