"""The collection ladder as a pure decision over facts, policy and the clock: no database, no Prefect."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dunning.domain.kinds import DebtorKind, TaskStatus
from dunning.domain.ladder import (
    ApprovalFact,
    Approve,
    BreakPlan,
    Call,
    CallFact,
    Close,
    DisputeFact,
    Facts,
    HandOff,
    Park,
    PlanFact,
    RefuseIncasso,
    Send,
    Wait,
    decide,
    incasso_gate,
    next_try,
)
from dunning.domain.policy import DEFAULT, Policy
from dunning.domain.steps import Step
from dunning.domain.time import AMSTERDAM

DUE = date(2026, 3, 2)  # a Monday; with 3 days grace the first call is due Thursday 5 March at 09:00


S = Step.parse  # steps written as they are stored: "betaalafspraak@call-2"


def _steps(changes: dict) -> dict:
    """Facts' `attempted` keyed by step texts, as tests write them, keyed by steps."""
    if "attempted" in changes:
        changes["attempted"] = {S(k) if isinstance(k, str) else k: v for k, v in changes["attempted"].items()}
    return changes


def at(y: int, m: int, d: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=AMSTERDAM)


def unpaid(**changes) -> Facts:
    base = Facts(
        invoice_number="F-1",
        debtor_kind=DebtorKind.consumer,
        due_date=DUE,
        amount=Decimal("100.00"),
        open_amount=Decimal("100.00"),
    )
    return replace(base, **_steps(changes))


def not_reached(step: str = "call-1", when: datetime | None = None) -> CallFact:
    return CallFact(S(step), TaskStatus.done, reached=False, at=when or at(2026, 3, 5, 9, 45))


ONE_TRY = Policy(call_attempts=1)
INCASSO_QUESTION = "Hand this invoice to the incasso agency? The debtor is told first."


def promised(step: str, on: date) -> CallFact:
    return CallFact(S(step), TaskStatus.done, reached=True, promised_on=on)


def confirmed(*calls: CallFact) -> Facts:
    """Unpaid, with every promise among `calls` already confirmed to the debtor in writing."""
    sent = {f"betaalafspraak@{c.step}": at(2026, 3, 2, 10) for c in calls if c.promised_on}
    return unpaid(calls=calls, attempted=sent)


def approved(step: str) -> ApprovalFact:
    return ApprovalFact(S(step), TaskStatus.done, approved=True, by="Anna")


HERINNERING_AT = at(2026, 3, 5, 10)
AANMANING_AT = at(2026, 3, 12, 9)
INGEBREKESTELLING_AT = at(2026, 3, 27, 9, 30)
DEADLINE = date(2026, 4, 10)


def after_herinnering(**changes) -> Facts:
    facts = unpaid(
        calls=(not_reached(),),
        attempted={"herinnering": HERINNERING_AT},
        evidence={"herinnering": HERINNERING_AT},
    )
    return replace(facts, **_steps(changes))


