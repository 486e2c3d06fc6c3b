"""Every desk action as a deployment a person starts from the Prefect UI's "Run", on a typed form: a payment, a
payment plan, a credit hold set or lifted, a dispute registered or resolved, a personal note, a statement of
account sent now, one file of an inbox imported now. Each does what its `dunning` verb does, through the same functions
(`dunning.casework.desk_actions`), in one transaction, and wakes the invoice's run as the verb does.

The parameters are named as the verb's arguments and options; the form's titles and descriptions are in the
installation's language (`settings.toml` `language`). A deployment's parameter schema is fixed when it is
served, so the flows are made per language (`desk_action_flows`), from the one table of texts below.

What the run did is its state's message (Completed) and a line in its log, as the verb prints it. A mistake (an
unknown invoice, an amount with three decimals, a dispute on a paid invoice, ...) ends the run Failed with the
verb's one-line message as the state's message, the value it refuses named by its title on the form, and changes
nothing.

No `from __future__ import annotations` in this module: Prefect reads a flow's parameter types and their
`Annotated` titles from the function's annotations, which must be the objects made in `desk_action_flows`."""

import datetime as dt
import enum
import functools
from typing import Annotated, Any

from prefect import Flow, flow, get_run_logger
from prefect.deployments.runner import RunnerDeployment
from prefect.states import Completed, Failed, State
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from dunning.domain.fields import LINE_PATTERN, TEXT_PATTERN
from dunning.domain.kinds import Channel
from flows.forms import Verdict
from tasks import desk_actions as act
from tasks.desk_actions import Inbox

LANGUAGES = ("nl", "en")
# Digits with a dot: the form refuses anything else (a decimal comma too), the run what the verb refuses of a
# number (zero, three decimals), in the verb's words.
AMOUNT_PATTERN = r"^\s*\d{1,15}(\.\d+)?\s*$"
OPTIONAL_AMOUNT_PATTERN = r"^\s*(\d{1,15}(\.\d+)?)?\s*$"
FILE_NAME_PATTERN = r"^[^/\\]+$"

# The texts of the forms: per flow its description, per field (flow.field, else field) its title and description.
FLOW_TEXTS: dict[str, dict[str, str]] = {
    "register-payment": {
        "en": "Register a payment on an invoice (as `dunning pay`). The run sees it at the next sweep.",
        "nl": "Registreer een betaling op een factuur (als `dunning pay`). De run ziet die bij de volgende ronde.",
    },
    "agree-plan": {
        "en": "Agree a payment plan (as `dunning plan`): the instalments add up to the open amount plus the agreed "
              "costs. The debtor gets the plan in writing; the run waits instalment by instalment.",
        "nl": "Spreek een betalingsregeling af (als `dunning plan`): de termijnen tellen op tot het openstaande "
              "bedrag plus de afgesproken kosten. De debiteur krijgt de regeling op schrift; de run wacht termijn "
              "voor termijn.",
    },
    "credit-hold": {
        "en": "Put a debtor on credit hold: no new deliveries (as `dunning hold`); or lift the hold.",
        "nl": "Zet een debiteur op een kredietstop: geen nieuwe leveringen (als `dunning hold`); of hef die op.",
    },
    "register-dispute": {
        "en": "Register a dispute (as `dunning dispute`): escalation of this invoice stands still until it is "
              "resolved.",
        "nl": "Registreer een betwisting (als `dunning dispute`): de escalatie van deze factuur staat stil tot de "
              "betwisting is opgelost.",
    },
    "resolve-dispute": {
        "en": "Resolve the open dispute of an invoice (as `dunning resolve`): upheld (a credit note or write-off) "
              "or rejected (the debtor is told why and escalation goes on where it stopped).",
        "nl": "Los de open betwisting van een factuur op (als `dunning resolve`): upheld (een creditnota of "
              "afboeking) of rejected (de debiteur hoort waarom en de escalatie gaat verder waar ze stond).",
    },
    "add-note": {
        "en": "Add a personal paragraph to the next message about an invoice (as `dunning note`); every channel "
              "of that step carries it.",
        "nl": "Voeg een persoonlijke alinea toe aan het volgende bericht over een factuur (als `dunning note`); "
              "elk kanaal van die stap neemt hem mee.",
    },
    "send-statement": {
        "en": "Send the debtor's statement of account now (as `dunning statement DEBTOR --send`): every open "
              "invoice with its payments and credits, the total, the IBAN and the payment references. At most "
              "once a day per channel.",
        "nl": "Stuur de debiteur nu het rekeningoverzicht (als `dunning statement DEBITEUR --send`): elke open "
              "factuur met de betalingen en creditnota's erop, het totaal, het IBAN en de betalingskenmerken. "
              "Hoogstens één keer per dag per kanaal.",
    },
    "import-file": {
        "en": "Import one file already in the inbox now, as the scheduled import would take it in: whole or not "
              "at all, then into done/ (or failed/, with the reason beside it).",
        "nl": "Importeer nu één bestand dat al in de inbox staat, zoals de geplande import het zou doen: helemaal "
              "of niet, daarna naar done/ (of failed/, met de reden ernaast).",
    },
}

