"""What is due now for one invoice: a pure function over a snapshot of facts, the policy and the clock.

Recompute, don't count: every wake-up re-reads the facts and asks `decide` again, so a replay, a payment or a
changed policy is handled by the same code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from dunning.domain.kinds import DebtorKind, TaskStatus
from dunning.domain.policy import Policy
from dunning.domain.steps import LADDER, Message, Step
from dunning.domain.time import AMSTERDAM
from dunning.law import is_atw_holiday, may_contact, next_contact_moment


def confirmation_of(call: Step) -> Step:
    """One confirmation per promise: the step names the call it confirms ("betaalafspraak@call-2")."""
    return Step.send(Message.betaalafspraak, about=call)


@dataclass(frozen=True)
class CallFact:
    step: Step
    status: TaskStatus
    reached: bool | None = None
    promised_on: date | None = None
    at: datetime | None = None  # when the outcome was recorded
    promised_amount: Decimal | None = None  # None: all that was open
    open_at_call: Decimal | None = None
    send_copy: bool = False  # the collector promised a copy of the invoice
    plan_requested: bool = False  # the debtor asked to pay in instalments

    def promise_kept(self, open_now: Decimal) -> bool:
        """A promise of part of the amount is kept once that part came in since the call."""
        if self.promised_amount is None or self.open_at_call is None:
            return open_now <= 0
        return open_now <= self.open_at_call - self.promised_amount


@dataclass(frozen=True)
class ApprovalFact:
    step: Step
    status: TaskStatus
    approved: bool | None = None
    by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DisputeFact:
    step: Step  # dispute-1
    status: TaskStatus  # open while it is being sorted out
    upheld: bool | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class PlanFact:
    plan_id: int
    active: bool
    instalments: tuple[tuple[date, Decimal], ...]  # (due on, amount), in order
    paid_since: Decimal = Decimal("0.00")  # paid on the invoice since the plan was agreed
    broken_at: datetime | None = None
    agreed_at: datetime | None = None

    @property
    def step(self) -> Step:
        return Step.plan(self.plan_id)


@dataclass(frozen=True)
class Facts:
    invoice_number: str
    debtor_kind: DebtorKind
    due_date: date
    amount: Decimal
    open_amount: Decimal
    closed_reason: str | None = None
    calls: tuple[CallFact, ...] = ()
    # what is approved ("ingebrekestelling", "incasso") -> the latest time it was asked
    approvals: dict[str, ApprovalFact] = field(default_factory=dict)
    # message step -> when it was dealt with: sent, or refused (no address); the ladder moves on either way
    attempted: dict[Step, datetime] = field(default_factory=dict)
    # message -> when its evidence was recorded (only messages that went out count)
    evidence: dict[Message, datetime] = field(default_factory=dict)
    # the deadline the ingebrekestelling gave (the law module computes it when the letter goes out)
    term_deadline: date | None = None
    # when the consumer's 14-dagenbrief is presumed delivered (BW 6:96 lid 6: the 14 days start the day after)
    presumed_delivery: date | None = None
    disputes: tuple[DisputeFact, ...] = ()
    plan: PlanFact | None = None  # the latest payment plan
    # days late of the debtor's last paid invoices, latest first (0 for one paid on time)
    past_lateness: tuple[int, ...] = ()
    courtesy_call: CallFact | None = None

    @property
    def resumed_at(self) -> datetime | None:
        """When escalation last took up again after standing still: a dispute rejected, a plan broken. The
        ladder's next step counts its delay from then, so the debtor is not hit by two steps at once."""
        # A dispute upheld in part (a credit, the rest still open) stood still as long as a rejected one.
        moments = [d.resolved_at for d in self.disputes if d.status is TaskStatus.done and d.resolved_at]
        if self.plan is not None and self.plan.broken_at is not None:
            moments.append(self.plan.broken_at)
        return max(moments, default=None)


# Actions: what the run should do next.
@dataclass(frozen=True)
class Close:
    reason: str  # paid | incasso | stopped


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Park:
    """Stand still until a person changes the facts (a dispute being sorted out): no wake-up time."""

    reason: str


@dataclass(frozen=True)
class BreakPlan:
    plan_id: int
    reason: str


@dataclass(frozen=True)
class Call:
    step: Step
    reason: str
    broken_promise: date | None = None  # the promised day that passed unpaid, noted in the dossier


@dataclass(frozen=True)
class Approve:
    step: Step
    question: str


@dataclass(frozen=True)
class Send:
    step: Step


@dataclass(frozen=True)
class HandOff:
    pass


@dataclass(frozen=True)
class RefuseIncasso:
    missing: tuple[str, ...]


