"""The hand-off to the incasso agency: what the agency receives (`export`: the JSON file with the invoice, the
debtor, the claim as of today and the whole dossier, and beside it the archive of `incasso_archive` with the
dossier as PDF, every message as sent, the claim and a summary to import) and its record, which closes the case."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dunning.casework import dossier, facts, invoices
from dunning.desk import incasso_archive
from dunning.desk.sheets import debtor_as_dict
from dunning.domain.time import local
from dunning.messaging import compose
from dunning.storage.config import Installation
from dunning.storage.files import inside, slug
from dunning.storage.models import Invoice


def agency_file(session: Session, inst: Installation, invoice: Invoice, now: datetime) -> dict[str, Any]:
    today = local(now).date()
    statement = compose.claim_statement(session, inst, invoice, today, facts.load(session, invoice).term_deadline)
    return {
        "invoice": {
            "number": invoice.number,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "amount": str(invoice.amount),
            "open_amount": str(invoices.open_amount(session, invoice)),
            "currency": invoice.currency,
        },
        "debtor": debtor_as_dict(invoice.debtor),
        "claim": {"as_of": today.isoformat(), **statement.as_data()},
        "dossier": [dossier.as_json(e) for e in dossier.entries(session, invoice)],
    }


def export(session: Session, inst: Installation, invoice: Invoice, now: datetime) -> Path:
    """Write what the agency receives, before the hand-off is recorded: `DUNNING_HOME/incasso/<invoice>.json`
    (`agency_file`) and, beside it, `<invoice>.zip` (`incasso_archive`). Each is written aside and renamed, and a
    replay of the same hand-off writes the same bytes. Returns the JSON file's path."""
    data = agency_file(session, inst, invoice, now)
    inst.incasso_dir.mkdir(parents=True, exist_ok=True)
    path = inside(inst.incasso_dir, f"{slug(invoice.number)}.json")
    incasso_archive.write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))
    incasso_archive.write(session, inst, invoice, now, data)
    return path


def record_hand_off(session: Session, invoice: Invoice, file_name: str, now: datetime) -> None:
    """Recorded after the file is written, so a replay rewrites the same file and never records twice."""
    dossier.record(
        session,
        invoice,
        key=f"{invoice.number}:incasso",
        kind="incasso",
        at=now,
        summary=f"handed to the incasso agency; dossier exported to {file_name}",
    )
    invoice.closed_reason = "incasso"
    invoice.wake_at = None