FIELD_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "invoice": {
        "en": ("Invoice", "The invoice number, e.g. 2026-1001."),
        "nl": ("Factuur", "Het factuurnummer, bijv. 2026-1001."),
    },
    "by": {
        "en": ("Your name", "Recorded in the dossier as who did this."),
        "nl": ("Uw naam", "Komt in het dossier als wie dit deed."),
    },
    "register-payment.amount": {
        "en": ("Amount", "The amount paid: digits with a dot, e.g. 125.50."),
        "nl": ("Bedrag", "Het betaalde bedrag: cijfers met een punt, bijv. 125.50."),
    },
    "register-payment.date": {
        "en": ("Payment date", "The day it was paid; empty means today."),
        "nl": ("Betaaldatum", "De dag van betaling; leeg is vandaag."),
    },
    "agree-plan.instalments": {
        "en": ("Instalments", "One per instalment, in order: the day it is due and the amount."),
        "nl": ("Termijnen", "Een per termijn, op volgorde: de dag waarop hij betaald moet zijn en het bedrag."),
    },
    "agree-plan.instalment": {
        "en": ("Instalment", "The day it is due and the amount."),
        "nl": ("Termijn", "De dag waarop hij betaald moet zijn en het bedrag."),
    },
    "agree-plan.instalment.date": {
        "en": ("Due on", "Paid by this day."),
        "nl": ("Uiterlijk op", "Uiterlijk op deze dag betaald."),
    },
    "agree-plan.instalment.amount": {
        "en": ("Amount", "Digits with a dot, e.g. 150.00."),
        "nl": ("Bedrag", "Cijfers met een punt, bijv. 150.00."),
    },
    "agree-plan.costs": {
        "en": ("Costs", "Costs agreed on top of the open amount, e.g. 25.00."),
        "nl": ("Kosten", "Afgesproken kosten bovenop het openstaande bedrag, bijv. 25.00."),
    },
    "credit-hold.debtor": {
        "en": ("Debtor", "The debtor number."),
        "nl": ("Debiteur", "Het debiteurnummer."),
    },
    "credit-hold.reason": {
        "en": ("Reason", "Why deliveries stop."),
        "nl": ("Reden", "Waarom de leveringen stoppen."),
    },
    "credit-hold.off": {
        "en": ("Lift the hold", "On: lift the credit hold instead of setting it."),
        "nl": ("Kredietstop opheffen", "Aan: hef de kredietstop op in plaats van hem in te stellen."),
    },
    "register-dispute.reason": {
        "en": ("Reason", "What the debtor contests, in a sentence."),
        "nl": ("Reden", "Wat de debiteur betwist, in een zin."),
    },
    "register-dispute.responsible": {
        "en": ("Responsible", "Who sorts it out (shown with the task)."),
        "nl": ("Verantwoordelijke", "Wie het uitzoekt (staat bij de taak)."),
    },
    "register-dispute.due": {
        "en": ("Sort out by", "The day it is to be sorted out by; empty means the policy's term."),
        "nl": ("Uitzoeken voor", "De dag waarop het uitgezocht moet zijn; leeg is de termijn uit het beleid."),
    },
    "resolve-dispute.verdict": {
        "en": ("Outcome", "upheld: the debtor is right; a credit note (or write-off) is recorded and, for all "
                          "that is open, the case closes. rejected: the invoice stands; the debtor is told the "
                          "reason and escalation goes on where it stopped."),
        "nl": ("Uitkomst", "upheld: de debiteur heeft gelijk; er komt een creditnota (of afboeking) en voor het "
                           "hele open bedrag sluit de zaak. rejected: de factuur blijft staan; de debiteur krijgt "
                           "de reden en de escalatie gaat verder waar ze stond."),
    },
    "resolve-dispute.reason": {
        "en": ("Reason", "Why. Required when rejected: the debtor receives this text."),
        "nl": ("Reden", "Waarom. Verplicht bij rejected: de debiteur krijgt deze tekst."),
    },
    "resolve-dispute.credit": {
        "en": ("Credit amount", "Only when upheld in part: the amount credited, e.g. 80.00; empty means all that "
                                "is open."),
        "nl": ("Creditbedrag", "Alleen bij gedeeltelijk gelijk: het gecrediteerde bedrag, bijv. 80.00; leeg is "
                               "het hele open bedrag."),
    },
    "resolve-dispute.write_off": {
        "en": ("Write off", "Only when upheld: write the amount off instead of a credit note."),
        "nl": ("Afboeken", "Alleen bij upheld: het bedrag afboeken in plaats van een creditnota."),
    },
    "add-note.text": {
        "en": ("Note", "A paragraph in your own words, in the debtor's language."),
        "nl": ("Notitie", "Een alinea in uw eigen woorden, in de taal van de debiteur."),
    },
    "send-statement.debtor": {
        "en": ("Debtor", "The debtor number."),
        "nl": ("Debiteur", "Het debiteurnummer."),
    },
    "send-statement.channel": {
        "en": ("Channel", "email or letter; empty means the debtor's preferred channel."),
        "nl": ("Kanaal", "email of letter (brief); leeg is het kanaal dat de debiteur verkiest."),
    },
    "import-file.inbox": {
        "en": ("Inbox folder", "bank: a bank statement in inbox/bank/. invoices: invoices, credit notes, an "
                               "export or an open-items list in inbox/invoices/."),
        "nl": ("Inboxmap", "bank: een bankafschrift in inbox/bank/. invoices: facturen, creditnota's, een export of "
                           "een openstaande-postenlijst in inbox/invoices/."),
    },
    "import-file.file": {
        "en": ("File", "The file's name in that inbox, e.g. camt053-2026-01-09.xml."),
        "nl": ("Bestand", "De naam van het bestand in die inbox, bijv. camt053-2026-01-09.xml."),
    },
}

