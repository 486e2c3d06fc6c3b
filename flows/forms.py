"""The forms a person fills in the Prefect UI to resume a paused run, in the installation's language.

Only add fields with defaults: a run may sit paused on an older form for weeks across a deploy. The server
checks an answer against the JSON schema stored when the run paused, and the UI shows that check's errors
under the field, so a rule that must never crash a run lives in the schema as well as in a validator.

Each form is defined once, without words (`CallForm`, ...: field names, types, rules, validators); the UI
builds the form from the schema of its version in one language (`call_form("nl")`, ...), which adds a title
and a description to every field and changes nothing else. The field names are what answers are stored and
resumed under (the CLI's `dunning call`, the sweep's recorded answers), so they never change with the
language; nor do the values of a choice ("approve", "reject", ...), which the descriptions explain."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, Self

from prefect.input import RunInput
from pydantic import ConfigDict, Field, create_model, model_validator

from dunning.casework.disputes import Resolution
from dunning.casework.human_tasks import ApprovalAnswer, CallOutcome
from dunning.domain.fields import LINE_PATTERN, TEXT_PATTERN

# Per field: its title and description in each language (settings.toml `language`).
Texts = dict[str, dict[str, tuple[str, str]]]


class Form(RunInput):
    """What the forms share: their words in one language."""

    form_language: ClassVar[str] = "en"  # of the validators' messages; the words come with `in_language`
    texts: ClassVar[Texts] = {}
    messages: ClassVar[dict[str, dict[str, str]]] = {}

    @classmethod
    def in_language(cls, language: str) -> type[Self]:
        """This form with every field's title and description in `language` ("nl" or "en")."""
        return _in_language(cls, language)

    @classmethod
    def title_of(cls, name: str) -> str:
        return cls.model_fields[name].title or name

    def _message(self, key: str) -> str:
        return self.messages[key][self.form_language]


@cache
def _in_language(form: type[Form], language: str) -> Any:
    fields: dict[str, Any] = {}
    for name, info in form.model_fields.items():
        title, description = form.texts[name][language]
        default = {} if info.is_required() else {"default": info.default}
        # The field's rules (pattern, lengths) are its metadata: kept as they are, only the words are added.
        rules = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = (rules, Field(**default, title=title, description=description))
    model = create_model(form.__name__, __base__=form, __module__=form.__module__, **fields)
    model.form_language = language
    return model