Action = Close | Wait | Park | BreakPlan | Call | Approve | Send | HandOff | RefuseIncasso


def working_moment(day: date, policy: Policy) -> datetime:
    """A wake-up on `day` at the policy's working hour, Amsterdam time."""
    return datetime.combine(day, policy.working_hour, tzinfo=AMSTERDAM)


def decide(facts: Facts, policy: Policy, now: datetime, law_dir: Path | None = None) -> Action:
    action = _next_step(facts, policy, now, law_dir)
    if _contacts_debtor(action, facts) and not may_contact(now, law_dir):
        return Wait(next_contact_moment(now, law_dir), "outside contact hours: not 20:00-07:00, Sundays or holidays")
    return action


def _contacts_debtor(action: Action, facts: Facts) -> bool:
    """A message, or a call task not yet offered (one already waiting for its outcome stays where it is)."""
    if isinstance(action, Send):
        return True
    offered = [*facts.calls, *([facts.courtesy_call] if facts.courtesy_call else [])]
    return isinstance(action, Call) and not any(c.step == action.step for c in offered)


def _next_step(facts: Facts, policy: Policy, now: datetime, law_dir: Path | None) -> Action:
    if facts.closed_reason:
        return Close(facts.closed_reason)
    on_plan = facts.plan is not None and facts.plan.active
    if facts.open_amount <= 0 and not on_plan:
        return Close("paid")  # paid while disputed, too: nothing left to sort out
    # A copy of the invoice escalates nothing: it goes even while a dispute is sorted out (it may settle it).
    for call in (*([facts.courtesy_call] if facts.courtesy_call else []), *facts.calls):
        copy = Step.send(Message.factuurkopie, about=call.step)
        if call.send_copy and copy not in facts.attempted:
            return Send(copy)
    open_dispute = next((d for d in facts.disputes if d.status is TaskStatus.open), None)
    if open_dispute is not None:
        return Park(f"{open_dispute.step} is being sorted out: escalation stands still")
    rejected = _untold_rejection(facts)
    if rejected is not None:
        return Send(rejected)
    if facts.plan is not None and facts.plan.active:
        return _plan_step(facts.plan, facts, policy, now)
    if facts.open_amount <= 0:
        return Close("paid")

    start = collection_starts(facts.due_date, policy)
    courtesy = _courtesy_call(facts, policy, now, start)
    if courtesy is not None:
        return courtesy
    if now < start:
        return Wait(start, f"due date {facts.due_date.isoformat()} plus {policy.grace_days} days grace")

    herinnering, aanmaning, ingebrekestelling = (Step.send(m) for m in LADDER)
    if herinnering not in facts.attempted:
        call_phase = _call_phase(facts, policy, now, law_dir)
        if call_phase is not None:
            return call_phase
        return Send(herinnering)

    if aanmaning not in facts.attempted:
        at = working_moment(_since(facts, herinnering) + timedelta(days=policy.aanmaning_after_days), policy)
        return Wait(at, "aanmaning is due") if now < at else Send(aanmaning)

    if ingebrekestelling not in facts.attempted:
        at = working_moment(_since(facts, aanmaning) + timedelta(days=policy.aanmaning_term_days + 1), policy)
        if now < at:
            return Wait(at, "the aanmaning's term runs")
        question = "Send the ingebrekestelling?"
        if Message.ingebrekestelling not in policy.approvals:
            return Send(ingebrekestelling)
        return _approved_or(Message.ingebrekestelling.value, question, facts, Send(ingebrekestelling))

    deadline = facts.term_deadline or (
        facts.attempted[ingebrekestelling].astimezone(AMSTERDAM).date()
        + timedelta(days=policy.business_term_days)
    )
    at = working_moment(deadline + timedelta(days=1), policy)
    if now < at:
        return Wait(at, f"the ingebrekestelling's term runs until {deadline.isoformat()}")
    missing = incasso_gate(facts, now)
    if missing:
        return RefuseIncasso(missing)
    question = "Hand this invoice to the incasso agency? The debtor is told first."
    approved: Action = HandOff()
    if "incasso" in policy.approvals:
        approved = _approved_or("incasso", question, facts, HandOff())
    if not isinstance(approved, HandOff):
        return approved
    # The debtor hears of the hand-off before it happens, with a last chance to pay.
    announcement = Step.send(Message.incasso_aankondiging)
    if announcement not in facts.attempted:
        return Send(announcement)
    at = working_moment(_since(facts, announcement) + timedelta(days=policy.incasso_notice_days + 1), policy)
    return Wait(at, "the incasso announcement's term runs") if now < at else HandOff()