def after_aanmaning(**changes) -> Facts:
    moments = {"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT}
    return replace(after_herinnering(attempted=dict(moments), evidence=dict(moments)), **_steps(changes))


def after_ingebrekestelling(**changes) -> Facts:
    moments = {"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT, "ingebrekestelling": INGEBREKESTELLING_AT}
    facts = after_aanmaning(
        approvals={"ingebrekestelling": approved("approve-ingebrekestelling")},
        attempted=dict(moments),
        evidence=dict(moments),
        term_deadline=DEADLINE,
        presumed_delivery=DEADLINE - timedelta(days=14),
    )
    return replace(facts, **_steps(changes))


# --- before the ladder starts ------------------------------------------------------------------------------


def test_waits_until_due_date_plus_grace_days_at_the_working_hour():
    action = decide(unpaid(), DEFAULT, at(2026, 3, 5, 8, 59))
    assert action == Wait(at(2026, 3, 5, 9), "due date 2026-03-02 plus 3 days grace")


def test_waits_on_the_due_date_itself():
    assert isinstance(decide(unpaid(), DEFAULT, at(2026, 3, 2, 12)), Wait)


def test_wake_up_is_nine_oclock_amsterdam_time_across_the_summer_time_change():
    # Summer time starts on Sunday 29 March 2026: 09:00 in Amsterdam is 07:00 UTC that day, 08:00 the day before.
    action = decide(unpaid(due_date=date(2026, 3, 26)), DEFAULT, at(2026, 3, 27))
    assert isinstance(action, Wait)
    assert action.until.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_grace_days_come_from_the_policy():
    first_call = Call(S("call-1"), "first call after the due date")
    assert decide(unpaid(), Policy(grace_days=0), at(2026, 3, 2, 9)) == first_call


# --- calling ----------------------------------------------------------------------------------------------


def test_first_call_when_grace_is_over():
    assert decide(unpaid(), DEFAULT, at(2026, 3, 5, 9)) == Call(S("call-1"), "first call after the due date")


def test_open_call_keeps_the_run_waiting_for_its_outcome():
    facts = unpaid(calls=(CallFact(S("call-1"), TaskStatus.open),))
    assert decide(facts, DEFAULT, at(2026, 3, 20)) == Call(S("call-1"), "waiting for the call outcome")


def test_open_call_sends_nothing_even_weeks_later():
    facts = unpaid(calls=(CallFact(S("call-1"), TaskStatus.open),))
    assert not isinstance(decide(facts, DEFAULT, at(2026, 6, 1)), Send)


def test_debtor_not_reached_gets_the_herinnering_when_the_policy_allows_one_try():
    assert decide(unpaid(calls=(not_reached(),)), ONE_TRY, at(2026, 3, 5, 10)) == Send(S("herinnering"))


def test_debtor_reached_without_a_promise_gets_the_herinnering():
    facts = unpaid(calls=(CallFact(S("call-1"), TaskStatus.done, reached=True),))
    assert decide(facts, DEFAULT, at(2026, 3, 5, 10)) == Send(S("herinnering"))


def test_a_promise_is_confirmed_in_writing_first():
    facts = unpaid(calls=(promised("call-1", date(2026, 3, 10)),))
    assert decide(facts, DEFAULT, at(2026, 3, 5, 10)) == Send(S("betaalafspraak@call-1"))


def test_promise_waits_until_nine_on_the_day_after_the_promised_date():
    facts = confirmed(promised("call-1", date(2026, 3, 10)))
    for now in (at(2026, 3, 5, 10), at(2026, 3, 10, 23, 59), at(2026, 3, 11, 8, 59)):
        assert decide(facts, DEFAULT, now) == Wait(at(2026, 3, 11, 9), "payment promised on 2026-03-10")


def test_broken_promise_creates_call_next_day():
    facts = unpaid(calls=(promised("call-1", date(2026, 3, 10)),))
    expected = Call(S("call-2"), "promise of 2026-03-10 broken", date(2026, 3, 10))
    assert decide(facts, DEFAULT, at(2026, 3, 11, 9)) == expected


def test_second_call_not_reached_gets_the_herinnering():
    facts = unpaid(calls=(promised("call-1", date(2026, 3, 10)), not_reached("call-2")))
    assert decide(facts, ONE_TRY, at(2026, 3, 11, 11)) == Send(S("herinnering"))


def test_after_max_calls_of_broken_promises_the_herinnering_goes_out():
    calls = (
        promised("call-1", date(2026, 3, 10)),
        promised("call-2", date(2026, 3, 13)),
        promised("call-3", date(2026, 3, 17)),
    )
    policy = Policy(max_calls=3)
    assert isinstance(decide(confirmed(*calls), policy, at(2026, 3, 17, 12)), Wait)
    assert decide(confirmed(*calls), policy, at(2026, 3, 18, 9)) == Send(S("herinnering"))
    third = Call(S("call-3"), "promise of 2026-03-13 broken", date(2026, 3, 13))
    assert decide(confirmed(*calls[:2]), policy, at(2026, 3, 14, 9)) == third


def test_max_calls_comes_from_the_policy():
    facts = unpaid(calls=(promised("call-1", date(2026, 3, 10)),))
    assert decide(facts, Policy(max_calls=1), at(2026, 3, 11, 9)) == Send(S("herinnering"))


# --- writing ----------------------------------------------------------------------------------------------


def test_aanmaning_waits_for_the_policy_delay_after_the_herinnering():
    # herinnering on 5 March + 7 days: 12 March at 09:00
    assert decide(after_herinnering(), DEFAULT, at(2026, 3, 12, 8, 59)) == Wait(at(2026, 3, 12, 9), "aanmaning is due")
    assert decide(after_herinnering(), DEFAULT, at(2026, 3, 12, 9)) == Send(S("aanmaning"))


def test_aanmaning_delay_counts_from_the_amsterdam_date_of_the_herinnering():
    late_evening = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)  # 6 March 00:30 in Amsterdam
    facts = unpaid(calls=(not_reached(),), attempted={"herinnering": late_evening})
    assert decide(facts, DEFAULT, at(2026, 3, 12, 9)) == Wait(at(2026, 3, 13, 9), "aanmaning is due")


def test_refused_herinnering_still_moves_the_ladder_on():
    # Refused for lack of an e-mail address: attempted, but no evidence.
    facts = unpaid(calls=(not_reached(),), attempted={"herinnering": HERINNERING_AT})
    assert decide(facts, DEFAULT, at(2026, 3, 12, 9)) == Send(S("aanmaning"))


def test_approval_is_asked_once_the_aanmaning_term_has_run():
    # aanmaning on 12 March + 14 days term + 1: 27 March at 09:00
    assert decide(after_aanmaning(), DEFAULT, at(2026, 3, 27, 8, 59)) == Wait(
        at(2026, 3, 27, 9), "the aanmaning's term runs"
    )
    assert decide(after_aanmaning(), DEFAULT, at(2026, 3, 27, 9)) == Approve(
        S("approve-ingebrekestelling"), "Send the ingebrekestelling?"
    )


def test_open_approval_keeps_the_ingebrekestelling_back():
    facts = after_aanmaning(
        approvals={"ingebrekestelling": ApprovalFact(S("approve-ingebrekestelling"), TaskStatus.open)}
    )
    question = Approve(S("approve-ingebrekestelling"), "Send the ingebrekestelling?")
    assert decide(facts, DEFAULT, at(2026, 4, 20)) == question


def test_approved_ingebrekestelling_is_sent():
    facts = after_aanmaning(approvals={"ingebrekestelling": approved("approve-ingebrekestelling")})
    assert decide(facts, DEFAULT, at(2026, 3, 27, 10)) == Send(S("ingebrekestelling"))


def test_rejected_approval_closes_as_stopped():
    rejection = ApprovalFact(
        S("approve-ingebrekestelling"), TaskStatus.done, approved=False, by="Anna", reason="goodwill"
    )
    facts = after_aanmaning(approvals={"ingebrekestelling": rejection})
    assert decide(facts, DEFAULT, at(2026, 3, 27, 10)) == Close("stopped")


# --- the term of the ingebrekestelling ----------------------------------------------------------------------


def test_business_term_without_a_stated_deadline_runs_the_policy_days():
    # No deadline was recorded (the letter was not sent): the business term of 14 days applies, from 27 March.
    facts = after_ingebrekestelling(debtor_kind=DebtorKind.business, term_deadline=None)
    assert decide(facts, DEFAULT, at(2026, 4, 11, 8, 59)) == Wait(
        at(2026, 4, 11, 9), "the ingebrekestelling's term runs until 2026-04-10"
    )


def test_stated_term_deadline_decides_when_the_term_has_run():
    # A consumer's 14-dagenbrief: the law module moved the deadline past the Easter days to 14 April.
    facts = after_ingebrekestelling(term_deadline=date(2026, 4, 14))
    assert decide(facts, DEFAULT, at(2026, 4, 15, 8, 59)) == Wait(
        at(2026, 4, 15, 9), "the ingebrekestelling's term runs until 2026-04-14"
    )
    assert decide(facts, DEFAULT, at(2026, 4, 15, 9)) == Approve(S("approve-incasso"), INCASSO_QUESTION
    )


def test_business_and_consumer_terms_differ_by_the_stated_deadline():
    business = after_ingebrekestelling(debtor_kind=DebtorKind.business, term_deadline=date(2026, 4, 10))
    consumer = after_ingebrekestelling(debtor_kind=DebtorKind.consumer, term_deadline=date(2026, 4, 14))
    now = at(2026, 4, 11, 9)
    assert isinstance(decide(business, DEFAULT, now), Approve)
    term = Wait(at(2026, 4, 15, 9), "the ingebrekestelling's term runs until 2026-04-14")
    assert decide(consumer, DEFAULT, now) == term


# --- incasso ----------------------------------------------------------------------------------------------


def test_incasso_needs_an_approval_after_the_term():
    assert decide(after_ingebrekestelling(), DEFAULT, at(2026, 4, 11, 9)) == Approve(
        S("approve-incasso"), INCASSO_QUESTION
    )


def test_approved_incasso_is_announced_to_the_debtor_and_handed_off_when_its_term_has_run():
    approvals = {
        "ingebrekestelling": approved("approve-ingebrekestelling"),
        "incasso": approved("approve-incasso"),
    }
    facts = after_ingebrekestelling(approvals=approvals)
    assert decide(facts, DEFAULT, at(2026, 4, 11, 9)) == Send(S("incasso-aankondiging"))
    announced = replace(facts, attempted={**facts.attempted, S("incasso-aankondiging"): at(2026, 4, 13, 9, 5)})
    # Seven days' notice (policy), then the hand-off on the next working moment.
    assert decide(announced, DEFAULT, at(2026, 4, 20, 12)) == Wait(
        at(2026, 4, 21, 9), "the incasso announcement's term runs"
    )
    assert decide(announced, DEFAULT, at(2026, 4, 21, 9)) == HandOff()


def test_rejected_incasso_closes_as_stopped():
    rejection = ApprovalFact(S("approve-incasso"), TaskStatus.done, approved=False, by="Anna", reason="too small")
    facts = after_ingebrekestelling(
        approvals={"ingebrekestelling": approved("approve-ingebrekestelling"), "incasso": rejection}
    )
    assert decide(facts, DEFAULT, at(2026, 4, 11, 9)) == Close("stopped")


def test_incasso_refused_when_herinnering_was_refused_for_lack_of_an_email_address():
    facts = after_ingebrekestelling()
    facts = replace(facts, evidence={k: v for k, v in facts.evidence.items() if k != "herinnering"})
    assert S("herinnering") in facts.attempted
    assert decide(facts, DEFAULT, at(2026, 4, 11, 9)) == RefuseIncasso(("herinnering evidence",))


def test_incasso_gate_names_everything_missing():
    assert incasso_gate(unpaid(), at(2026, 6, 1)) == (
        "herinnering evidence",
        "aanmaning evidence",
        "ingebrekestelling evidence",
    )


def test_incasso_gate_refuses_while_the_term_has_not_expired():
    facts = after_ingebrekestelling(debtor_kind=DebtorKind.business, term_deadline=date(2026, 4, 10))
    assert incasso_gate(facts, at(2026, 4, 10, 23, 59)) == ("an expired term (it runs until 2026-04-10)",)
    assert incasso_gate(facts, at(2026, 4, 11, 0, 0)) == ()


def test_incasso_gate_judges_the_term_on_the_amsterdam_date():
    facts = after_ingebrekestelling(term_deadline=date(2026, 4, 10))
    # 10 April 22:30 UTC is already 11 April in Amsterdam.
    assert incasso_gate(facts, datetime(2026, 4, 10, 22, 30, tzinfo=UTC)) == ()
    assert incasso_gate(facts, datetime(2026, 4, 10, 21, 30, tzinfo=UTC)) != ()


def test_incasso_gate_refuses_without_a_recorded_deadline():
    assert incasso_gate(after_ingebrekestelling(term_deadline=None), at(2026, 6, 1)) == (
        "the ingebrekestelling's deadline",
    )


def test_incasso_gate_passes_with_all_evidence_and_an_expired_term():
    assert incasso_gate(after_ingebrekestelling(), at(2026, 4, 11, 9)) == ()


# --- payments ---------------------------------------------------------------------------------------------

STAGES = {
    "before grace": (unpaid(), at(2026, 3, 3)),
    "first call due": (unpaid(), at(2026, 3, 5, 9)),
    "open call": (unpaid(calls=(CallFact(S("call-1"), TaskStatus.open),)), at(2026, 3, 6)),
    "promise pending": (unpaid(calls=(promised("call-1", date(2026, 3, 10)),)), at(2026, 3, 8)),
    "broken promise": (unpaid(calls=(promised("call-1", date(2026, 3, 10)),)), at(2026, 3, 11, 9)),
    "herinnering due": (unpaid(calls=(not_reached(),)), at(2026, 3, 5, 10)),
    "aanmaning due": (after_herinnering(), at(2026, 3, 12, 9)),
    "approval asked": (after_aanmaning(), at(2026, 3, 27, 9)),
    "term running": (after_ingebrekestelling(), at(2026, 4, 1)),
    "incasso due": (after_ingebrekestelling(), at(2026, 4, 11, 9)),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_fully_paid_at_any_stage_closes_as_paid(stage):
    facts, now = STAGES[stage]
    assert decide(replace(facts, open_amount=Decimal("0.00")), DEFAULT, now) == Close("paid")


def test_overpaid_closes_as_paid():
    assert decide(unpaid(open_amount=Decimal("-5.00")), DEFAULT, at(2026, 3, 5, 9)) == Close("paid")


@pytest.mark.parametrize("stage", list(STAGES))
def test_partial_payment_does_not_close(stage):
    facts, now = STAGES[stage]
    partly_paid = replace(facts, open_amount=Decimal("0.01"))
    assert decide(partly_paid, DEFAULT, now) == decide(facts, DEFAULT, now)
    assert not isinstance(decide(partly_paid, DEFAULT, now), Close)


def test_a_closed_invoice_stays_closed_for_its_reason():
    facts = replace(after_ingebrekestelling(), closed_reason="incasso")
    assert decide(facts, DEFAULT, at(2026, 5, 1)) == Close("incasso")


def test_incasso_gate_needs_the_consumers_14_dagenbrief_delivery_date():
    facts = after_ingebrekestelling(presumed_delivery=None)
    assert incasso_gate(facts, at(2026, 6, 1)) == ("the 14-dagenbrief's presumed delivery date",)


def test_incasso_gate_counts_14_days_from_the_day_after_presumed_delivery_for_consumers():
    # A deadline stated too early (here: before delivery + 14) never shortens the consumer's term.
    facts = after_ingebrekestelling(term_deadline=date(2026, 4, 3), presumed_delivery=date(2026, 3, 27))
    assert incasso_gate(facts, at(2026, 4, 10, 12)) == (
        "14 days since the 14-dagenbrief's presumed delivery on 2026-03-27",
    )
    assert incasso_gate(facts, at(2026, 4, 11, 7)) == ()


# --- contact windows (Wki: not 20:00-07:00, not on Sundays or Atw holidays) -------------------------------------


def test_call_due_on_saturday_night_is_offered_on_monday_at_seven():
    saturday_night = at(2026, 3, 7, 21, 30)
    assert decide(unpaid(), DEFAULT, saturday_night) == Wait(
        at(2026, 3, 9, 7), "outside contact hours: not 20:00-07:00, Sundays or holidays"
    )
    assert decide(unpaid(), DEFAULT, at(2026, 3, 9, 7)) == Call(S("call-1"), "first call after the due date")


def test_no_message_goes_out_on_a_sunday_or_on_kings_day():
    facts = after_herinnering()
    sunday = at(2026, 3, 22, 10)
    assert isinstance(decide(facts, DEFAULT, sunday), Wait)
    kings_day = at(2026, 4, 27, 10)
    assert decide(facts, DEFAULT, kings_day).until == at(2026, 4, 28, 7)


def test_a_call_already_waiting_for_its_outcome_is_not_deferred_at_night():
    facts = unpaid(calls=(CallFact(S("call-1"), TaskStatus.open),))
    assert decide(facts, DEFAULT, at(2026, 3, 7, 23)) == Call(S("call-1"), "waiting for the call outcome")


# --- not reached: more tries at other times of day ----------------------------------------------------------


def test_not_reached_in_the_morning_is_tried_again_that_afternoon():
    facts = unpaid(calls=(not_reached(when=at(2026, 3, 6, 10)),))  # a Friday
    assert decide(facts, DEFAULT, at(2026, 3, 6, 11)) == Wait(
        at(2026, 3, 6, 14), "debtor not reached (1 of 3 tries); try again then"
    )
    assert decide(facts, DEFAULT, at(2026, 3, 6, 14)) == Call(S("call-2"), "not reached at try 1 of 3")


def test_the_third_try_is_on_the_next_working_morning_and_then_we_write():
    calls = (not_reached("call-1", at(2026, 3, 6, 10)), not_reached("call-2", at(2026, 3, 6, 14, 20)))
    assert next_try(calls[-1].at, DEFAULT) == at(2026, 3, 9, 9, 30)  # Monday: over two working days
    assert decide(unpaid(calls=calls), DEFAULT, at(2026, 3, 9, 9, 30)) == Call(S("call-3"), "not reached at try 2 of 3")
    three = (*calls, not_reached("call-3", at(2026, 3, 9, 9, 40)))
    assert decide(unpaid(calls=three), DEFAULT, at(2026, 3, 9, 9, 41)) == Send(S("herinnering"))


def test_a_try_never_falls_on_a_holiday():
    # Tried Friday 24 April 2026 in the afternoon: the weekend and King's Day (Monday 27th) are skipped.
    assert next_try(at(2026, 4, 24, 15), DEFAULT) == at(2026, 4, 28, 9, 30)


# -- disputes and payment plans ------------------------------------------------------------------------------


def disputed(status: TaskStatus = TaskStatus.open, upheld: bool | None = None, resolved: datetime | None = None):
    return DisputeFact(S("dispute-1"), status, upheld=upheld, resolved_at=resolved)


def test_an_open_dispute_stands_still_without_a_wake_up_whatever_was_due():
    facts = after_herinnering(disputes=(disputed(),))
    assert decide(facts, DEFAULT, at(2026, 5, 1)) == Park("dispute-1 is being sorted out: escalation stands still")


def test_a_rejected_dispute_is_explained_to_the_debtor_before_the_ladder_goes_on():
    facts = after_herinnering(disputes=(disputed(TaskStatus.done, upheld=False, resolved=at(2026, 4, 1, 11)),))
    assert decide(facts, DEFAULT, at(2026, 4, 1, 11)) == Send(S("betwisting-afgewezen@dispute-1"))


def test_after_a_rejected_dispute_the_next_step_waits_its_delay_from_the_rejection():
    rejected = at(2026, 4, 1, 11)
    facts = after_herinnering(
        disputes=(disputed(TaskStatus.done, upheld=False, resolved=rejected),),
        attempted={"herinnering": HERINNERING_AT, "betwisting-afgewezen@dispute-1": rejected},
    )
    # The aanmaning was due 12 March; escalation took up again on 1 April, so it goes 7 days after that.
    assert decide(facts, DEFAULT, at(2026, 4, 1, 12)) == Wait(at(2026, 4, 8), "aanmaning is due")
    assert decide(facts, DEFAULT, at(2026, 4, 8)) == Send(S("aanmaning"))


def test_a_call_set_aside_for_a_dispute_is_made_after_the_rejection():
    facts = unpaid(
        calls=(CallFact(S("call-1"), TaskStatus.cancelled),),
        disputes=(disputed(TaskStatus.done, upheld=False, resolved=at(2026, 3, 6, 11)),),
        attempted={"betwisting-afgewezen@dispute-1": at(2026, 3, 6, 11)},
    )
    assert decide(facts, DEFAULT, at(2026, 3, 6, 12)) == Call(S("call-2"), "escalation takes up again: call first")


def test_an_approval_set_aside_is_asked_again_as_a_new_question():
    facts = after_herinnering(
        attempted={"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT},
        approvals={"ingebrekestelling": ApprovalFact(S("approve-ingebrekestelling"), TaskStatus.cancelled)},
    )
    action = decide(facts, DEFAULT, at(2026, 4, 20))
    assert action == Approve(S("approve-ingebrekestelling@2"), "Send the ingebrekestelling?")


def plan(paid: str = "0.00", **changes) -> PlanFact:
    base = PlanFact(
        plan_id=7,
        active=True,
        instalments=((date(2026, 4, 1), Decimal("40.00")), (date(2026, 5, 1), Decimal("60.00"))),
        paid_since=Decimal(paid),
    )
    return replace(base, **_steps(changes))


def test_a_payment_plan_is_confirmed_in_writing_first():
    assert decide(after_herinnering(plan=plan()), DEFAULT, at(2026, 3, 20)) == Send(S("betalingsregeling@plan-7"))


def with_plan(paid: str = "0.00", **changes) -> Facts:
    attempted = {"herinnering": HERINNERING_AT, "betalingsregeling@plan-7": at(2026, 3, 20)}
    return after_herinnering(plan=plan(paid, **changes), attempted=attempted)


def test_a_payment_plan_waits_instalment_by_instalment_with_grace_days():
    # 5 days grace: the first instalment (1 April) is checked on 7 April at 09:00.
    assert decide(with_plan(), DEFAULT, at(2026, 3, 20)) == Wait(
        at(2026, 4, 7), "payment plan: instalment 1 of 2 (40.00 due 2026-04-01), 5 days grace"
    )
    assert decide(with_plan("40.00"), DEFAULT, at(2026, 4, 7)) == Wait(
        at(2026, 5, 7), "payment plan: instalment 2 of 2 (60.00 due 2026-05-01), 5 days grace"
    )


def test_a_missed_instalment_breaks_the_plan():
    action = decide(with_plan("25.00"), DEFAULT, at(2026, 4, 7))
    assert action == BreakPlan(7, "instalment 1 of 2 (40.00 due 2026-04-01) not paid in full: 25.00 of 40.00 "
                                  "paid under the plan")


def test_a_kept_plan_completes_the_case():
    assert decide(with_plan("100.00"), DEFAULT, at(2026, 5, 2)) == Close("paid")


def test_after_a_broken_plan_the_ladder_takes_up_again_from_the_break():
    broken = at(2026, 4, 7)
    facts = with_plan("25.00", active=False, broken_at=broken)
    assert decide(facts, DEFAULT, broken) == Wait(at(2026, 4, 14), "aanmaning is due")


# -- a payment plan asked for on the phone ---------------------------------------------------------------------

ASKED = at(2026, 3, 5, 10, 30)  # Thursday 5 March, the first call


def asked_for_a_plan(**changes) -> CallFact:
    return replace(CallFact(S("call-1"), TaskStatus.done, reached=True, at=ASKED, plan_requested=True), **changes)


def test_a_debtor_who_asks_for_a_payment_plan_gets_no_herinnering_while_it_is_being_agreed():
    facts = unpaid(calls=(asked_for_a_plan(),))
    # 5 days (policy plan_request_days) for someone to agree the plan: until Tuesday 10 March at 09:00.
    waiting = Wait(at(2026, 3, 10), "payment plan asked for on 2026-03-05: waiting for it to be agreed (dunning plan)")
    assert decide(facts, DEFAULT, ASKED) == waiting
    assert decide(facts, DEFAULT, at(2026, 3, 9, 17)) == waiting


def test_a_plan_request_nobody_agreed_lets_the_ladder_go_on():
    facts = unpaid(calls=(asked_for_a_plan(),))
    assert decide(facts, DEFAULT, at(2026, 3, 10)) == Send(S("herinnering"))
    assert decide(facts, replace(DEFAULT, plan_request_days=0), ASKED) == Send(S("herinnering"))


def test_a_plan_agreed_after_the_request_answers_it_even_once_broken():
    agreed = replace(plan(), agreed_at=at(2026, 3, 6, 11))
    facts = unpaid(calls=(asked_for_a_plan(),), plan=agreed)
    assert decide(facts, DEFAULT, at(2026, 3, 6, 12)) == Send(S("betalingsregeling@plan-7")
    )
    broken = replace(agreed, active=False, broken_at=at(2026, 4, 7))
    facts = unpaid(calls=(asked_for_a_plan(),), plan=broken, attempted={"betalingsregeling@plan-7": at(2026, 3, 6)})
    assert decide(facts, DEFAULT, at(2026, 4, 7)) == Send(S("herinnering"))


def test_a_promised_date_goes_before_a_plan_request_made_in_the_same_call():
    call = asked_for_a_plan(promised_on=date(2026, 3, 20))
    assert decide(unpaid(calls=(call,)), DEFAULT, ASKED) == Send(S("betaalafspraak@call-1"))


def test_a_promise_of_part_of_the_amount_kept_earns_a_call_about_the_rest_not_a_broken_promise():
    call = CallFact(S("call-1"), TaskStatus.done, reached=True, promised_on=date(2026, 3, 10),
                    promised_amount=Decimal("40.00"), open_at_call=Decimal("100.00"))
    kept = replace(confirmed(call), open_amount=Decimal("60.00"))
    action = decide(kept, DEFAULT, at(2026, 3, 11))
    assert action == Call(S("call-2"), "promise of 2026-03-10 kept; 60.00 still open: agree the rest")
    short = replace(confirmed(call), open_amount=Decimal("70.00"))
    assert decide(short, DEFAULT, at(2026, 3, 11)).broken_promise == date(2026, 3, 10)


# -- the courtesy call before the due date -------------------------------------------------------------------

LATE_PAYER = (20, 12, 15)  # days late on the last three paid invoices: 15.7 on average


def test_a_debtor_who_paid_late_before_gets_a_courtesy_call_days_before_the_due_date():
    facts = unpaid(past_lateness=LATE_PAYER)
    # Due Monday 2 March: the courtesy call is on Friday 27 February at 09:00.
    assert decide(facts, DEFAULT, at(2026, 2, 20)) == Wait(at(2026, 2, 27), "courtesy call 3 days before the due date")
    action = decide(facts, DEFAULT, at(2026, 2, 27))
    assert isinstance(action, Call) and action.step == S("courtesy-call")
    assert "paid late before (16 days on average)" in action.reason


@pytest.mark.parametrize("history", [(), (20, 12), (5, 10, 15), (30, 0, 0)])
def test_no_courtesy_call_for_a_debtor_without_a_history_of_paying_late(history):
    facts = unpaid(past_lateness=history)
    assert decide(facts, DEFAULT, at(2026, 2, 27)) == Wait(at(2026, 3, 5), "due date 2026-03-02 plus 3 days grace")


def test_after_the_courtesy_call_the_run_waits_for_the_due_date_as_usual():
    done = CallFact(S("courtesy-call"), TaskStatus.done, reached=True, at=at(2026, 2, 27, 9, 30))
    facts = unpaid(past_lateness=LATE_PAYER, courtesy_call=done)
    assert decide(facts, DEFAULT, at(2026, 2, 27, 10)) == Wait(at(2026, 3, 5), "due date 2026-03-02 plus 3 days grace")
    assert decide(facts, DEFAULT, at(2026, 3, 5)) == Call(S("call-1"), "first call after the due date")


def test_a_courtesy_call_nobody_made_gives_way_to_the_collection_call():
    set_aside = CallFact(S("courtesy-call"), TaskStatus.cancelled)
    facts = unpaid(past_lateness=LATE_PAYER, courtesy_call=set_aside)
    assert decide(facts, DEFAULT, at(2026, 3, 5)) == Call(S("call-1"), "first call after the due date")


def test_courtesy_calls_are_off_when_the_policy_counts_no_invoices():
    facts = unpaid(past_lateness=LATE_PAYER)
    policy = Policy(late_payer_invoices=0)
    assert decide(facts, policy, at(2026, 2, 27)) == Wait(at(2026, 3, 5), "due date 2026-03-02 plus 3 days grace")


def test_a_disputed_invoice_paid_in_full_closes_instead_of_standing_still():
    facts = after_herinnering(disputes=(disputed(),), open_amount=Decimal("0.00"))
    assert decide(facts, DEFAULT, at(2026, 4, 1)) == Close("paid")


def test_a_rejected_dispute_is_explained_even_while_a_payment_plan_runs():
    facts = with_plan()
    facts = replace(facts, disputes=(disputed(TaskStatus.done, upheld=False, resolved=at(2026, 3, 21)),))
    assert decide(facts, DEFAULT, at(2026, 3, 21)) == Send(S("betwisting-afgewezen@dispute-1"))


def test_the_hand_off_waits_its_notice_again_after_a_dispute_that_stood_still():
    announced, rejected = at(2026, 4, 20), at(2026, 5, 20, 11)
    facts = after_herinnering(
        attempted={"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT, "ingebrekestelling": INGEBREKESTELLING_AT,
                   "incasso-aankondiging": announced, "betwisting-afgewezen@dispute-1": rejected},
        evidence={"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT, "ingebrekestelling": INGEBREKESTELLING_AT},
        term_deadline=DEADLINE,
        presumed_delivery=date(2026, 3, 30),
        approvals={"ingebrekestelling": approved("approve-ingebrekestelling"),
                   "incasso": approved("approve-incasso")},
        disputes=(disputed(TaskStatus.done, upheld=False, resolved=rejected),),
    )
    assert decide(facts, DEFAULT, at(2026, 5, 20, 12)) == Wait(at(2026, 5, 28), "the incasso announcement's term runs")


def test_a_policy_without_approvals_sends_the_ingebrekestelling_and_hands_off_without_asking():
    no_approvals = Policy(approvals=())
    facts = after_herinnering(attempted={"herinnering": HERINNERING_AT, "aanmaning": AANMANING_AT})
    assert decide(facts, no_approvals, at(2026, 4, 20)) == Send(S("ingebrekestelling"))


def test_a_copy_of_the_invoice_promised_on_the_phone_goes_out_once():
    call = CallFact(S("call-1"), TaskStatus.done, reached=True, at=at(2026, 3, 5, 9, 30), send_copy=True)
    facts = unpaid(calls=(call,))
    assert decide(facts, DEFAULT, at(2026, 3, 5, 9, 31)) == Send(S("factuurkopie@call-1"))
    sent = replace(facts, attempted={S("factuurkopie@call-1"): at(2026, 3, 5, 9, 31)})
    assert decide(sent, DEFAULT, at(2026, 3, 5, 9, 32)) == Send(S("herinnering"))
