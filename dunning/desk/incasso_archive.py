"""The archive the incasso agency receives with a hand-off: one zip per invoice, `DUNNING_HOME/incasso/<invoice>.zip`,
beside the JSON file (`incasso.agency_file`). Its layout, documented in its own README.txt and in
docs/incasso-archive.md:

    README.txt                      what is in it, and the columns of the summary
    SHA256SUMS                      the SHA-256 of every other file (sha256sum -c)
    claim.json                      the claim statement, as the JSON file has it under "claim"
    dossier.pdf                     the dossier (the evidence) as a table, A4 landscape
    invoice.pdf                     the invoice as the debtor received it, when one is on file
    messages/<n>-<step>-<channel>.eml   every e-mail exactly as sent (the bytes handed to the mail server)
    messages/<n>-<step>-letter.pdf      every letter exactly as printed and posted
    summary.csv                     one row: the invoice, the debtor, the amounts and dates (`COLUMNS`)
    summary.json                    the same row as JSON, with the layout's name

Deterministic: the same hand-off (the same facts on the same day) writes the same bytes: entries sorted by name,
every entry dated 1980-01-01 00:00 (the earliest a zip can say) with the same permissions, the PDF dated by the
hand-off's day. Written to a temporary name and renamed, so the agency never picks up half an archive."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dunning.casework import dossier, facts, invoices
from dunning.domain.kinds import Channel, OutboxStatus, PaymentKind
from dunning.domain.steps import Message
from dunning.domain.time import local
from dunning.storage.config import Installation
from dunning.storage.files import inside, slug
from dunning.storage.models import DossierEntry, Invoice, OutboxMessage

LAYOUT = "dunning-incasso-summary-1"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZERO = Decimal("0.00")

# The summary's columns, in order: (name, what it holds). Amounts: a dot for decimals, two decimals, no thousands
# separator, in `currency`; dates ISO 8601 (YYYY-MM-DD); empty when not known.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("invoice", "the invoice number"),
    ("currency", "ISO 4217 code of every amount in the row, e.g. EUR"),
    ("debtor_number", "our number for the debtor"),
    ("debtor_name", "the debtor's name"),
    ("debtor_kind", "consumer or business (BW 6:96 lid 6 and the consumer rules apply to a consumer)"),
    ("debtor_contact_name", "the person letters are addressed to (t.a.v.)"),
    ("debtor_street", "street and house number"),
    ("debtor_postcode", "postcode"),
    ("debtor_city", "town"),
    ("debtor_country", "ISO 3166 alpha-2 code; empty: the Netherlands"),
    ("debtor_email", "e-mail address"),
    ("debtor_phone", "phone number"),
    ("debtor_company_id", "Chamber of Commerce (KvK) or other registration number"),
    ("debtor_vat_id", "VAT number"),
    ("debtor_language", "the language the debtor was written to in: nl or en"),
    ("issue_date", "the invoice's date"),
    ("due_date", "the date it was due"),
    ("invoice_amount", "the invoice's amount"),
    ("paid", "payments that stand (a payment the bank took back does not), and what the books settled"),
    ("credited", "credit notes and write-offs"),
    ("open", "invoice_amount - paid - credited"),
    ("principal", "the claim's principal: the invoice less credits, less the payments BW 6:44 applied to it "
                  "(payments go to costs and interest first, so it may exceed open)"),
    ("interest", "statutory interest owed on the hand-off day (BW 6:119 or 6:119a)"),
    ("interest_from", "the first day of that interest"),
    ("collection_costs", "extrajudicial collection costs (BW 6:96, Besluit BIK), incl. VAT when collection_costs_vat"),
    ("collection_costs_vat", "true when VAT is charged on the collection costs"),
    ("claim_total", "principal + interest + collection_costs: what the claim comes to after the term"),
    ("ingebrekestelling_sent_on", "the day the ingebrekestelling (14-dagenbrief for a consumer) first went out; "
                                  "a letter: the day it was posted"),
    ("term_ended_on", "the last day of the term it gave (the latest, when it went by e-mail and by letter)"),
    ("payment_reference", "the invoice's payment reference (ISO 11649, compact) payments were asked to quote"),
    ("handed_off_on", "the day of the hand-off: the day the amounts are stated for"),
)
NAMES = tuple(name for name, _ in COLUMNS)



def archive_path(inst: Installation, invoice: Invoice) -> Path:
    return inside(inst.incasso_dir, f"{slug(invoice.number)}.zip")


def write(session: Session, inst: Installation, invoice: Invoice, now: datetime, export: Mapping[str, Any]) -> Path:
    """The archive of this hand-off, beside the JSON file; `export` is what that file holds."""
    path = archive_path(inst, invoice)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, archive_bytes(session, inst, invoice, now, export))
    return path


def write_atomically(path: Path, content: bytes) -> None:
    """Written aside and renamed: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def archive_bytes(
    session: Session, inst: Installation, invoice: Invoice, now: datetime, export: Mapping[str, Any]
) -> bytes:
    today = local(now).date()
    entries = dossier.entries(session, invoice)
    row = summary_row(session, invoice, export, entries)
    files: dict[str, bytes] = {
        "claim.json": _json(export["claim"]),
        "dossier.pdf": _dossier_pdf(inst, invoice, entries, row, today),
        "summary.csv": summary_csv([row]),
        "summary.json": _json({"layout": LAYOUT, "columns": list(NAMES), "rows": [row]}),
    }
    for name, content in messages(session, invoice, entries).items():
        files[f"messages/{name}"] = content
    copy = inst.invoice_copy(invoice.number)
    if copy.is_file():
        files["invoice.pdf"] = copy.read_bytes()
    files["README.txt"] = readme(invoice, today, sorted(files)).encode("utf-8")
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(content).hexdigest()}  {name}\n" for name, content in sorted(files.items())
    ).encode("utf-8")
    return zip_bytes(files)


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A zip of `files` that depends on nothing but them: sorted, fixed dates and permissions, one compressor."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine writes it
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


