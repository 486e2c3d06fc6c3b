"""The forms a person fills in the Prefect UI to resume a paused invoice run.

Only add fields with defaults: a run may sit paused on an older form for weeks across a deploy. The server
checks an answer against the JSON schema stored when the run paused, and the UI shows that check's errors
under the field, so a rule that must never crash a run lives in the schema as well as in a validator."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Self

from prefect.input import RunInput
from pydantic import ConfigDict, Field, model_validator

from dunning.casework.disputes import Resolution
from dunning.casework.human_tasks import ApprovalAnswer, CallOutcome
from dunning.domain.fields import LINE_PATTERN, TEXT_PATTERN


class CallForm(RunInput):
    reached: bool = Field(
        title="Reached the debtor? / Debiteur bereikt?",
        description=(
            "On: you spoke with someone who can arrange payment. Off: no answer, voicemail, wrong number; the "
            "next attempt or the written reminder follows. / Aan: u sprak iemand die de betaling kan regelen. "
            "Uit: geen gehoor, voicemail, verkeerd nummer; een nieuwe poging of de herinnering volgt."
        ),
    )
    spoke_with: str = Field(
        "",
        title="Spoke with / Gesproken met",
        description="Name and role, e.g. 'J. de Vries, owner'. / Naam en functie, bijv. 'J. de Vries, eigenaar'.",
        pattern=LINE_PATTERN,
        max_length=200,
    )
    promised_payment_date: date | None = Field(
        None,
        title="Promised payment date / Toegezegde betaaldatum",
        description=(
            "Only when reached: the date the debtor promised to pay (choose 'date'); unpaid by then, a new call "
            "follows the day after. / Alleen als bereikt: de toegezegde betaaldatum (kies 'date'); niet betaald, "
            "dan volgt de dag erna een nieuw gesprek."
        ),
    )
    promised_amount: str = Field(
        "",
        title="Promised amount / Toegezegd bedrag",
        description=(
            "Only with a promised date: the amount promised, e.g. 150.00; empty means the whole open amount. / "
            "Alleen bij een toegezegde datum: het toegezegde bedrag, bijv. 150.00; leeg is het hele open bedrag."
        ),
        pattern=r"^\s*(\d{1,12}(\.\d{1,2})?)?\s*$",
        max_length=20,
    )
    excuse: str = Field(
        "",
        title="Excuse heard / Gehoord excuus",
        description=(
            "One from the list on the call sheet (e.g. 'Invoice not received') or your own words. / "
            "Een uit de lijst op het belblad (bijv. 'Factuur niet ontvangen') of uw eigen woorden."
        ),
        pattern=LINE_PATTERN,
        max_length=200,
    )
    dispute: str = Field(
        "",
        title="Disputes the invoice / Betwist de factuur",
        description=(
            "Only if the debtor contests the invoice: what, in a sentence. Escalation of this invoice then stops "
            "until the dispute is sorted out. / Alleen als de debiteur de factuur betwist: wat, in een zin. "
            "Deze factuur escaleert dan niet verder tot de betwisting is opgelost."
        ),
        pattern=TEXT_PATTERN,
        max_length=500,
    )
    plan_requested: bool = Field(
        False,
        title="Asks for a payment plan / Vraagt een betalingsregeling",
        description=(
            "The debtor cannot pay at once and asks to pay in instalments: escalation waits a few days for the "
            "plan to be agreed (daily overview). / De debiteur kan niet in een keer betalen: escalatie wacht een "
            "paar dagen tot de regeling is afgesproken (dagoverzicht)."
        ),
    )
    send_copy: bool = Field(
        False,
        title="Send a copy of the invoice / Stuur een kopie van de factuur",
        description=(
            "The debtor did not receive the invoice or lost it: a copy goes out by their channel right away. / "
            "De debiteur heeft de factuur niet (meer): er gaat meteen een kopie uit."
        ),
    )
    summarised: bool = Field(
        False,
        title="Agreement summarised to the debtor? / Afspraak samengevat?",
        description=(
            "On: you read the agreement back before hanging up. / Aan: u heeft de afspraak herhaald voor het "
            "ophangen."
        ),
    )
    note: str = Field(
        "",
        title="What was said / Wat is er gezegd",
        description=(
            "The excuse you heard and what was agreed, as you summarised it to the debtor; goes into the "
            "dossier. / Het gehoorde excuus en de afspraak, zoals u die samenvatte; komt in het dossier."
        ),
        pattern=TEXT_PATTERN,
        max_length=2000,
    )
    collector: str = Field(
        "",
        title="Your name / Uw naam",
        description="Recorded in the dossier as who made the call. / Komt in het dossier als wie er belde.",
        pattern=LINE_PATTERN,
        max_length=100,
    )

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


class ApprovalForm(RunInput):
    model_config = ConfigDict(json_schema_extra={"allOf": _REASON_RULES})

    decision: Decision = Field(
        title="Decision / Besluit",
        description=(
            "approve: the step goes ahead as described above. reject: it does not; say why below. / "
            "approve: de stap gaat door zoals hierboven beschreven. reject: niet; geef hieronder de reden."
        ),
    )
    approver: str = Field(
        title="Your name / Uw naam",
        description="Recorded in the dossier as who decided. / Komt in het dossier als wie besliste.",
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=100,
    )
    reason: str = Field(
        "",
        title="Reason for rejecting / Reden van afwijzen",
        description=(
            "Required when you reject: why not. Goes into the dossier. / "
            "Verplicht bij afwijzen: waarom niet. Komt in het dossier."
        ),
        pattern=TEXT_PATTERN,
        max_length=2000,
    )

    @model_validator(mode="after")
    def _a_rejection_needs_a_reason(self) -> Self:
        if self.decision is Decision.reject and not self.reason.strip():
            raise ValueError("a rejection needs a reason / afwijzen kan alleen met een reden")
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


class DisputeForm(RunInput):
    model_config = ConfigDict(json_schema_extra={"allOf": _RESOLUTION_RULES})

    verdict: Verdict = Field(
        title="Outcome / Uitkomst",
        description=(
            "upheld: the debtor is right; a credit note (or write-off) is recorded and, for all that is open, the "
            "case closes. rejected: the invoice stands; the debtor is told the reason below and escalation goes "
            "on where it stopped. / upheld: de debiteur heeft gelijk; er komt een creditnota (of afboeking) en "
            "voor het hele open bedrag sluit de zaak. rejected: de factuur blijft staan; de debiteur krijgt de "
            "reden hieronder en de escalatie gaat verder waar ze stond."
        ),
    )
    credit: str = Field(
        "",
        title="Credit amount / Creditbedrag",
        description=(
            "Only when upheld in part: the amount credited, e.g. 80.00; empty means all that is open. / "
            "Alleen bij gedeeltelijk gelijk: het gecrediteerde bedrag, bijv. 80.00; leeg is het hele open bedrag."
        ),
        pattern=r"^\s*(\d{1,12}(\.\d{1,2})?)?\s*$",
        max_length=20,
    )
    write_off: bool = Field(
        False,
        title="Write off instead of a credit note / Afboeken in plaats van creditnota",
        description=(
            "Only when upheld: the amount is written off (e.g. a goodwill gesture) rather than credited. / "
            "Alleen bij gelijk: het bedrag wordt afgeboekt (bijv. uit coulance) in plaats van gecrediteerd."
        ),
    )
    reason: str = Field(
        "",
        title="Reason / Reden",
        description=(
            "Required when rejected: why the invoice stands; the debtor receives this text. Optional when upheld "
            "(dossier only). / Verplicht bij rejected: waarom de factuur blijft staan; de debiteur krijgt deze "
            "tekst. Bij upheld optioneel (alleen dossier)."
        ),
        pattern=TEXT_PATTERN,
        max_length=2000,
    )
    resolved_by: str = Field(
        title="Your name / Uw naam",
        description="Recorded in the dossier as who resolved the dispute. / Komt in het dossier als wie besliste.",
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=100,
    )

    @model_validator(mode="after")
    def _a_rejection_needs_a_reason(self) -> Self:
        if self.verdict is Verdict.rejected and not self.reason.strip():
            raise ValueError("a rejection is explained to the debtor: give the reason / geef de reden")
        return self

    @classmethod
    def labels(cls) -> dict[str, str]:
        """How this form names each value the domain may refuse: the field's title, as the person sees it."""
        fields = {"credit": "credit", "reason": "reason", "by": "resolved_by", "write_off": "write_off"}
        return {value: f"'{cls.model_fields[name].title}'" for value, name in fields.items()}

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