class CallForm(Form):
    texts = {
        "reached": {
            "en": ("Reached the debtor?", "On: you spoke with someone who can arrange payment. Off: no answer, "
                   "voicemail, wrong number; the next attempt or the written reminder follows."),
            "nl": ("Debiteur bereikt?", "Aan: u sprak iemand die de betaling kan regelen. Uit: geen gehoor, "
                   "voicemail, verkeerd nummer; een nieuwe poging of de herinnering volgt."),
        },
        "spoke_with": {
            "en": ("Spoke with", "Name and role, e.g. 'J. de Vries, owner'."),
            "nl": ("Gesproken met", "Naam en functie, bijv. 'J. de Vries, eigenaar'."),
        },
        "promised_payment_date": {
            "en": ("Promised payment date", "Only when reached: the date the debtor promised to pay (choose "
                   "'date'); unpaid by then, a new call follows the day after."),
            "nl": ("Toegezegde betaaldatum", "Alleen als bereikt: de datum waarop de debiteur toezegt te betalen "
                   "(kies 'date'); niet betaald, dan volgt de dag erna een nieuw gesprek."),
        },
        "promised_amount": {
            "en": ("Promised amount", "Only with a promised date: the amount promised, e.g. 150.00; empty means the "
                   "whole open amount."),
            "nl": ("Toegezegd bedrag", "Alleen bij een toegezegde datum: het toegezegde bedrag, bijv. 150.00; leeg "
                   "is het hele open bedrag."),
        },
        "excuse": {
            "en": ("Excuse heard", "One from the list on the call sheet (e.g. 'Invoice not received') or your own "
                   "words."),
            "nl": ("Gehoord excuus", "Een uit de lijst op het belblad (bijv. 'Factuur niet ontvangen') of uw eigen "
                   "woorden."),
        },
        "dispute": {
            "en": ("Disputes the invoice", "Only if the debtor contests the invoice: what, in a sentence. Escalation "
                   "of this invoice then stops until the dispute is sorted out."),
            "nl": ("Betwist de factuur", "Alleen als de debiteur de factuur betwist: wat, in een zin. Deze factuur "
                   "escaleert dan niet verder tot de betwisting is opgelost."),
        },
        "plan_requested": {
            "en": ("Asks for a payment plan", "The debtor cannot pay at once and asks to pay in instalments: "
                   "escalation waits a few days for the plan to be agreed (daily overview)."),
            "nl": ("Vraagt een betalingsregeling", "De debiteur kan niet in een keer betalen en vraagt om termijnen: "
                   "de escalatie wacht een paar dagen tot de regeling is afgesproken (dagoverzicht)."),
        },
        "send_copy": {
            "en": ("Send a copy of the invoice", "The debtor did not receive the invoice or lost it: a copy goes out "
                   "by their channel right away."),
            "nl": ("Stuur een kopie van de factuur", "De debiteur heeft de factuur niet (meer): er gaat meteen een "
                   "kopie uit, via het kanaal van de debiteur."),
        },
        "summarised": {
            "en": ("Agreement summarised to the debtor?", "On: you read the agreement back before hanging up."),
            "nl": ("Afspraak samengevat?", "Aan: u heeft de afspraak herhaald voor het ophangen."),
        },
        "note": {
            "en": ("What was said", "The excuse you heard and what was agreed, as you summarised it to the debtor; "
                   "goes into the dossier."),
            "nl": ("Wat is er gezegd", "Het gehoorde excuus en de afspraak, zoals u die samenvatte; komt in het "
                   "dossier."),
        },
        "collector": {
            "en": ("Your name", "Recorded in the dossier as who made the call."),
            "nl": ("Uw naam", "Komt in het dossier als wie er belde."),
        },
    }

    reached: bool
    spoke_with: str = Field("", pattern=LINE_PATTERN, max_length=200)
    promised_payment_date: date | None = None
    promised_amount: str = Field("", pattern=r"^\s*(\d{1,12}(\.\d{1,2})?)?\s*$", max_length=20)
    excuse: str = Field("", pattern=LINE_PATTERN, max_length=200)
    dispute: str = Field("", pattern=TEXT_PATTERN, max_length=500)
    plan_requested: bool = False
    send_copy: bool = False
    summarised: bool = False
    note: str = Field("", pattern=TEXT_PATTERN, max_length=2000)
    collector: str = Field("", pattern=LINE_PATTERN, max_length=100)

    def outcome(self) -> CallOutcome:
        reached = self.reached
        promised_on = self.promised_payment_date if reached else None
        amount = self.promised_amount.strip()
        return CallOutcome(
            reached=reached,
            spoke_with=self.spoke_with.strip(),
            promised_on=promised_on,
            note=self.note.strip(),
            by=self.collector.strip(),
            promised_amount=Decimal(amount) if amount and promised_on and Decimal(amount) > 0 else None,
            excuse=self.excuse.strip() if reached else "",
            summarised=self.summarised and reached,
            dispute=self.dispute.strip() if reached else "",
            plan_requested=self.plan_requested and reached,
            send_copy=self.send_copy and reached,
        )


class Decision(enum.StrEnum):
    approve = "approve"
    reject = "reject"


def _reason_required_when(field: str, value: str) -> list[dict]:
    """JSON Schema form of a validator "this choice needs a reason": the server refuses such an answer and the
    UI's Resume dialog shows the message under "reason". Two rules so an empty reason gets the plain message
    ("should be non-empty") and only a blank one the pattern's."""
    chosen = {"properties": {field: {"const": value}}, "required": [field]}
    return [
        {"if": chosen, "then": {"properties": {"reason": {"minLength": 1}}, "required": ["reason"]}},
        {
            "if": {**chosen, "properties": {**chosen["properties"], "reason": {"minLength": 1}}},
            "then": {"properties": {"reason": {"pattern": r"\S"}}},
        },
    ]


# A rejection needs a reason, in the schema as well as in the validator below.
_REASON_RULES = _reason_required_when("decision", Decision.reject.value)