class Texts:
    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no desk forms in language {language!r}: {' or '.join(LANGUAGES)}")
        self.language = language

    def flow(self, name: str) -> str:
        return FLOW_TEXTS[name][self.language]

    def text(self, action: str, name: str) -> tuple[str, str]:
        found = FIELD_TEXTS.get(f"{action}.{name}") or FIELD_TEXTS[name]
        return found[self.language]

    def field(self, action: str, name: str, **constraints: Any) -> FieldInfo:
        """Title and description for the form. Prefect 3.8.8 titles each parameter with its name, whatever
        `Field(title=...)` says; a title in `json_schema_extra` is what reaches the schema."""
        title, description = self.text(action, name)
        return Field(json_schema_extra={"title": title, "description": description}, **constraints)

    def labels(self, action: str) -> dict[str, str]:
        """How the form names each value the domain may refuse (`InvalidInput.field`): its title, quoted. The
        domain's "instalment" is one item of the instalments, titled as such."""
        own = [key.removeprefix(f"{action}.") for key in FIELD_TEXTS if key.startswith(f"{action}.")]
        names = [name for name in own if "." not in name] + [key for key in FIELD_TEXTS if "." not in key]
        return {name: f"'{self.text(action, name)[0]}'" for name in names}


def _instalment_model(language: str) -> type[BaseModel]:
    """One instalment on the agree-plan form. Made once per language at import, as a module attribute of its own
    name, so a served deployment's process (which gets the flow pickled) finds it by reference."""
    t = Texts(language)
    title, description = t.text("agree-plan", "instalment")
    due_title, due_description = t.text("agree-plan", "instalment.date")
    amount_title, amount_description = t.text("agree-plan", "instalment.amount")
    model: type[BaseModel] = create_model(
        f"Instalment_{language}",
        __config__=ConfigDict(title=title, json_schema_extra={"description": description}),
        __module__=__name__,
        date=(dt.date, Field(title=due_title, description=due_description)),
        amount=(str, Field(title=amount_title, description=amount_description, pattern=AMOUNT_PATTERN,
                           max_length=20)),
    )
    return model