# -- the parts ---------------------------------------------------------------------------------------------


def messages(session: Session, invoice: Invoice, entries: list[DossierEntry]) -> dict[str, bytes]:
    """Every message sent about this invoice, exactly as sent, in the order sent: its own outbox rows (a combined
    e-mail's row holds the whole e-mail) and the statements of account that listed it."""
    statements = {str((e.data or {}).get("outbox")) for e in entries
                  if e.kind == Message.rekeningoverzicht.value and (e.data or {}).get("outbox")}
    rows = session.scalars(
        select(OutboxMessage)
        .where(or_(OutboxMessage.invoice_id == invoice.id, OutboxMessage.key.in_(statements)),
               OutboxMessage.status == OutboxStatus.sent, OutboxMessage.content.is_not(None))
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    )
    found = {}
    for n, row in enumerate(rows, start=1):
        suffix = "eml" if row.channel is Channel.email else "pdf"
        assert row.content is not None
        found[f"{n:02d}-{_safe(str(row.step))}-{row.channel.value}.{suffix}"] = row.content
    return found


def summary_row(
    session: Session, invoice: Invoice, export: Mapping[str, Any], entries: list[DossierEntry]
) -> dict[str, str]:
    """The summary's one row, as text (empty when not known), in the order of `COLUMNS`."""
    debtor = invoice.debtor
    claim = export["claim"]
    standing = invoices.standing(list(invoice.payments))
    paid = sum((p.amount for p in standing if p.kind in (PaymentKind.payment, PaymentKind.settled)), ZERO)
    credited = sum((p.amount for p in standing if p.kind in (PaymentKind.credit_note, PaymentKind.write_off)),
                   ZERO)
    total = Decimal(claim["principal"]) + Decimal(claim["interest"]) + Decimal(claim["collection_costs"])
    sent = _ingebrekestelling_sent(entries)
    term = facts.load(session, invoice).term_deadline
    values: dict[str, object] = {
        "invoice": invoice.number,
        "currency": invoice.currency,
        "debtor_number": debtor.number,
        "debtor_name": debtor.name,
        "debtor_kind": debtor.kind.value,
        "debtor_contact_name": debtor.contact_name,
        "debtor_street": debtor.street,
        "debtor_postcode": debtor.postcode,
        "debtor_city": debtor.city,
        "debtor_country": debtor.country,
        "debtor_email": debtor.email,
        "debtor_phone": debtor.phone,
        "debtor_company_id": debtor.company_id,
        "debtor_vat_id": debtor.vat_id,
        "debtor_language": debtor.language,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "invoice_amount": f"{invoice.amount:.2f}",
        "paid": f"{paid:.2f}",
        "credited": f"{credited:.2f}",
        "open": f"{invoice.amount - paid - credited:.2f}",
        "principal": claim["principal"],
        "interest": claim["interest"],
        "interest_from": claim["interest_from"],
        "collection_costs": claim["collection_costs"],
        "collection_costs_vat": "true" if claim["collection_costs_vat"] else "false",
        "claim_total": f"{total:.2f}",
        "ingebrekestelling_sent_on": sent.isoformat() if sent else None,
        "term_ended_on": term.isoformat() if term else None,
        "payment_reference": invoice.payment_reference,
        "handed_off_on": claim["as_of"],
    }
    assert tuple(values) == NAMES
    return {name: "" if value is None else str(value) for name, value in values.items()}