class ApprovalForm(Form):
    model_config = ConfigDict(json_schema_extra={"allOf": _REASON_RULES})
    texts = {
        "decision": {
            "en": ("Decision", "approve: the step goes ahead as described above. reject: it does not; say why "
                   "below."),
            "nl": ("Besluit", "approve: de stap gaat door zoals hierboven beschreven. reject: niet; geef hieronder "
                   "de reden."),
        },
        "approver": {
            "en": ("Your name", "Recorded in the dossier as who decided."),
            "nl": ("Uw naam", "Komt in het dossier als wie besliste."),
        },
        "reason": {
            "en": ("Reason for rejecting", "Required when you reject: why not. Goes into the dossier."),
            "nl": ("Reden van afwijzen", "Verplicht bij afwijzen: waarom niet. Komt in het dossier."),
        },
    }
    messages = {"reason": {"en": "a rejection needs a reason", "nl": "afwijzen kan alleen met een reden"}}

    decision: Decision
    approver: str = Field(min_length=1, pattern=LINE_PATTERN, max_length=100)
    reason: str = Field("", pattern=TEXT_PATTERN, max_length=2000)

    @model_validator(mode="after")
    def _a_rejection_needs_a_reason(self) -> Self:
        if self.decision is Decision.reject and not self.reason.strip():
            raise ValueError(self._message("reason"))
        return self

    def answer(self) -> ApprovalAnswer:
        return ApprovalAnswer(
            approved=self.decision is Decision.approve, by=self.approver.strip(), reason=self.reason.strip()
        )


class Verdict(enum.StrEnum):
    upheld = "upheld"
    rejected = "rejected"


# A rejected dispute is explained to the debtor: the reason is required (the debtor receives it).
_RESOLUTION_RULES = _reason_required_when("verdict", Verdict.rejected.value)


class DisputeForm(Form):
    model_config = ConfigDict(json_schema_extra={"allOf": _RESOLUTION_RULES})
    texts = {
        "verdict": {
            "en": ("Outcome", "upheld: the debtor is right; a credit note (or write-off) is recorded and, for all "
                   "that is open, the case closes. rejected: the invoice stands; the debtor is told the reason below "
                   "and escalation goes on where it stopped."),
            "nl": ("Uitkomst", "upheld: de debiteur heeft gelijk; er komt een creditnota (of afboeking) en voor het "
                   "hele open bedrag sluit de zaak. rejected: de factuur blijft staan; de debiteur krijgt de reden "
                   "hieronder en de escalatie gaat verder waar ze stond."),
        },
        "credit": {
            "en": ("Credit amount", "Only when upheld in part: the amount credited, e.g. 80.00; empty means all that "
                   "is open."),
            "nl": ("Creditbedrag", "Alleen bij gedeeltelijk gelijk: het gecrediteerde bedrag, bijv. 80.00; leeg is "
                   "het hele open bedrag."),
        },
        "write_off": {
            "en": ("Write off instead of a credit note", "Only when upheld: the amount is written off (e.g. a "
                   "goodwill gesture) rather than credited."),
            "nl": ("Afboeken in plaats van creditnota", "Alleen bij gelijk: het bedrag wordt afgeboekt (bijv. uit "
                   "coulance) in plaats van gecrediteerd."),
        },
        "reason": {
            "en": ("Reason", "Required when rejected: why the invoice stands; the debtor receives this text. "
                   "Optional when upheld (dossier only)."),
            "nl": ("Reden", "Verplicht bij rejected: waarom de factuur blijft staan; de debiteur krijgt deze tekst. "
                   "Bij upheld optioneel (alleen dossier)."),
        },
        "resolved_by": {
            "en": ("Your name", "Recorded in the dossier as who resolved the dispute."),
            "nl": ("Uw naam", "Komt in het dossier als wie de betwisting oploste."),
        },
    }
    messages = {
        "reason": {
            "en": "a rejection is explained to the debtor: give the reason",
            "nl": "een afwijzing wordt de debiteur uitgelegd: geef de reden",
        }
    }

    verdict: Verdict
    credit: str = Field("", pattern=r"^\s*(\d{1,12}(\.\d{1,2})?)?\s*$", max_length=20)
    write_off: bool = False
    reason: str = Field("", pattern=TEXT_PATTERN, max_length=2000)
    resolved_by: str = Field(min_length=1, pattern=LINE_PATTERN, max_length=100)

    @model_validator(mode="after")
    def _a_rejection_needs_a_reason(self) -> Self:
        if self.verdict is Verdict.rejected and not self.reason.strip():
            raise ValueError(self._message("reason"))
        return self

    @classmethod
    def labels(cls) -> dict[str, str]:
        """How this form names each value the domain may refuse: the field's title, as the person sees it."""
        fields = {"credit": "credit", "reason": "reason", "by": "resolved_by", "write_off": "write_off"}
        return {value: f"'{cls.title_of(name)}'" for value, name in fields.items()}

    def resolution(self) -> Resolution:
        upheld, amount = self.verdict is Verdict.upheld, self.credit.strip()
        return Resolution(
            upheld=upheld,
            by=self.resolved_by.strip(),
            reason=self.reason.strip(),
            credit=Decimal(amount) if upheld and amount else None,
            write_off=self.write_off and upheld,
        )


