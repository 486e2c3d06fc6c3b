"""The resume forms in one language (settings.toml `language`): the words change, nothing else does. The field
names are what answers are stored and resumed under, the schema's rules are what the Prefect server checks an
answer against, so both must be the same in every language."""

from __future__ import annotations

import copy

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema
from prefect.utilities.schema_tools.validation import build_error_obj, validate
from pydantic import ValidationError

from dunning.domain.errors import UserError
from dunning.storage import config
from flows.forms import (
    ApprovalForm,
    CallForm,
    DisputeForm,
    Form,
    PaymentForm,
    approval_form,
    call_form,
    dispute_form,
    payment_form,
)

FORMS = (CallForm, ApprovalForm, DisputeForm, PaymentForm)
LANGUAGES = ("nl", "en")


def _stored_schema(form: type[Form]) -> dict:
    """The schema as RunInput saves it when a run pauses (`with_initial_data` makes a subclass, as the flow)."""
    paused_on = form.with_initial_data(description="sheet")
    return create_v2_schema(paused_on.__name__, model_base=paused_on)


def _without_words(schema: dict) -> dict:
    schema = copy.deepcopy(schema)
    for field in schema["properties"].values():
        field.pop("title", None)
        field.pop("description", None)
    return schema


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
def test_a_form_in_either_language_has_the_same_fields_and_rules_and_words_for_every_field(form, language):
    translated = form.in_language(language)
    assert issubclass(translated, form) and translated.__name__ == form.__name__
    assert list(translated.model_fields) == list(form.model_fields)
    schema = _stored_schema(translated)
    assert _without_words(schema) == _without_words(_stored_schema(form))
    for name, field in schema["properties"].items():
        # A choice's title may come from its definition (pydantic leaves out a title the same as the one there).
        title = field.get("title") or schema["definitions"][field["$ref"].split("/")[-1]]["title"]
        assert title == translated.model_fields[name].title and field["description"], name
        # One language, not two glued together ("Reached the debtor? / Debiteur bereikt?").
        assert " / " not in title + field["description"], title


def test_the_titles_are_in_the_language_asked_for():
    assert call_form("nl").model_fields["reached"].title == "Debiteur bereikt?"
    assert call_form("en").model_fields["reached"].title == "Reached the debtor?"
    assert approval_form("nl").model_fields["reason"].title == "Reden van afwijzen"
    assert approval_form("en").model_fields["reason"].title == "Reason for rejecting"
    assert dispute_form("nl").model_fields["verdict"].title == "Uitkomst"
    assert payment_form("en").model_fields["invoices"].title == "Invoices"
    assert call_form("nl") is call_form("nl"), "made once per language"


def test_the_rules_hold_in_either_language_on_the_server_and_in_the_run():
    for language in LANGUAGES:
        refused = build_error_obj(validate({"decision": "reject", "approver": "Marie"},
                                           _stored_schema(approval_form(language))))
        assert refused["errors"] == [{"property": "reason", "errors": ["'reason' is a required property"]}]
        [error] = build_error_obj(validate({"reached": True, "promised_amount": "ten"},
                                           _stored_schema(call_form(language))))["errors"]
        assert error["property"] == "promised_amount"
    with pytest.raises(ValidationError, match="afwijzen kan alleen met een reden"):
        approval_form("nl")(decision="reject", approver="Marie", reason=" ")
    with pytest.raises(ValidationError, match="a rejection needs a reason"):
        approval_form("en")(decision="reject", approver="Marie", reason=" ")
    with pytest.raises(ValidationError, match="geef de reden"):
        dispute_form("nl")(verdict="rejected", resolved_by="Marie")
    with pytest.raises(ValidationError, match="noem de facturen"):
        payment_form("nl")(decision="match", by="Anna")
    with pytest.raises(ValidationError, match="say what it is instead"):
        payment_form("en")(decision="not a debtor payment", by="Anna")


def test_an_answer_reads_the_same_in_either_language():
    values = {"reached": True, "spoke_with": "J. de Vries", "promised_payment_date": "2026-01-16", "collector": "Anna"}
    assert call_form("nl")(**values).outcome() == call_form("en")(**values).outcome() == CallForm(**values).outcome()


def test_the_domain_errors_name_the_fields_as_the_form_shows_them():
    assert dispute_form("nl").labels() == {
        "credit": "'Creditbedrag'", "reason": "'Reden'", "by": "'Uw naam'",
        "write_off": "'Afboeken in plaats van creditnota'",
    }
    assert dispute_form("en").labels()["credit"] == "'Credit amount'"
    assert payment_form("nl").labels() == {
        "invoice": "Facturen", "amount": "Bedragen", "line": "deze regel", "reason": "Wat het wel is",
    }
    assert payment_form("en").labels() == {
        "invoice": "Invoices", "amount": "Amounts", "line": "this line", "reason": "What it is instead",
    }
    # An instance answers too: the flow asks the answer it was handed.
    form = dispute_form("nl")(verdict="upheld", resolved_by="Marie")
    assert form.labels() == dispute_form("nl").labels()


def test_the_language_setting_is_nl_unless_settings_toml_says_en_and_nothing_else(tmp_path):
    assert config.load(tmp_path).language == "nl"
    (tmp_path / "settings.toml").write_text('language = "en"\n', encoding="utf-8")
    assert config.load(tmp_path).language == "en"
    (tmp_path / "settings.toml").write_text('language = "de"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"settings.toml: language: nl or en, got 'de'"):
        config.load(tmp_path)
