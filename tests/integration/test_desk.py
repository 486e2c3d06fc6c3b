"""The collector's desk in the database, on SQLite and PostgreSQL: disputes, payment plans, one call per debtor
and combined messages; and the CLI verbs' mistakes, which leave the database as it was."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dunning.casework import answers, disputes, human_tasks, invoices, plans
from dunning.casework.human_tasks import CallOutcome
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, OutboxStatus, PaymentKind, PlanStatus, TaskKind, TaskStatus
from dunning.domain.steps import Step
from dunning.messaging import outbox
from dunning.messaging.outbox import Composed
from dunning.storage import db
from dunning.storage.models import DossierEntry, HumanTask, OutboxMessage, Payment, PaymentPlan
from tests.integration.test_storage import NOW, add_invoice, dunning, ok


def _counts(installation) -> tuple[int, ...]:
    with db.transaction(installation) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (HumanTask, PaymentPlan, Payment,
                                                                              DossierEntry))


@pytest.fixture
def two_invoices(installation):
    with db.transaction(installation) as s:
        add_invoice(s, "F-1", "300.00")
        add_invoice(s, "F-2", "200.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dispute", "F-1"], "a dispute needs a reason"),
        (["dispute", "F-404", "--reason", "x"], "unknown invoice 'F-404'"),
        (["dispute", "F-1", "--reason", "x", "--due", "tomorrow"], "--due: not a date (YYYY-MM-DD): 'tomorrow'"),
        (["dispute", "F-1", "--reason", "x", "--responsible", "M" * 101], "--responsible: at most 100 characters"),
        (["resolve", "F-1", "--upheld"], "invoice F-1 has no open dispute"),
        (["resolve", "F-1"], "say --upheld or --rejected"),
        (["plan", "F-1"], "a payment plan needs at least one --instalment DATE=AMOUNT"),
        (["plan", "F-1", "--instalment", "2026-04-01"], "instalment 1 '2026-04-01': write it as DATE=AMOUNT"),
        (["plan", "F-1", "--instalment", "2026-04-31=300.00"], "instalment 1 '2026-04-31=300.00': date"),
        (["plan", "F-1", "--instalment", "2026-04-01=3,0,0"], "instalment 1: amount: malformed amount '3,0,0'"),
        (["plan", "F-1", "--instalment", "2026-04-01=1e30"], "instalment 1: amount: malformed amount '1e30'"),
        (["plan", "F-1", "--instalment", "2026-04-01=150.00", "--instalment", "2026-03-31=150.00"],
         "instalment 2: 2026-03-31 is not after instalment 1"),
        (["plan", "F-1", "--instalment", "2026-04-01=100.00"],
         "the instalments add up to 100.00, but open 300.00 plus costs 0.00 is 300.00 (difference 200.00)"),
        (["plan", "F-1", "--instalment", "2026-04-01=300.00", "--costs", "abc"], "--costs: malformed amount 'abc'"),
        (["plan", "F-1", "--instalment", "2000-04-01=300.00"], "instalment 1: 2000-04-01 is in the past"),
        (["resolve", "F-1", "--upheld", "--credit", "1e30"], "--credit: malformed amount '1e30'"),
        # Field checks at the boundary, one rule with the import and the forms; the domain's neutral words
        # ("responsible", "credit") come out as the CLI's options.
        (["dispute", "F-1", "--reason", "x", "--responsible", "Marie\tB"], "--responsible: line breaks and other"),
        (["dispute", "F-1", "--reason", "bad\x01"], "--reason: contains a control character"),
        (["note", "F-1", "ok", "--by", "Anna\nB"], "--by: line breaks and other control characters"),
        (["dispute", "F-1", "--reason", "x", "--due", "2000-01-01"], "--due 2000-01-01 is in the past"),
    ],
)
def test_desk_mistakes_give_one_line_exit_code_2_and_change_nothing(installation, two_invoices, args, message):
    ok(installation, "clock", "set", "2026-03-05T10:00")
    before = _counts(installation)

    done = dunning(installation, *args)

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"dunning: error: {message}"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _counts(installation) == before


def test_a_dispute_is_a_task_with_a_person_and_a_due_date_and_a_second_one_waits_for_the_first(
    installation, two_invoices
):
    ok(installation, "clock", "set", "2026-03-05T10:00")
    out = ok(installation, "dispute", "F-1", "--reason", "Wrong price on line 3", "--responsible", "Marie")
    assert out == "F-1: dispute-1 registered, to be sorted out by 2026-03-15; escalation stands still\n"
    [row] = json.loads(ok(installation, "disputes", "--json"))
    assert (row["invoice"], row["responsible"], row["due_on"], row["reason"]) == (
        "F-1", "Marie", "2026-03-15", "Wrong price on line 3"
    )
    again = dunning(installation, "dispute", "F-1", "--reason", "again")
    assert again.returncode == 2 and "already disputed (dispute-1)" in again.stderr


def test_a_dispute_upheld_in_part_credits_that_part_and_the_rest_stays_open(installation, two_invoices):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        disputes.raise_dispute(s, invoice, "two chairs damaged", NOW)
        disputes.resolve(s, invoice, upheld=True, now=NOW, credit=Decimal("60.00"), reason="two chairs")
        assert invoices.open_amount(s, invoice) == Decimal("240.00")
        assert invoice.closed_reason is None
        [credit] = invoice.payments
        assert (credit.kind, credit.amount) == (PaymentKind.credit_note, Decimal("60.00"))
        # A credit is not a payment: it says nothing about the debtor's paying habits.
        assert invoices.lateness_history(s, invoice.debtor) == ()


def test_a_dispute_ends_a_running_payment_plan(installation, two_invoices):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        plan = plans.agree(s, invoice, [(date(2026, 4, 1), Decimal("300.00"))], NOW)
        disputes.raise_dispute(s, invoice, "not ordered", NOW)
        assert plan.status is PlanStatus.ended and plan.ended_because == "the invoice is disputed"
        with pytest.raises(UserError, match="is disputed"):
            plans.agree(s, invoice, [(date(2026, 4, 1), Decimal("300.00"))], NOW)


def test_a_plan_counts_only_payments_made_after_it_was_agreed(installation, two_invoices):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        invoices.register_payment(s, invoice, Decimal("100.00"), date(2026, 3, 1), NOW)
        plan = plans.agree(s, invoice, [(date(2026, 4, 1), Decimal("100.00")), (date(2026, 5, 1), Decimal("110.00"))],
                           NOW, costs=Decimal("10.00"))
        assert plan.paid_before == Decimal("100.00")
        with pytest.raises(UserError, match="already has a payment plan"):
            plans.agree(s, invoice, [(date(2026, 4, 1), Decimal("210.00"))], NOW)


def test_one_call_per_debtor_the_second_invoices_call_joins_the_first_and_is_answered_with_it(
    installation, two_invoices
):
    with db.transaction(installation) as s:
        first = human_tasks.open_call(s, invoices.get(s, "F-1"), Step.parse("call-1"), NOW)
        second = human_tasks.open_call(s, invoices.get(s, "F-2"), Step.parse("call-1"), NOW)
        assert second.joined_to_id == first.id and human_tasks.all_open(s) == [first]
        answers.complete_call(s, first, CallOutcome(reached=True, spoke_with="Jan", promised_on=date(2026, 3, 20),
                                                        promised_amount=Decimal("50.00"), by="Anna"), NOW)
        assert second.status is TaskStatus.done
        assert second.outcome["promised_on"] == "2026-03-20"
        assert second.outcome["promised_amount"] is None, "an amount is about the invoice it was named for"
        assert "one call with invoice F-1" in second.outcome["note"]
        assert invoices.get(s, "F-2").wake_at == NOW


def test_when_the_call_covering_others_goes_away_unanswered_they_stand_on_their_own(installation, two_invoices):
    with db.transaction(installation) as s:
        human_tasks.open_call(s, invoices.get(s, "F-1"), Step.parse("call-1"), NOW)
        second = human_tasks.open_call(s, invoices.get(s, "F-2"), Step.parse("call-1"), NOW)
        human_tasks.cancel_open(s, invoices.get(s, "F-1"), NOW, "invoice paid")
        assert second.joined_to_id is None and second.status is TaskStatus.open
        assert invoices.get(s, "F-2").wake_at == NOW
        assert human_tasks.all_open(s) == [second]


def test_a_courtesy_call_is_never_joined(installation, two_invoices):
    with db.transaction(installation) as s:
        human_tasks.open_call(s, invoices.get(s, "F-1"), Step.parse("courtesy-call"), NOW)
        second = human_tasks.open_call(s, invoices.get(s, "F-2"), Step.parse("call-1"), NOW)
        assert second.joined_to_id is None


def _composed() -> Composed:
    return Composed(recipient="jan@example.nl", subject="Herinnering", content=b"x", message_id="<m@x>", data={})


def test_a_combined_message_waiting_for_the_mail_server_is_voided_whole_when_one_invoice_is_disputed(
    installation, two_invoices
):
    with db.transaction(installation) as s:
        lead_invoice, other = invoices.get(s, "F-1"), invoices.get(s, "F-2")
        lead = outbox.prepare(s, lead_invoice, "herinnering", Channel.email, NOW, _composed)
        outbox.add_companions(s, lead, [(other, "herinnering")], {other: {}})
        [companion] = outbox.sent_with(s, lead)
        assert outbox.lead_of(s, companion) == lead
        disputes.raise_dispute(s, other, "not ordered", NOW + timedelta(hours=1))
        assert (lead.status, companion.status) == (OutboxStatus.voided, OutboxStatus.voided)
        assert outbox.next_attempt(s, lead_invoice, "herinnering", Channel.email) == 2
        statuses = s.scalars(select(OutboxMessage.status)).all()
        assert OutboxStatus.sent not in statuses
        assert not s.scalars(select(HumanTask).where(HumanTask.kind == TaskKind.call)).all()


def test_a_combined_message_is_claimed_for_sending_whole_or_not_at_all(installation, two_invoices):
    with db.transaction(installation) as s:
        lead_invoice, other = invoices.get(s, "F-1"), invoices.get(s, "F-2")
        lead = outbox.prepare(s, lead_invoice, "herinnering", Channel.email, NOW, _composed)
        outbox.add_companions(s, lead, [(other, "herinnering")], {other: {}})
        [companion] = outbox.sent_with(s, lead)
        companion.status = OutboxStatus.voided  # e.g. voided by another process just before
        s.flush()
        assert outbox.claim(s, [lead, companion], NOW) is False
    with db.transaction(installation) as s:
        # The failed claim was rolled back with its transaction in send_step; here nothing was committed
        # as sending: a fresh group claims once, and a second claim of the same rows fails.
        lead_invoice = invoices.get(s, "F-1")
        fresh = outbox.prepare(s, lead_invoice, "aanmaning", Channel.email, NOW, _composed)
        assert outbox.claim(s, [fresh], NOW) is True
        assert outbox.claim(s, [fresh], NOW) is False
        assert fresh.status is OutboxStatus.sending and fresh.tries == 1 and fresh.sent_at == NOW


def test_a_voided_message_is_followed_by_a_new_attempt_and_only_then(installation, two_invoices):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        assert outbox.next_attempt(s, invoice, "herinnering", Channel.email) == 1
        first = outbox.prepare(s, invoice, "herinnering", Channel.email, NOW, _composed)
        assert outbox.next_attempt(s, invoice, "herinnering", Channel.email) == 1
        first.status = OutboxStatus.voided
        s.flush()
        assert outbox.next_attempt(s, invoice, "herinnering", Channel.email) == 2
