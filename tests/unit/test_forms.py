"""The resume forms against the JSON schema the Prefect server checks answers with, and against the answers
the CLI resumes runs with (dunning/casework/answers.py: form_input)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema
from prefect.utilities.schema_tools.validation import build_error_obj, validate
from pydantic import ValidationError

from dunning.casework.answers import form_input, moot_form_input
from dunning.casework.disputes import Resolution
from dunning.casework.human_tasks import ApprovalAnswer, CallOutcome
from dunning.domain.kinds import TaskKind
from dunning.storage.models import HumanTask
from flows.forms import ApprovalForm, CallForm, DisputeForm


def _stored_schema(form: type) -> dict:
    """The schema as RunInput saves it when a run pauses (`with_initial_data` makes a subclass, as the flow)."""
    paused_on = form.with_initial_data(description="sheet")
    return create_v2_schema(paused_on.__name__, model_base=paused_on)


def _errors(values: dict, form: type) -> dict:
    return build_error_obj(validate(values, _stored_schema(form)))


@pytest.mark.parametrize(
    "outcome",
    [
        CallOutcome(reached=False, by="Anna"),
        CallOutcome(reached=True, spoke_with="J. de Vries", promised_on=date(2026, 1, 16), note="ok", by="Anna"),
        CallOutcome(
            reached=True, spoke_with="J. de Vries, owner", promised_on=date(2026, 1, 16), by="Anna",
            promised_amount=Decimal("150.00"), excuse="Payment run is next week", summarised=True,
            plan_requested=True, dispute="two chairs damaged",
        ),
    ],
)
def test_a_call_outcome_from_the_cli_passes_the_form_and_comes_back_unchanged(outcome):
    stored = {**outcome.as_data(), "open_at_call": "300.00"}  # as complete_call keeps it
    values = form_input(HumanTask(kind=TaskKind.call, outcome=stored))
    assert _errors(values, CallForm) == {"errors": [], "valid": True}
    assert CallForm(**values).outcome() == outcome


@pytest.mark.parametrize(
    "answer",
    [ApprovalAnswer(approved=True, by="Marie"), ApprovalAnswer(approved=False, by="Marie", reason="disputed")],
)
def test_an_approval_from_the_cli_passes_the_form_and_comes_back_unchanged(answer):
    values = form_input(HumanTask(kind=TaskKind.approval, outcome=asdict(answer)))
    assert _errors(values, ApprovalForm) == {"errors": [], "valid": True}
    assert ApprovalForm(**values).answer() == answer


@pytest.mark.parametrize(("reason", "message"), [("", "should be non-empty"), ("  ", "does not match")])
def test_rejecting_without_a_reason_is_an_error_on_the_reason_field(reason, message):
    values = {"decision": "reject", "approver": "Marie", "reason": reason}
    [error] = _errors(values, ApprovalForm)["errors"]
    assert error["property"] == "reason" and message in error["errors"][0]
    with pytest.raises(ValidationError, match="a rejection needs a reason"):
        ApprovalForm(**values)


def test_approving_needs_no_reason_and_a_rejection_without_one_is_refused_even_when_left_out():
    assert _errors({"decision": "approve", "approver": "Marie"}, ApprovalForm)["valid"]
    assert ApprovalForm(decision="approve", approver="Marie").answer() == ApprovalAnswer(approved=True, by="Marie")
    [error] = _errors({"decision": "reject", "approver": "Marie"}, ApprovalForm)["errors"]
    assert error == {"property": "reason", "errors": ["'reason' is a required property"]}


@pytest.mark.parametrize("amount", ["150", "150.5", "150.50", " 99.00 ", ""])
def test_a_promised_amount_in_plain_digits_passes_the_form(amount):
    values = {"reached": True, "promised_payment_date": "2026-01-16", "promised_amount": amount}
    assert _errors(values, CallForm) == {"errors": [], "valid": True}


@pytest.mark.parametrize("amount", ["150,00", "-5", "1e3", "12.345", "ten"])
def test_a_promised_amount_that_is_not_an_amount_is_an_error_on_that_field(amount):
    values = {"reached": True, "promised_payment_date": "2026-01-16", "promised_amount": amount}
    [error] = _errors(values, CallForm)["errors"]
    assert error["property"] == "promised_amount"


def test_what_was_heard_counts_only_when_the_debtor_was_reached():
    form = CallForm(reached=False, excuse="x", dispute="y", plan_requested=True, summarised=True,
                    promised_payment_date=date(2026, 1, 16), promised_amount="10.00")
    assert form.outcome() == CallOutcome(reached=False)


@pytest.mark.parametrize(
    ("outcome", "resolution"),
    [
        ({"upheld": True, "resolution": None, "resolved_by": "Marie"}, Resolution(upheld=True, by="Marie")),
        ({"upheld": True, "resolution": "goodwill", "resolved_by": None}, Resolution(True, "unknown", "goodwill")),
        ({"upheld": False, "resolution": "delivered", "resolved_by": "Marie"}, Resolution(False, "Marie", "delivered")),
    ],
)
def test_a_dispute_resolved_from_the_cli_passes_the_form(outcome, resolution):
    stored = {"reason": "two chairs damaged", "raised_by": "Anna", **outcome}  # as resolve keeps it
    values = form_input(HumanTask(kind=TaskKind.dispute, outcome=stored))
    assert _errors(values, DisputeForm) == {"errors": [], "valid": True}
    assert DisputeForm(**values).resolution() == resolution


def test_a_set_aside_dispute_resumes_its_run_with_an_answer_the_form_takes():
    values = moot_form_input(HumanTask(kind=TaskKind.dispute, outcome={"cancelled": "paid"}), "invoice paid")
    assert _errors(values, DisputeForm) == {"errors": [], "valid": True}


@pytest.mark.parametrize(("reason", "message"), [("", "should be non-empty"), ("  ", "does not match")])
def test_rejecting_a_dispute_without_a_reason_is_an_error_on_the_reason_field(reason, message):
    values = {"verdict": "rejected", "resolved_by": "Marie", "reason": reason}
    [error] = _errors(values, DisputeForm)["errors"]
    assert error["property"] == "reason" and message in error["errors"][0]
    with pytest.raises(ValidationError, match="give the reason"):
        DisputeForm(**values)


def test_a_dispute_upheld_in_part_credits_the_amount_given_and_a_rejection_credits_nothing():
    form = DisputeForm(verdict="upheld", credit=" 80.00 ", write_off=True, resolved_by=" Marie ")
    assert form.resolution() == Resolution(upheld=True, by="Marie", credit=Decimal("80.00"), write_off=True)
    rejected = DisputeForm(verdict="rejected", credit="80.00", write_off=True, reason="delivered", resolved_by="M")
    assert rejected.resolution() == Resolution(upheld=False, by="M", reason="delivered")
    [error] = _errors({"verdict": "upheld", "credit": "80,00", "resolved_by": "M"}, DisputeForm)["errors"]
    assert error["property"] == "credit"


@pytest.mark.parametrize(
    ("form", "values"),
    [
        (CallForm, {"reached": True, "spoke_with": "Jan\tde Vries"}),
        (CallForm, {"reached": True, "note": "called\x01 back"}),
        (ApprovalForm, {"decision": "approve", "approver": "Anna\nB"}),
        (DisputeForm, {"verdict": "rejected", "reason": "no\x07", "resolved_by": "Marie"}),
    ],
)
def test_the_forms_refuse_what_the_import_and_the_cli_refuse_tabs_and_control_characters(form, values):
    """The same rule as `dunning.domain.fields`, in the schema the Prefect server checks before resuming."""
    with pytest.raises(ValidationError):
        form(**values)


def test_a_note_may_span_lines_on_the_form():
    assert CallForm(reached=True, note="first line\nsecond line\tindented").note.count("\n") == 1
