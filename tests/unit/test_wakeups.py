"""Waking paused runs: the rules the sweep applies, as pure decisions (no database, no Prefect)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.ladder import collection_starts
from dunning.domain.policy import DEFAULT, Policy
from dunning.domain.steps import Step
from dunning.domain.time import AMSTERDAM
from dunning.domain.wakeups import Hand, PauseKey, answer_on_waking, courtesy_call_day, courtesy_call_due

OPEN, PAID = Decimal("100.00"), Decimal("0.00")
STARTS = datetime(2026, 3, 5, 9, 0, tzinfo=AMSTERDAM)  # due Monday 2 March + 3 days grace, 09:00


def test_collection_starts_after_the_grace_days_at_the_working_hour():
    assert collection_starts(date(2026, 3, 2), DEFAULT) == STARTS
    assert collection_starts(date(2026, 3, 2), Policy(grace_days=10)) == datetime(2026, 3, 12, 9, tzinfo=AMSTERDAM)


def test_a_courtesy_call_is_due_from_its_day_until_the_due_date_for_a_late_payer_only():
    late, punctual = (20, 15, 12), (0, 2, 1)  # days late of the last three paid invoices
    due = date(2026, 3, 10)
    assert courtesy_call_due(due, date(2026, 3, 7), late, DEFAULT)  # 3 days before
    assert courtesy_call_due(due, date(2026, 3, 10), late, DEFAULT)  # on the due date itself
    assert not courtesy_call_due(due, date(2026, 3, 6), late, DEFAULT)  # too early
    assert not courtesy_call_due(due, date(2026, 3, 11), late, DEFAULT)  # overdue: the collection call's turn
    assert not courtesy_call_due(due, date(2026, 3, 7), punctual, DEFAULT)


def test_the_courtesy_calls_day_is_known_before_the_debtors_history_is_read():
    due = date(2026, 3, 10)
    assert courtesy_call_day(due, date(2026, 3, 7), DEFAULT) and courtesy_call_day(due, due, DEFAULT)
    assert not courtesy_call_day(due, date(2026, 3, 6), DEFAULT)
    assert not courtesy_call_day(due, date(2026, 3, 11), DEFAULT)
    assert not courtesy_call_day(due, date(2026, 3, 7), Policy(late_payer_invoices=0))  # nobody is called


@pytest.mark.parametrize(
    "key",
    [PauseKey.for_task(TaskKind.call, 12), PauseKey.for_task(TaskKind.approval, 3),
     PauseKey.for_task(TaskKind.dispute, 7, 2)],
)
def test_a_pause_key_reads_back_as_the_same_key(key):
    assert PauseKey.parse(str(key)) == key


def test_pause_keys_keep_the_text_paused_runs_already_carry():
    assert str(PauseKey.for_task(TaskKind.call, 12)) == "call-12"
    assert str(PauseKey.for_task(TaskKind.dispute, 12, 0)) == "dispute-12-0"
    assert PauseKey.parse("wait-0f3a").kind is None
    assert PauseKey.parse("something-else") is None
    assert PauseKey.parse("call-x") is None
    assert PauseKey.wait() != PauseKey.wait()  # a fresh key each time


def test_a_question_asked_again_after_a_restart_is_the_same_question():
    # flows/pausing.py: a run restarted from the top while its question waited unanswered asks it under a new key.
    assert PauseKey.parse("call-12-again-1") == PauseKey.for_task(TaskKind.call, 12)
    assert PauseKey.parse("dispute-7-2-again-3") == PauseKey.for_task(TaskKind.dispute, 7, 2)
    assert PauseKey.parse("call-12-again-x") is None


def test_a_courtesy_call_woken_early_still_stands_until_collection_starts():
    early = datetime(2026, 3, 4, 12, tzinfo=AMSTERDAM)
    answer = answer_on_waking(Step.courtesy_call(), TaskStatus.open, None, OPEN, early, STARTS)
    assert answer.hand is Hand.not_yet and answer.until == STARTS


def test_a_courtesy_call_nobody_made_is_moot_once_collection_starts():
    answer = answer_on_waking(Step.courtesy_call(), TaskStatus.open, None, OPEN, STARTS, STARTS)
    assert (answer.hand, answer.why) == (Hand.moot, "the due date passed")


def test_a_question_about_a_paid_invoice_is_moot():
    answer = answer_on_waking(Step.call(1), TaskStatus.open, None, PAID, STARTS, STARTS)
    assert (answer.hand, answer.why) == (Hand.moot, "invoice paid")


def test_a_question_set_aside_is_handed_over_with_its_reason():
    answer = answer_on_waking(Step.approval("incasso"), TaskStatus.cancelled, "disputed", OPEN, STARTS, STARTS)
    assert (answer.hand, answer.why) == (Hand.set_aside, "disputed")


def test_an_answer_recorded_from_the_cli_is_handed_to_the_run():
    assert answer_on_waking(Step.call(1), TaskStatus.done, None, OPEN, STARTS, STARTS).hand is Hand.recorded


def test_an_open_question_about_an_unpaid_invoice_waits_for_its_person():
    assert answer_on_waking(Step.call(1), TaskStatus.open, None, OPEN, STARTS, STARTS).hand is Hand.nothing