class PaymentDecision(enum.StrEnum):
    match = "match"
    not_a_debtor_payment = "not a debtor payment"


# Setting a line aside needs a reason, in the schema as well as in the validator below.
_SET_ASIDE_RULES = _reason_required_when("decision", PaymentDecision.not_a_debtor_payment.value)
_INVOICE_LIST = r"^\s*[^\s,;]+(\s*[,;]?\s*[^\s,;]+)*\s*$"
# Amounts apart by semicolons or spaces: a comma may be the decimal comma ("100,50").
_AMOUNT_LIST = r"^\s*(\d{1,12}([.,]\d{1,2})?)?(\s*[;\s]\s*\d{1,12}([.,]\d{1,2})?)*\s*$"


class PaymentForm(Form):
    """Match a bank line no rule recognised, or set it aside."""

    model_config = ConfigDict(json_schema_extra={"allOf": _SET_ASIDE_RULES})
    texts = {
        "decision": {
            "en": ("Decision", "match: the line pays the invoices below. not a debtor payment: a refund, a transfer "
                   "between own accounts, ...; say what below."),
            "nl": ("Besluit", "match: de betaling is voor de facturen hieronder. not a debtor payment: geen betaling "
                   "van een debiteur (een terugbetaling, een overboeking tussen eigen rekeningen, ...); zeg hieronder "
                   "wat het is."),
        },
        "invoices": {
            "en": ("Invoices", "Only with match: the invoice numbers it pays, separated by spaces or commas, e.g. "
                   "'2026-1001 2026-1003'."),
            "nl": ("Facturen", "Alleen bij match: de factuurnummers die ze betaalt, gescheiden door spaties of "
                   "komma's, bijv. '2026-1001 2026-1003'."),
        },
        "amounts": {
            "en": ("Amounts", "Optional: an amount per invoice, in the same order, e.g. '100.00; 25,50'. Empty: "
                   "oldest invoice first, up to what is open; what is left stays as a credit on the debtor."),
            "nl": ("Bedragen", "Optioneel: een bedrag per factuur, in dezelfde volgorde, bijv. '100.00; 25,50'. "
                   "Leeg: oudste factuur eerst, tot wat er open staat; wat overblijft wordt tegoed van de debiteur."),
        },
        "reason": {
            "en": ("What it is instead", "Required when not a debtor payment; kept with the line."),
            "nl": ("Wat het wel is", "Verplicht bij not a debtor payment; blijft bij de regel bewaard."),
        },
        "by": {
            "en": ("Your name", "Recorded as who decided."),
            "nl": ("Uw naam", "Komt vast te liggen als wie besliste."),
        },
    }
    messages = {
        "reason": {"en": "say what it is instead", "nl": "zeg wat het wel is"},
        "invoices": {"en": "name the invoices it pays", "nl": "noem de facturen die ze betaalt"},
        "line": {"en": "this line", "nl": "deze regel"},
    }

    decision: PaymentDecision
    invoices: str = Field("", pattern=r"^\s*$|" + _INVOICE_LIST, max_length=500)
    amounts: str = Field("", pattern=_AMOUNT_LIST, max_length=500)
    reason: str = Field("", pattern=TEXT_PATTERN, max_length=2000)
    by: str = Field(min_length=1, pattern=LINE_PATTERN, max_length=100)

    @model_validator(mode="after")
    def _each_decision_needs_its_field(self) -> Self:
        if self.decision is PaymentDecision.not_a_debtor_payment and not self.reason.strip():
            raise ValueError(self._message("reason"))
        if self.decision is PaymentDecision.match and not self.invoices.strip():
            raise ValueError(self._message("invoices"))
        return self

    @classmethod
    def labels(cls) -> dict[str, str]:
        """How the form names what the domain's errors call a field."""
        return {"invoice": cls.title_of("invoices"), "amount": cls.title_of("amounts"),
                "line": cls.messages["line"][cls.form_language], "reason": cls.title_of("reason")}


def call_form(language: str) -> type[CallForm]:
    return CallForm.in_language(language)


def approval_form(language: str) -> type[ApprovalForm]:
    return ApprovalForm.in_language(language)


def dispute_form(language: str) -> type[DisputeForm]:
    return DisputeForm.in_language(language)


def payment_form(language: str) -> type[PaymentForm]:
    return PaymentForm.in_language(language)