class PaymentForm(RunInput):
    """Match a bank line no rule recognised, or set it aside."""

    model_config = ConfigDict(json_schema_extra={"allOf": _SET_ASIDE_RULES})

    decision: PaymentDecision = Field(
        title="Decision / Besluit",
        description=(
            "match: the line pays the invoices below. not a debtor payment: a refund, a transfer between own "
            "accounts, ...; say what below. / match: de betaling is voor de facturen hieronder. not a debtor "
            "payment: geen betaling van een debiteur; zeg hieronder wat het is."
        ),
    )
    invoices: str = Field(
        "",
        title="Invoices / Facturen",
        description=(
            "Only with match: the invoice numbers it pays, separated by spaces or commas, e.g. '2026-1001 "
            "2026-1003'. / Alleen bij match: de factuurnummers, gescheiden door spaties of komma's."
        ),
        pattern=r"^\s*$|" + _INVOICE_LIST,
        max_length=500,
    )
    amounts: str = Field(
        "",
        title="Amounts / Bedragen",
        description=(
            "Optional: an amount per invoice, in the same order, e.g. '100.00; 25,50'. Empty: oldest invoice "
            "first, up to what is open; what is left stays as a credit on the debtor. / Optioneel: een bedrag "
            "per factuur, in dezelfde volgorde. Leeg: oudste factuur eerst; wat overblijft wordt tegoed."
        ),
        pattern=_AMOUNT_LIST,
        max_length=500,
    )
    reason: str = Field(
        "",
        title="What it is instead / Wat het wel is",
        description="Required when not a debtor payment; kept with the line. / Verplicht bij not a debtor payment.",
        pattern=TEXT_PATTERN,
        max_length=2000,
    )
    by: str = Field(
        title="Your name / Uw naam",
        description="Recorded as who decided. / Komt vast te liggen als wie besliste.",
        min_length=1,
        pattern=LINE_PATTERN,
        max_length=100,
    )

    @model_validator(mode="after")
    def _each_decision_needs_its_field(self) -> Self:
        if self.decision is PaymentDecision.not_a_debtor_payment and not self.reason.strip():
            raise ValueError("say what it is instead / zeg wat het wel is")
        if self.decision is PaymentDecision.match and not self.invoices.strip():
            raise ValueError("name the invoices it pays / noem de facturen")
        return self

    @staticmethod
    def labels() -> dict[str, str]:
        """How the form names what the domain's errors call a field."""
        return {"invoice": "Invoices / Facturen", "amount": "Amounts / Bedragen", "line": "this line",
                "reason": "What it is instead / Wat het wel is"}
