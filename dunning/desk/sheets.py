"""What a person sees before acting: the call sheet and the approval sheet (Markdown for the Prefect UI)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier, invoices
from dunning.desk.excuses import BUILT_IN, Excuse, as_markdown
from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.ladder import CallFact
from dunning.domain.steps import Step
from dunning.domain.time import local
from dunning.storage.models import Debtor, DebtorCredit, DossierEntry, HumanTask, Invoice, PaymentPlan


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


def _facts_table(session: Session, invoice: Invoice, today: date | None = None) -> list[str]:
    d = debtor_as_dict(invoice.debtor)
    open_amount = invoices.open_amount(session, invoice)
    hold = []
    if invoice.debtor.hold_since is not None:
        since = local(invoice.debtor.hold_since).date().isoformat()
        hold = [f"**Credit hold since {since}: no new deliveries** ({invoice.debtor.hold_reason})", ""]
    others = [i for i in invoices.open_of_debtor(session, invoice.debtor) if i.id != invoice.id]
    def overdue(i: Invoice) -> str:
        days = (today - i.due_date).days if today else 0
        return f" ({days} days overdue)" if days > 0 else ""

    other_rows = [
        f"| Also open | {i.number}, due {i.due_date.isoformat()}{overdue(i)}: {i.currency} "
        f"{invoices.open_amount(session, i):.2f} |"
        for i in others
    ]
    call_times = f" (best reached: {invoice.debtor.call_times})" if invoice.debtor.call_times else ""
    credit = sum((c.amount for c in session.scalars(
        select(DebtorCredit).where(DebtorCredit.debtor_id == invoice.debtor_id, DebtorCredit.applied_at.is_(None),
                                   DebtorCredit.released_at.is_(None)))), Decimal("0.00"))
    credit_rows = [
        f"| Credit with us | {invoice.currency} {credit:.2f} paid beyond what was open: offer it for this "
        f"invoice (`dunning credits`) |"
    ] if credit > 0 else []
    # The first row is the table's header: Markdown has no headerless tables.
    return [
        *hold,
        f"| Debtor | {d['name']} ({d['number']}, {d['kind']}) |",
        "|---|---|",
        f"| Phone | {d['phone'] or '_unknown_'}{call_times} |",
        f"| E-mail | {d['email'] or '_unknown_'} |",
        f"| Address | {d['address'] or '_unknown_'} |",
        f"| Language / channel | {d['language']} / {d['preferred_channel']} |",
        f"| Invoice | {invoice.number}, issued {invoice.issue_date.isoformat()}, due {invoice.due_date.isoformat()}"
        f"{overdue(invoice)} |",
        f"| Amount | {invoice.currency} {invoice.amount:.2f} |",
        f"| **Open amount** | **{invoice.currency} {open_amount:.2f}** |",
        *other_rows,
        *credit_rows,
    ]


def call_sheet(
    session: Session, invoice: Invoice, task: HumanTask, reason: str, excuses: tuple[Excuse, ...] = BUILT_IN
) -> str:
    entries = dossier.entries(session, invoice)
    calls = [e for e in entries if e.kind == "call"]
    promises = [e for e in calls if (e.data or {}).get("promised_on")]
    contacts = [e for e in entries if e.channel is not None][-3:][::-1]  # calls and messages, latest first
    open_now, today = invoices.open_amount(session, invoice), local(task.created_at).date()
    lines = [
        f"## Call {invoice.debtor.name} about invoice {invoice.number}",
        f"_Why now: {reason}. Task opened {local(task.created_at).strftime('%Y-%m-%d %H:%M')}._",
        "",
        *_facts_table(session, invoice, local(task.created_at).date()),
        "",
        "### Earlier agreements",
        *([_promise_line(e, entries, open_now, today) for e in promises if e.data] or ["_None._"]),
        "",
        "### Disputes and payment plans",
        *(_disputes_and_plans(session, invoice) or ["_None._"]),
        "",
        "### Last contacts",
        *(
            [f"- {local(e.at):%Y-%m-%d %H:%M} by {e.by or 'us'} ({e.channel}): {e.summary}" for e in contacts]
            or ["_No earlier contact._"]
        ),
        "",
        "### Dossier so far",
        dossier.as_markdown(entries),
        "",
        "### During the call",
        "Introduce yourself, name the invoice and the open amount, ask when it will be paid and agree a concrete "
        "date and amount. Summarise the agreement before you hang up. Then fill in the outcome below.",
        "",
        "### Common excuses",
        *as_markdown(excuses),
    ]
    return "\n".join(lines)


def _promise_line(call: DossierEntry, entries: list[DossierEntry], open_now: Decimal, today: date) -> str:
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
    if promised.promise_kept(open_now):
        verdict = "kept"
    elif noted or date.fromisoformat(on) < today:
        verdict = "**broken**"
    else:
        verdict = "running"
    return f"- promised on {local(call.at).date()} to pay {amount}by **{on}** ({call.by or 'unknown'}): {verdict}"


def _disputes_and_plans(session: Session, invoice: Invoice) -> list[str]:
    lines = []
    for t in session.scalars(
        select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute)
    ):
        o = t.outcome or {}
        raised = local(t.created_at).date().isoformat()
        if t.status is TaskStatus.open:
            who = t.assignee or "nobody named"
            state = f"**open**: {who} sorts it out by {t.due_on.isoformat() if t.due_on else '?'}"
        else:
            state = "upheld" if o.get("upheld") else "rejected"
            state += f" ({o['resolution']})" if o.get("resolution") else ""
        lines.append(f"- {t.step} raised {raised}: {o.get('reason')}; {state}")
    for p in session.scalars(select(PaymentPlan).where(PaymentPlan.invoice_id == invoice.id)):
        agreed = local(p.created_at).date().isoformat()
        parts = ", ".join(f"{i.due_on.isoformat()} {i.amount:.2f}" for i in p.instalments)
        ended = f" ({p.ended_because})" if p.ended_because else ""
        lines.append(f"- payment plan agreed {agreed}: {parts}; **{p.status.value}**{ended}")
    return lines


def approval_sheet(
    session: Session, invoice: Invoice, question: str, preview: tuple[str, str] | None = None
) -> str:
    lines = [
        f"## {question}",
        f"Invoice {invoice.number} of {invoice.debtor.name}.",
        "",
        *_facts_table(session, invoice),
        "",
    ]
    if preview is not None:
        subject, text = preview
        quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
        lines += ["### What the debtor will receive", f"**{subject}**", "", quoted, ""]
    lines += [
        "### Dossier",
        dossier.as_markdown(dossier.entries(session, invoice)),
    ]
    return "\n".join(lines)


def dispute_sheet(session: Session, invoice: Invoice, task: HumanTask, refused: str | None = None) -> str:
    """What the person responsible reads before resolving a dispute in the Resume dialog."""
    o = task.outcome or {}
    raised = local(task.created_at).strftime("%Y-%m-%d %H:%M")
    due = task.due_on.isoformat() if task.due_on else "?"
    lines = []
    if refused:
        lines += [f"**Your last answer was not recorded: {refused}.** Please answer again.", ""]
    lines += [
        f"## Sort out the dispute about invoice {invoice.number} ({invoice.debtor.name})",
        f"_{task.step} raised {raised}; {task.assignee or 'nobody named'} sorts it out by {due}. Escalation of "
        "this invoice stands still until then; the debtor's other invoices go on._",
        "",
        f"**What the debtor contests:** {o.get('reason') or '_not recorded_'}",
        "",
        *_facts_table(session, invoice, local(task.created_at).date()),
        "",
        "### Dossier",
        dossier.as_markdown(dossier.entries(session, invoice)),
    ]
    return "\n".join(lines)
