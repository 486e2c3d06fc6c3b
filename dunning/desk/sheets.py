"""What a person sees before acting: the call sheet, the approval sheet and the dispute sheet (Markdown for the
Prefect UI), in the installation's language (settings.toml `language`: "nl" or "en"). What the facts say in
their own words (the dossier, a reason the ladder gives, the message the debtor receives) is shown as it is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier, invoices
from dunning.desk.excuses import BUILT_IN, Excuse, as_markdown
from dunning.domain import markdown as md
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.ladder import CallFact
from dunning.domain.steps import Step
from dunning.domain.time import local
from dunning.storage.models import Debtor, DebtorCredit, DossierEntry, HumanTask, Invoice, PaymentPlan

_WORDS = {
    "en": {
        "hold": "**Credit hold since {since}: no new deliveries** ({reason})",
        "overdue": " ({days} days overdue)",
        "also_open": "| Also open | {number}, due {due}{overdue}: {currency} {amount} |",
        "best_reached": " (best reached: {times})",
        "credit": "| Credit with us | {currency} {amount} paid beyond what was open: offer it for this invoice "
                  "(`dunning credits`) |",
        "debtor": "Debtor", "phone": "Phone", "email": "E-mail", "address": "Address",
        "language_channel": "Language / channel", "unknown": "_unknown_",
        "invoice": "| Invoice | {number}, issued {issued}, due {due}{overdue} |",
        "amount": "Amount", "open_amount": "Open amount",
        "call": "## Call {debtor} about invoice {invoice}",
        "why": "_Why now: {reason}. Task opened {opened}._",
        "agreements": "### Earlier agreements",
        "none": "_None._",
        "disputes_plans": "### Disputes and payment plans",
        "contacts": "### Last contacts",
        "contact": "- {at} by {by} ({channel}): {summary}",
        "us": "us",
        "no_contact": "_No earlier contact._",
        "dossier_so_far": "### Dossier so far",
        "during": "### During the call",
        "during_text": "Introduce yourself, name the invoice and the open amount, ask when it will be paid and agree a "
                       "concrete date and amount. Summarise the agreement before you hang up. Then fill in the outcome "
                       "below.",
        "statement": "Send a statement of account: `dunning statement {debtor} --send`",
        "no_copy": "**No copy of this invoice on file** ({path}): asked for one, the debtor gets a message offering "
                   "to send it, not the copy. Put the PDF there first to send the copy itself.",
        "excuses": "### Common excuses",
        "promise": "- promised on {on} to pay {amount}by **{by_date}** ({by}): {verdict}",
        "kept": "kept", "broken": "**broken**", "running": "running", "unknown_person": "unknown",
        "dispute": "- {step} raised {raised}: {reason}; {state}",
        "dispute_open": "**open**: {who} sorts it out by {due}",
        "nobody": "nobody named",
        "upheld": "upheld", "rejected": "rejected",
        "plan": "- payment plan agreed {agreed}: {parts}; **{status}**{ended}",
        "approval_invoice": "Invoice {invoice} of {debtor}.",
        "will_receive": "### What the debtor will receive",
        "dossier": "### Dossier",
        "refused": "**Your last answer was not recorded: {refused}.** Please answer again.",
        "sort_out": "## Sort out the dispute about invoice {invoice} ({debtor})",
        "sort_out_when": "_{step} raised {raised}; {who} sorts it out by {due}. Escalation of this invoice stands "
                         "still until then; the debtor's other invoices go on._",
        "contests": "**What the debtor contests:** {reason}",
        "not_recorded": "_not recorded_",
    },
    "nl": {
        "hold": "**Kredietstop sinds {since}: geen nieuwe leveringen** ({reason})",
        "overdue": " ({days} dagen over de vervaldatum)",
        "also_open": "| Ook open | {number}, vervaldatum {due}{overdue}: {currency} {amount} |",
        "best_reached": " (best bereikbaar: {times})",
        "credit": "| Tegoed bij ons | {currency} {amount} meer betaald dan er open stond: bied het aan voor deze "
                  "factuur (`dunning credits`) |",
        "debtor": "Debiteur", "phone": "Telefoon", "email": "E-mail", "address": "Adres",
        "language_channel": "Taal / kanaal", "unknown": "_onbekend_",
        "invoice": "| Factuur | {number}, gedateerd {issued}, vervaldatum {due}{overdue} |",
        "amount": "Bedrag", "open_amount": "Openstaand bedrag",
        "call": "## Bel {debtor} over factuur {invoice}",
        "why": "_Waarom nu: {reason}. Taak geopend {opened}._",
        "agreements": "### Eerdere afspraken",
        "none": "_Geen._",
        "disputes_plans": "### Betwistingen en betalingsregelingen",
        "contacts": "### Laatste contacten",
        "contact": "- {at} door {by} ({channel}): {summary}",
        "us": "ons",
        "no_contact": "_Geen eerder contact._",
        "dossier_so_far": "### Dossier tot nu toe",
        "during": "### Tijdens het gesprek",
        "during_text": "Stel uzelf voor, noem de factuur en het openstaande bedrag, vraag wanneer er betaald wordt en "
                       "spreek een concrete datum en een bedrag af. Vat de afspraak samen voordat u ophangt. Vul "
                       "daarna hieronder de uitkomst in.",
        "statement": "Stuur een rekeningoverzicht: `dunning statement {debtor} --send`",
        "no_copy": "**Geen kopie van deze factuur op bestand** ({path}): vraagt de debiteur erom, dan krijgt die "
                   "een bericht dat aanbiedt de kopie te sturen, niet de kopie zelf. Zet de pdf daar eerst neer om "
                   "de kopie zelf te sturen.",
        "excuses": "### Veelgehoorde excuses",
        "promise": "- op {on} toegezegd {amount}te betalen uiterlijk **{by_date}** ({by}): {verdict}",
        "kept": "nagekomen", "broken": "**gebroken**", "running": "loopt", "unknown_person": "onbekend",
        "dispute": "- {step} gemeld {raised}: {reason}; {state}",
        "dispute_open": "**open**: {who} handelt het af uiterlijk {due}",
        "nobody": "niemand genoemd",
        "upheld": "gegrond", "rejected": "afgewezen",
        "plan": "- betalingsregeling afgesproken {agreed}: {parts}; **{status}**{ended}",
        "approval_invoice": "Factuur {invoice} van {debtor}.",
        "will_receive": "### Wat de debiteur ontvangt",
        "dossier": "### Dossier",
        "refused": "**Uw vorige antwoord is niet vastgelegd: {refused}.** Antwoord opnieuw.",
        "sort_out": "## Handel de betwisting van factuur {invoice} af ({debtor})",
        "sort_out_when": "_{step} gemeld {raised}; {who} handelt het af uiterlijk {due}. Deze factuur escaleert tot "
                         "dan niet verder; de andere facturen van de debiteur gaan door._",
        "contests": "**Wat de debiteur betwist:** {reason}",
        "not_recorded": "_niet vastgelegd_",
    },
}
_KINDS = {"en": {}, "nl": {"business": "zakelijk", "consumer": "consument"}}


def debtor_as_dict(d: Debtor) -> dict[str, str | None]:
    return {
        "number": d.number,
        "name": d.name,
        "kind": d.kind.value,
        "email": d.email,
        "phone": d.phone,
        "address": ", ".join(
            p for p in (d.street, f"{d.postcode or ''} {d.city or ''}".strip(), d.country) if p
        ),
        "language": d.language,
        "preferred_channel": d.preferred_channel.value,
    }


def _facts_table(session: Session, invoice: Invoice, today: date | None, language: str) -> list[str]:
    w = _WORDS[language]
    d = {key: md.text(value) for key, value in debtor_as_dict(invoice.debtor).items()}
    open_amount = invoices.open_amount(session, invoice)
    hold = []
    if invoice.debtor.hold_since is not None:
        since = local(invoice.debtor.hold_since).date().isoformat()
        hold = [w["hold"].format(since=since, reason=md.text(invoice.debtor.hold_reason)), ""]
    others = {i: amount for i, amount in invoices.owed_by(session, invoice.debtor).items() if i.id != invoice.id}

    def overdue(i: Invoice) -> str:
        days = (today - i.due_date).days if today else 0
        return w["overdue"].format(days=days) if days > 0 else ""

    other_rows = [
        w["also_open"].format(number=md.text(i.number), due=i.due_date.isoformat(), overdue=overdue(i),
                              currency=i.currency, amount=f"{amount:.2f}")
        for i, amount in others.items()
    ]
    times = invoice.debtor.call_times
    call_times = w["best_reached"].format(times=md.text(times)) if times else ""
    credit = sum((c.amount for c in session.scalars(
        select(DebtorCredit).where(DebtorCredit.debtor_id == invoice.debtor_id, DebtorCredit.applied_at.is_(None),
                                   DebtorCredit.released_at.is_(None)))), Decimal("0.00"))
    credit_rows = [w["credit"].format(currency=invoice.currency, amount=f"{credit:.2f}")] if credit > 0 else []
    kind = _KINDS[language].get(str(d["kind"]), d["kind"])
    unknown = w["unknown"]
    # The first row is the table's header: Markdown has no headerless tables.
    return [
        *hold,
        f"| {w['debtor']} | {d['name']} ({d['number']}, {kind}) |",
        "|---|---|",
        f"| {w['phone']} | {d['phone'] or unknown}{call_times} |",
        f"| {w['email']} | {d['email'] or unknown} |",
        f"| {w['address']} | {d['address'] or unknown} |",
        f"| {w['language_channel']} | {d['language']} / {d['preferred_channel']} |",
        w["invoice"].format(number=md.text(invoice.number), issued=invoice.issue_date.isoformat(),
                            due=invoice.due_date.isoformat(), overdue=overdue(invoice)),
        f"| {w['amount']} | {invoice.currency} {invoice.amount:.2f} |",
        f"| **{w['open_amount']}** | **{invoice.currency} {open_amount:.2f}** |",
        *other_rows,
        *credit_rows,
    ]


def call_sheet(
    session: Session,
    invoice: Invoice,
    task: HumanTask,
    reason: str,
    excuses: tuple[Excuse, ...] = BUILT_IN,
    language: str = "nl",
    missing_copy: Path | None = None,
) -> str:
    """What the collector reads before calling. `missing_copy`: where the invoice's PDF should be, when it is not
    there (a debtor who asks for a copy then gets an offer to send it, so the collector should know)."""
    w = _WORDS[language]
    entries = dossier.entries(session, invoice)
    calls = [e for e in entries if e.kind == "call"]
    promises = [e for e in calls if (e.data or {}).get("promised_on")]
    contacts = [e for e in entries if e.channel is not None][-3:][::-1]  # calls and messages, latest first
    open_now, today = invoices.open_amount(session, invoice), local(task.created_at).date()
    lines = [
        w["call"].format(debtor=md.text(invoice.debtor.name), invoice=md.text(invoice.number)),
        w["why"].format(reason=md.text(reason), opened=local(task.created_at).strftime("%Y-%m-%d %H:%M")),
        "",
        *_facts_table(session, invoice, local(task.created_at).date(), language),
        "",
        *([w["no_copy"].format(path=md.text(str(missing_copy))), ""] if missing_copy is not None else []),
        w["agreements"],
        *([_promise_line(e, entries, open_now, today, language) for e in promises if e.data] or [w["none"]]),
        "",
        w["disputes_plans"],
        *(_disputes_and_plans(session, invoice, language) or [w["none"]]),
        "",
        w["contacts"],
        *(
            [w["contact"].format(at=f"{local(e.at):%Y-%m-%d %H:%M}", by=md.text(e.by) or w["us"], channel=e.channel,
                                 summary=md.text(e.summary)) for e in contacts]
            or [w["no_contact"]]
        ),
        "",
        w["dossier_so_far"],
        dossier.as_markdown(entries, language),
        "",
        w["during"],
        w["during_text"],
        "",
        w["statement"].format(debtor=invoice.debtor.number),
        "",
        w["excuses"],
        *as_markdown(excuses, language),
    ]
    return "\n".join(lines)


def _promise_line(
    call: DossierEntry, entries: list[DossierEntry], open_now: Decimal, today: date, language: str
) -> str:
    """A promise and what became of it, as the collector needs to know before calling: running (its date has not
    passed), kept, or broken (a later note says so, or its date passed without the promised payment)."""
    data = call.data or {}
    on = data["promised_on"]
    amount = f"{data['promised_amount']} " if data.get("promised_amount") else ""
    promised = CallFact(
        step=Step.call(1),  # which call does not matter for keeping
        status=TaskStatus.done,
        promised_amount=Decimal(data["promised_amount"]) if data.get("promised_amount") else None,
        open_at_call=Decimal(data["open_at_call"]) if data.get("open_at_call") else None,
    )
    noted = any(e.kind == "note" and f"promise to pay by {on} broken" in e.summary for e in entries)
    w = _WORDS[language]
    if promised.promise_kept(open_now):
        verdict = w["kept"]
    elif noted or date.fromisoformat(on) < today:
        verdict = w["broken"]
    else:
        verdict = w["running"]
    return w["promise"].format(on=local(call.at).date(), amount=md.text(amount), by_date=md.text(on),
                               by=md.text(call.by) or w["unknown_person"], verdict=verdict)


def _disputes_and_plans(session: Session, invoice: Invoice, language: str) -> list[str]:
    w = _WORDS[language]
    lines = []
    for t in session.scalars(
        select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute)
    ):
        o = t.outcome or {}
        raised = local(t.created_at).date().isoformat()
        if t.status is TaskStatus.open:
            due = t.due_on.isoformat() if t.due_on else "?"
            state = w["dispute_open"].format(who=md.text(t.assignee) or w["nobody"], due=due)
        else:
            state = w["upheld"] if o.get("upheld") else w["rejected"]
            state += f" ({md.text(o['resolution'])})" if o.get("resolution") else ""
        lines.append(w["dispute"].format(step=t.step, raised=raised, reason=md.text(o.get("reason")), state=state))
    for p in session.scalars(select(PaymentPlan).where(PaymentPlan.invoice_id == invoice.id)):
        agreed = local(p.created_at).date().isoformat()
        parts = ", ".join(f"{i.due_on.isoformat()} {i.amount:.2f}" for i in p.instalments)
        ended = f" ({md.text(p.ended_because)})" if p.ended_because else ""
        lines.append(w["plan"].format(agreed=agreed, parts=parts, status=p.status.value, ended=ended))
    return lines


def approval_sheet(
    session: Session, invoice: Invoice, question: str, preview: tuple[str, str] | None = None, language: str = "nl"
) -> str:
    w = _WORDS[language]
    lines = [
        f"## {md.text(question)}",
        w["approval_invoice"].format(invoice=md.text(invoice.number), debtor=md.text(invoice.debtor.name)),
        "",
        *_facts_table(session, invoice, None, language),
        "",
    ]
    if preview is not None:
        subject, text = preview
        quoted = "\n".join(f"> {md.text(line)}" if line.strip() else ">" for line in text.splitlines())
        lines += [w["will_receive"], f"**{md.text(subject)}**", "", quoted, ""]
    lines += [
        w["dossier"],
        dossier.as_markdown(dossier.entries(session, invoice), language),
    ]
    return "\n".join(lines)


def dispute_sheet(
    session: Session, invoice: Invoice, task: HumanTask, refused: str | None = None, language: str = "nl"
) -> str:
    """What the person responsible reads before resolving a dispute in the Resume dialog."""
    w = _WORDS[language]
    o = task.outcome or {}
    raised = local(task.created_at).strftime("%Y-%m-%d %H:%M")
    due = task.due_on.isoformat() if task.due_on else "?"
    lines = []
    if refused:
        lines += [w["refused"].format(refused=md.text(refused)), ""]
    lines += [
        w["sort_out"].format(invoice=md.text(invoice.number), debtor=md.text(invoice.debtor.name)),
        w["sort_out_when"].format(step=task.step, raised=raised, who=md.text(task.assignee) or w["nobody"], due=due),
        "",
        w["contests"].format(reason=md.text(o.get("reason")) or w["not_recorded"]),
        "",
        *_facts_table(session, invoice, local(task.created_at).date(), language),
        "",
        w["dossier"],
        dossier.as_markdown(dossier.entries(session, invoice), language),
    ]
    return "\n".join(lines)
