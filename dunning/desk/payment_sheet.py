"""What a person sees before matching a bank line by hand: the line as the bank gave it, and the open invoices it
most likely pays (Markdown for the Prefect UI form), in the installation's language (settings.toml `language`).
What the bank wrote is shown as it is."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import bank, invoices
from dunning.domain import markdown as md
from dunning.storage.models import BankLine, Invoice


def _cell(text: str | None) -> str:
    """Bank text in a table cell, as text: a pipe, a line break or markup in it changes nothing."""
    return md.cell(text)


_WORDS = {
    "en": {
        "title": "## Payment of {currency} {amount} on {booked}: which invoices?",
        "why": "No rule matched this line: it names no payment reference or invoice number we know, and its account "
               "and amount fit no single debtor.",
        "from": "From", "account": "Account", "description": "Description", "reference": "Reference",
        "statement": "Statement", "entry": "entry",
        "likely": "### Likely invoices",
        "columns": "| Invoice | Debtor | Due | Open |",
        "no_likely": "No open invoice of a debtor with this name or account, nor one of about this amount.",
        "answer": "Answer with the invoice numbers it pays (and, if not the whole line oldest first, an amount each), "
                  "or mark it as not a debtor payment. What is left over stays as a credit on the debtor.",
    },
    "nl": {
        "title": "## Betaling van {currency} {amount} op {booked}: welke facturen?",
        "why": "Geen regel herkende deze betaling: ze noemt geen betalingskenmerk of factuurnummer dat wij kennen, en "
               "rekening en bedrag passen bij geen enkele debiteur.",
        "from": "Van", "account": "Rekening", "description": "Omschrijving", "reference": "Kenmerk",
        "statement": "Afschrift", "entry": "post",
        "likely": "### Waarschijnlijke facturen",
        "columns": "| Factuur | Debiteur | Vervaldatum | Open |",
        "no_likely": "Geen open factuur van een debiteur met deze naam of rekening, en ook geen van ongeveer dit "
                     "bedrag.",
        "answer": "Antwoord met de factuurnummers die ze betaalt (en een bedrag per factuur, als het niet de hele "
                  "betaling is, oudste factuur eerst), of kies not a debtor payment. Wat overblijft wordt tegoed van "
                  "de debiteur.",
    },
}


def payment_sheet(session: Session, line: BankLine, language: str = "nl") -> str:
    w = _WORDS[language]
    likely = bank.suggestions(session, [line]).get(line.id, [])
    found = {i.number: i for i in session.scalars(select(Invoice).where(Invoice.number.in_(likely)))}
    rows = [
        f"| {md.text(n)} | {_cell(found[n].debtor.name)} ({md.text(found[n].debtor.number)}) | "
        f"{found[n].due_date.isoformat()} | {found[n].currency} {invoices.open_amount(session, found[n]):.2f} |"
        for n in likely
    ]
    lines = [
        w["title"].format(currency=line.currency, amount=f"{line.amount:.2f}", booked=line.booked.isoformat()),
        "",
        w["why"],
        "",
        "| | |",
        "|---|---|",
        f"| {w['from']} | {_cell(line.counterparty)} |",
        f"| {w['account']} | {_cell(line.iban)} |",
        f"| {w['description']} | {_cell(line.remittance)} |",
        f"| {w['reference']} | {_cell(line.reference)} |",
        f"| {w['statement']} | {_cell(line.file)}, {w['entry']} {line.entry} |",
        "",
    ]
    if rows:
        lines += [w["likely"], "", w["columns"], "|---|---|---|---|", *rows, ""]
    else:
        lines += [w["no_likely"], ""]
    lines += [w["answer"]]
    return "\n".join(lines)