Instalment_nl = _instalment_model("nl")
Instalment_en = _instalment_model("en")
INSTALMENT = {"nl": Instalment_nl, "en": Instalment_en}


class StatementChannel(enum.StrEnum):
    """The channels a statement of account goes by (the form's choice; `Channel` has more)."""

    email = "email"
    letter = "letter"


async def _finish(outcome: act.Outcome) -> State:
    """The run's end: Completed with what was done, or Failed with why not, as the state's message (the UI shows
    it on the run); the same line in the run's log."""
    logger = get_run_logger()
    if not outcome.ok:
        logger.error(outcome.line)
        return Failed(message=outcome.line)
    logger.info(outcome.line)
    if outcome.wake:
        await act.wake_run(outcome.wake)
    return Completed(message=outcome.line, data=outcome.line)


@functools.cache
def desk_action_flows(language: str) -> list[Flow[..., Any]]:
    """The desk-action flows with their forms in `language` ("nl" or "en"), made once per language. Each is also
    this module's attribute `<function>_<language>` (`register_payment_nl`, see `__getattr__`), which is what its
    deployment's entrypoint names: a worker, or a process of the served deployment, loads it from there."""
    t = Texts(language)
    Instalment = INSTALMENT[language]

    @flow(name="register-payment", flow_run_name="pay {invoice}", description=t.flow("register-payment"),
          persist_result=False)
    async def register_payment(
        invoice: Annotated[str, t.field("register-payment", "invoice", pattern=LINE_PATTERN, max_length=100)],
        amount: Annotated[str, t.field("register-payment", "amount", pattern=AMOUNT_PATTERN, max_length=30)],
        date: Annotated[dt.date | None, t.field("register-payment", "date")] = None,
    ) -> State:
        return await _finish(act.register_payment(invoice, amount, date, t.labels("register-payment")))

    @flow(name="agree-plan", flow_run_name="plan {invoice}", description=t.flow("agree-plan"), persist_result=False)
    async def agree_plan(
        invoice: Annotated[str, t.field("agree-plan", "invoice", pattern=LINE_PATTERN, max_length=100)],
        instalments: Annotated[list[Instalment], t.field("agree-plan", "instalments")],
        costs: Annotated[str, t.field("agree-plan", "costs", pattern=AMOUNT_PATTERN, max_length=30)] = "0.00",
        by: Annotated[str, t.field("agree-plan", "by", pattern=LINE_PATTERN, max_length=100)] = "",
    ) -> State:
        read = [(i.date, i.amount) for i in instalments]
        return await _finish(act.agree_plan(invoice, read, costs, by, t.labels("agree-plan")))

    @flow(name="credit-hold", flow_run_name="hold {debtor}", description=t.flow("credit-hold"), persist_result=False)
    async def credit_hold(
        debtor: Annotated[str, t.field("credit-hold", "debtor", pattern=LINE_PATTERN, max_length=100)],
        reason: Annotated[str, t.field("credit-hold", "reason", max_length=500)] = "put on hold by hand",
        off: Annotated[bool, t.field("credit-hold", "off")] = False,
        by: Annotated[str, t.field("credit-hold", "by", pattern=LINE_PATTERN, max_length=100)] = "",
    ) -> State:
        return await _finish(act.credit_hold(debtor, reason, off, by, t.labels("credit-hold")))

    @flow(name="register-dispute", flow_run_name="dispute {invoice}", description=t.flow("register-dispute"),
          persist_result=False)
    async def register_dispute(
        invoice: Annotated[str, t.field("register-dispute", "invoice", pattern=LINE_PATTERN, max_length=100)],
        reason: Annotated[str, t.field("register-dispute", "reason", pattern=TEXT_PATTERN, max_length=2000)],
        responsible: Annotated[
            str, t.field("register-dispute", "responsible", pattern=LINE_PATTERN, max_length=100)
        ] = "",
        due: Annotated[dt.date | None, t.field("register-dispute", "due")] = None,
        by: Annotated[str, t.field("register-dispute", "by", pattern=LINE_PATTERN, max_length=100)] = "",
    ) -> State:
        return await _finish(act.register_dispute(invoice, reason, responsible, due, by,
                                                  t.labels("register-dispute")))

    @flow(name="resolve-dispute", flow_run_name="resolve {invoice}", description=t.flow("resolve-dispute"),
          persist_result=False)
    async def resolve_dispute(
        invoice: Annotated[str, t.field("resolve-dispute", "invoice", pattern=LINE_PATTERN, max_length=100)],
        verdict: Annotated[Verdict, t.field("resolve-dispute", "verdict")],
        reason: Annotated[str, t.field("resolve-dispute", "reason", pattern=TEXT_PATTERN, max_length=2000)] = "",
        credit: Annotated[
            str, t.field("resolve-dispute", "credit", pattern=OPTIONAL_AMOUNT_PATTERN, max_length=30)
        ] = "",
        write_off: Annotated[bool, t.field("resolve-dispute", "write_off")] = False,
        by: Annotated[str, t.field("resolve-dispute", "by", pattern=LINE_PATTERN, max_length=100)] = "",
    ) -> State:
        amount = credit.strip() or None  # empty: all that is open, as the verb without --credit
        return await _finish(act.resolve_dispute(invoice, verdict is Verdict.upheld, reason, amount, write_off, by,
                                                 t.labels("resolve-dispute")))

    @flow(name="add-note", flow_run_name="note {invoice}", description=t.flow("add-note"), persist_result=False)
    async def add_note(
        invoice: Annotated[str, t.field("add-note", "invoice", pattern=LINE_PATTERN, max_length=100)],
        text: Annotated[str, t.field("add-note", "text", pattern=TEXT_PATTERN, max_length=2000)],
        by: Annotated[str, t.field("add-note", "by", pattern=LINE_PATTERN, max_length=100)] = "",
    ) -> State:
        return await _finish(act.add_note(invoice, text, by, t.labels("add-note")))

    @flow(name="send-statement", flow_run_name="statement {debtor}", description=t.flow("send-statement"),
          persist_result=False)
    async def send_statement(
        debtor: Annotated[str, t.field("send-statement", "debtor", pattern=LINE_PATTERN, max_length=100)],
        channel: Annotated[StatementChannel | None, t.field("send-statement", "channel")] = None,
    ) -> State:
        return await _finish(await act.send_statement(debtor, Channel(channel.value) if channel else None))

    @flow(name="import-file", flow_run_name="import {file}", description=t.flow("import-file"), persist_result=False)
    async def import_file(
        inbox: Annotated[Inbox, t.field("import-file", "inbox")],
        file: Annotated[str, t.field("import-file", "file", pattern=FILE_NAME_PATTERN, max_length=255)],
    ) -> State:
        return await _finish(act.import_file(inbox, file))

    made = [register_payment, agree_plan, credit_hold, register_dispute, resolve_dispute, add_note, send_statement,
            import_file]
    for made_flow in made:
        made_flow.fn.__name__ = made_flow.fn.__qualname__ = f"{made_flow.fn.__name__}_{language}"
    return made


