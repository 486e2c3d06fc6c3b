"""What a person sees before matching a bank line by hand: the line as the bank gave it, and the open invoices it
most likely pays (Markdown for the Prefect UI form)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import bank, invoices
from dunning.storage.models import BankLine, Invoice


def _cell(text: str | None) -> str:
    """Bank text in a table cell: a pipe or a line break would break the table."""
    return " ".join((text or "").replace("|", "/").split()) or "-"


def payment_sheet(session: Session, line: BankLine) -> str:
    likely = bank.suggestions(session, [line]).get(line.id, [])
    found = {i.number: i for i in session.scalars(select(Invoice).where(Invoice.number.in_(likely)))}
    rows = [
        f"| {n} | {_cell(found[n].debtor.name)} ({found[n].debtor.number}) | {found[n].due_date.isoformat()} | "
        f"{found[n].currency} {invoices.open_amount(session, found[n]):.2f} |"
        for n in likely
    ]
    lines = [
        f"## Payment of {line.currency} {line.amount:.2f} on {line.booked.isoformat()}: which invoices?",
        "",
        "No rule matched this line: it names no payment reference or invoice number we know, and its account "
        "and amount fit no single debtor. / Geen regel herkende deze betaling.",
        "",
        "| | |",
        "|---|---|",
        f"| From / Van | {_cell(line.counterparty)} |",
        f"| Account / Rekening | {_cell(line.iban)} |",
        f"| Description / Omschrijving | {_cell(line.remittance)} |",
        f"| Reference / Kenmerk | {_cell(line.reference)} |",
        f"| Statement / Afschrift | {_cell(line.file)}, entry {line.entry} |",
        "",
    ]
    if rows:
        lines += ["### Likely invoices / Waarschijnlijke facturen", "",
                  "| Invoice | Debtor | Due | Open |", "|---|---|---|---|", *rows, ""]
    else:
        lines += ["No open invoice of a debtor with this name or account, nor one of about this amount.", ""]
    lines += [
        "Answer with the invoice numbers it pays (and, if not the whole line oldest first, an amount each), or "
        "mark it as not a debtor payment. What is left over stays as a credit on the debtor.",
    ]
    return "\n".join(lines)