def collection_starts(due_date: date, policy: Policy) -> datetime:
    """The first moment collection may start: the due date plus the policy's grace days, at the working hour."""
    return working_moment(due_date + timedelta(days=policy.grace_days), policy)


def usually_late(past_lateness: tuple[int, ...], policy: Policy) -> bool:
    """Paid late before: the last `late_payer_invoices` paid invoices averaged more than `late_payer_days` late."""
    last = past_lateness[: policy.late_payer_invoices]
    if policy.late_payer_invoices == 0 or len(last) < policy.late_payer_invoices:
        return False
    return sum(last) / len(last) > policy.late_payer_days


def courtesy_call_moment(due_date: date, policy: Policy) -> datetime:
    return working_moment(due_date - timedelta(days=policy.courtesy_call_days), policy)


def _courtesy_call(facts: Facts, policy: Policy, now: datetime, start: datetime) -> Action | None:
    """Before the due date, a known late payer is called: invoice received, approved, anything unclear?"""
    if not usually_late(facts.past_lateness, policy):
        return None
    if facts.courtesy_call is not None:
        if facts.courtesy_call.status is TaskStatus.open:
            return Call(Step.courtesy_call(), "courtesy call before the due date: waiting for its outcome")
        return None
    at = courtesy_call_moment(facts.due_date, policy)
    if now >= start or facts.calls:
        return None  # the due date has passed: the collection call takes over
    if now < at:
        return Wait(at, f"courtesy call {policy.courtesy_call_days} days before the due date")
    days = sum(facts.past_lateness[: policy.late_payer_invoices]) / policy.late_payer_invoices
    why = f"courtesy call: paid late before ({days:.0f} days on average); invoice received, approved, anything unclear?"
    return Call(Step.courtesy_call(), why)


def _since(facts: Facts, step: Step) -> date:
    """The day a step's delay counts from: when it was sent, or when escalation took up again after it."""
    moments = [facts.attempted[step], facts.resumed_at or facts.attempted[step]]
    return max(moments).astimezone(AMSTERDAM).date()


def _plan_step(plan: PlanFact, facts: Facts, policy: Policy, now: datetime) -> Action:
    """A payment plan: confirm it, then wait instalment by instalment; one missed beyond the grace days breaks
    it (and the ladder takes up again), all paid completes the case."""
    confirmation = Step.send(Message.betalingsregeling, about=plan.step)
    if confirmation not in facts.attempted:
        return Send(confirmation)
    due = Decimal("0.00")
    for n, (day, amount) in enumerate(plan.instalments, start=1):
        due += amount
        if plan.paid_since >= due:
            continue
        check = working_moment(day + timedelta(days=policy.plan_grace_days + 1), policy)
        of = f"instalment {n} of {len(plan.instalments)} ({amount} due {day.isoformat()})"
        if now < check:
            return Wait(check, f"payment plan: {of}, {policy.plan_grace_days} days grace")
        return BreakPlan(plan.plan_id, f"{of} not paid in full: {plan.paid_since} of {due} paid under the plan")
    return Close("paid")


def _untold_rejection(facts: Facts) -> Step | None:
    """A rejected dispute is explained to the debtor once, before the ladder goes on."""
    for d in facts.disputes:
        step = Step.send(Message.betwisting_afgewezen, about=d.step)
        if d.upheld is False and step not in facts.attempted:
            return step
    return None


def _call_phase(facts: Facts, policy: Policy, now: datetime, law_dir: Path | None) -> Action | None:
    """Call first, then write. None when calling is over and the herinnering should go out."""
    if not facts.calls:
        return Call(Step.call(1), "first call after the due date")
    last = facts.calls[-1]
    if last.status is TaskStatus.open:
        return Call(last.step, "waiting for the call outcome")
    if last.status is TaskStatus.cancelled:
        # Set aside for a dispute or a payment plan that did not end the case: the call is still to be made.
        return Call(Step.call(len(facts.calls) + 1), "escalation takes up again: call first")
    tries = _unreached_streak(facts.calls)
    if tries and tries < policy.call_attempts and len(facts.calls) < policy.max_calls and last.at is not None:
        at = next_try(last.at, policy, law_dir)
        if now < at:
            return Wait(at, f"debtor not reached ({tries} of {policy.call_attempts} tries); try again then")
        return Call(Step.call(len(facts.calls) + 1), f"not reached at try {tries} of {policy.call_attempts}")
    asked = unanswered_plan_request(facts)
    if asked is not None and now < (at := plan_request_ends(asked, policy)):
        day = asked_on(asked).isoformat()
        return Wait(at, f"payment plan asked for on {day}: waiting for it to be agreed (dunning plan)")
    if last.reached and last.promised_on:
        # A promise is checked the day after the promised date; a broken one gets a call at once.
        at = working_moment(last.promised_on + timedelta(days=1), policy)
        if now < at and confirmation_of(last.step) not in facts.attempted:
            return Send(confirmation_of(last.step))
        if now < at:
            return Wait(at, f"payment promised on {last.promised_on.isoformat()}")
        if last.promise_kept(facts.open_amount) and len(facts.calls) < policy.max_calls:
            reason = f"promise of {last.promised_on.isoformat()} kept; {facts.open_amount} still open: agree the rest"
            return Call(Step.call(len(facts.calls) + 1), reason)
        if len(facts.calls) < policy.max_calls:
            reason = f"promise of {last.promised_on.isoformat()} broken"
            return Call(Step.call(len(facts.calls) + 1), reason, broken_promise=last.promised_on)
    return None