def __getattr__(name: str) -> Flow[..., Any]:
    """`register_payment_nl`, `import_file_en`, ...: a desk-action flow by the name its entrypoint gives."""
    language = name.rpartition("_")[2]
    if language in LANGUAGES:
        for made_flow in desk_action_flows(language):
            if made_flow.fn.__name__ == name:
                return made_flow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def desk_action_deployments(instance: str, language: str) -> list[RunnerDeployment]:
    """The deployments deployments/serve.py serves, one per desk action, with their forms in `language`."""
    return [
        _optional_fields_start_empty(f.to_deployment(name=instance, tags=["dunning", "desk"]))
        for f in desk_action_flows(language)
    ]


def _optional_fields_start_empty(deployment: RunnerDeployment) -> RunnerDeployment:
    """Prefect describes a parameter that defaults to None (a payment date, a dispute's due date) as `anyOf: [the
    type, null]` with `default: null`: the UI shows that as a choice between a date and "null", and the server
    refuses the null it puts in the form once the anyOf is gone. Here such a field is the type alone without a
    default: the form shows an empty date picker, the field is left out when left empty (the verb without the
    option), and the server still takes null for it (a field neither required nor with a default may be null).

    Prefect 3.8.8 keeps the schema it sends in a private attribute of the deployment; nothing public sets it."""
    for prop in deployment._parameter_openapi_schema.properties.values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]
            options = [o for o in prop.pop("anyOf", []) if o != {"type": "null"}]
            if len(options) == 1:
                prop.update(options[0])
            elif options:
                prop["anyOf"] = options
    return deployment