def _ingebrekestelling_sent(entries: list[DossierEntry]) -> date | None:
    days = []
    for e in entries:
        if e.kind == Message.ingebrekestelling.value:
            posted = (e.data or {}).get("posted_on")
            days.append(date.fromisoformat(posted) if posted else local(e.at).date())
    return min(days, default=None)


def summary_csv(rows: list[dict[str, str]]) -> bytes:
    """UTF-8, comma-separated, a header row of the column names, CRLF line ends, quoted where needed."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=NAMES, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def readme(invoice: Invoice, today: date, names: list[str]) -> str:
    listed = "\n".join(f"  {name}" for name in [*names, "README.txt", "SHA256SUMS"])
    columns = "\n".join(f"  {name:<26} {what}" for name, what in COLUMNS)
    return f"""Incasso hand-off of invoice {invoice.number}, {today.isoformat()}

Files (layout {LAYOUT}):
{listed}

  claim.json      the claim statement on the hand-off day: principal, interest (and from when), collection
                  costs, what is due now and after the term, and how payments were applied (BW 6:44)
  dossier.pdf     every contact with the debtor and all evidence, oldest first, with each message's SHA-256
  invoice.pdf     the invoice as the debtor received it (only when one is on file)
  messages/       every message exactly as sent, numbered in the order sent: <n>-<step>-<channel>.eml (the
                  e-mail's bytes as handed to the mail server) or .pdf (the letter as printed and posted);
                  their SHA-256 is the content hash in the dossier
  summary.csv     one row, the columns below: UTF-8, comma-separated, a header row, CRLF line ends
  summary.json    {{"layout": "{LAYOUT}", "columns": [...], "rows": [{{column: value}}]}}, the same row
  SHA256SUMS      the SHA-256 of every other file; check with: sha256sum -c SHA256SUMS

Columns of the summary (every value is text; amounts with a dot and two decimals, in the row's currency;
dates YYYY-MM-DD; empty when not known):
{columns}
"""


def _dossier_pdf(inst: Installation, invoice: Invoice, entries: list[DossierEntry], row: Mapping[str, str],
                 today: date) -> bytes:
    from dunning.desk.dossier_pdf import dossier_pdf  # fpdf2 only where a hand-off is made (see that module)

    return dossier_pdf(inst, invoice, entries, row, today)


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _safe(text: str) -> str:
    """A step as a file name: letters, digits, '-', '_', '.' and '@' as they are, anything else '_'."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.@") else "_" for c in text)