def unanswered_plan_request(facts: Facts) -> CallFact | None:
    """The last call, when in it the debtor asked to pay in instalments (promising no date) and no plan was
    agreed since (kept, broken or running: each answers the request). Escalation waits for it a while."""
    last = facts.calls[-1] if facts.calls else None
    if last is None or last.status is not TaskStatus.done or last.at is None:
        return None
    if not (last.reached and last.plan_requested) or last.promised_on:
        return None
    if facts.plan is not None and facts.plan.agreed_at is not None and facts.plan.agreed_at >= last.at:
        return None
    return last


def asked_on(call: CallFact) -> date:
    assert call.at is not None
    return call.at.astimezone(AMSTERDAM).date()


def plan_request_ends(call: CallFact, policy: Policy) -> datetime:
    """When escalation goes on if nobody agreed the payment plan asked for in `call`."""
    return working_moment(asked_on(call) + timedelta(days=policy.plan_request_days), policy)


# Tries at another part of the day: someone who cannot answer in the morning may in the afternoon.
TRY_SLOTS = (time(9, 30), time(14, 0))


def next_try(last: datetime, policy: Policy, law_dir: Path | None = None) -> datetime:
    """The first slot at least `call_retry_hours` after the last try, in the other part of the day, on a
    working day (Monday to Friday, no Atw holiday)."""
    earliest = last + timedelta(hours=policy.call_retry_hours)
    last_morning = last.astimezone(AMSTERDAM).hour < 12
    day = earliest.astimezone(AMSTERDAM).date()
    while True:
        if day.weekday() < 5 and not is_atw_holiday(day, law_dir):
            for slot in TRY_SLOTS:
                moment = datetime.combine(day, slot, tzinfo=AMSTERDAM)
                if moment >= earliest and (slot.hour < 12) != last_morning:
                    return moment
        day += timedelta(days=1)


def _unreached_streak(calls: tuple[CallFact, ...]) -> int:
    streak = 0
    for call in reversed(calls):
        if call.status is not TaskStatus.done or call.reached:
            break
        streak += 1
    return streak


def _approved_or(gate: str, question: str, facts: Facts, then: Action) -> Action:
    approval = facts.approvals.get(gate)
    if approval is None or approval.status is TaskStatus.open:
        return Approve(approval.step if approval else Step.approval(gate), question)
    if approval.status is TaskStatus.cancelled:
        # Set aside while escalation stood still: ask again, as a new question ("approve-incasso@2").
        return Approve(approval.step.again(), question)
    if not approval.approved:
        return Close("stopped")
    return then


def incasso_gate(facts: Facts, now: datetime) -> tuple[str, ...]:
    """What is missing before a case may go to incasso: the documented ladder and an expired term."""
    missing = [f"{step} evidence" for step in LADDER if step not in facts.evidence]
    today = now.astimezone(AMSTERDAM).date()
    if facts.term_deadline is None and Message.ingebrekestelling in facts.evidence:
        missing.append("the ingebrekestelling's deadline")
    elif facts.term_deadline is not None and today <= facts.term_deadline:
        missing.append(f"an expired term (it runs until {facts.term_deadline.isoformat()})")
    if facts.debtor_kind is DebtorKind.consumer and Message.ingebrekestelling in facts.evidence:
        # BW 6:96 lid 6: fourteen days, counted from the day after the 14-dagenbrief reached the consumer.
        if facts.presumed_delivery is None:
            missing.append("the 14-dagenbrief's presumed delivery date")
        elif today <= facts.presumed_delivery + timedelta(days=14):
            since = facts.presumed_delivery.isoformat()
            missing.append(f"14 days since the 14-dagenbrief's presumed delivery on {since}")
    return tuple(missing)
