"""The incasso hand-off's archive (`dunning.desk.incasso_archive`), on SQLite and PostgreSQL: beside the JSON file
(kept as it was), `incasso/<invoice>.zip` with the dossier as PDF, every message exactly as sent, the claim
statement, and one summary row as CSV and JSON in the documented layout; the same hand-off replayed writes the
same bytes; nothing half-written is ever seen."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from dunning.casework import invoices
from dunning.desk import incasso, incasso_archive
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, PaymentKind
from dunning.domain.steps import Message, Step
from dunning.messaging import outbox
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice, OutboxMessage

NOW = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)  # the hand-off
DOCS = Path(__file__).resolve().parents[2] / "docs" / "incasso-archive.md"


def _sent(s, invoice: Invoice, message: Message, channel: Channel, at: datetime, content: bytes,
          data: dict | None = None, status: OutboxStatus = OutboxStatus.sent, attempt: int = 1) -> OutboxMessage:
    composed = outbox.Composed("jan@example.invalid" if channel is Channel.email else "Jan de Vries, Dorpsstraat 1",
                               f"{message.value} {invoice.number}", content,
                               f"<{message.value}@example.invalid>" if channel is Channel.email else None,
                               data or {})
    row = outbox.prepare(s, invoice, Step.send(message), channel, at, lambda: composed, attempt=attempt)
    if status is OutboxStatus.sent:
        outbox.mark_sent(s, row, invoice, at, confirmed=True)
    elif status is OutboxStatus.refused:
        outbox.refuse_in_place(s, row, invoice, at, "550 no such user")
    else:
        row.status = status
    return row


def _case(inst: Installation) -> dict[str, bytes]:
    """F-1 of a consumer, 1,840.00, paid 100.00 and credited 40.00, through the whole ladder: herinnering and
    aanmaning by e-mail, the ingebrekestelling by e-mail and by letter (posted), the incasso-aankondiging; a
    letter voided and one e-mail refused (neither went out). Returns what each message was, by outbox key."""
    with db.transaction(inst) as s:
        clock.set_simulated(s, NOW)
        debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.invalid",
                        phone="06 1234 5678", street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht",
                        country="NL", language="nl", preferred_channel=Channel.email, contact_name="Jan",
                        company_id=None, vat_id=None)
        invoice = Invoice(number="F-1", debtor=debtor, issue_date=date(2026, 8, 1), due_date=date(2026, 8, 31),
                          amount=Decimal("1840.00"), currency="EUR")
        s.add(invoice)
        s.flush()
        invoices.register_payment(s, invoice, Decimal("100.00"), date(2026, 9, 20), NOW - timedelta(days=80))
        invoices.register_credit(s, invoice, Decimal("40.00"), PaymentKind.credit_note, "CN-7",
                                 NOW - timedelta(days=75))
        day = timedelta(days=1)
        rows = [
            _sent(s, invoice, Message.herinnering, Channel.email, NOW - 70 * day, b"From: a\r\n\r\nherinnering\r\n"),
            _sent(s, invoice, Message.aanmaning, Channel.email, NOW - 60 * day, b"From: a\r\n\r\naanmaning\r\n",
                  {"deadline": "2026-10-28"}),
            _sent(s, invoice, Message.ingebrekestelling, Channel.email, NOW - 45 * day, b"From: a\r\n\r\nibs\r\n",
                  {"deadline": "2026-11-13", "sent_on": "2026-10-30"}),
            _sent(s, invoice, Message.ingebrekestelling, Channel.letter, NOW - 44 * day, b"%PDF-1.4 posted",
                  {"deadline": "2026-11-16", "printed_on": "2026-10-31", "posted_on": "2026-10-31"}, attempt=2),
            _sent(s, invoice, Message.incasso_aankondiging, Channel.email, NOW - 10 * day, b"From: a\r\n\r\nink\r\n",
                  {"deadline": "2026-12-13"}),
        ]
        _sent(s, invoice, Message.ingebrekestelling, Channel.letter, NOW - 46 * day, b"%PDF-1.4 voided",
              {"printed_on": "2026-10-29"}, status=OutboxStatus.voided)
        _sent(s, invoice, Message.betaalafspraak, Channel.email, NOW - 50 * day, b"never", status=OutboxStatus.refused)
        return {r.key: bytes(r.content or b"") for r in rows}


def _export(inst: Installation, now: datetime = NOW) -> tuple[Path, Path]:
    with db.transaction(inst) as s:
        path = incasso.export(s, inst, invoices.get(s, "F-1"), now)
    return path, inst.incasso_dir / "F-1.zip"


def _zip(path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(path.read_bytes()))


def test_the_archive_holds_the_dossier_every_message_as_sent_the_claim_and_the_summary(installation):
    sent = _case(installation)
    (installation.home / "invoices").mkdir()
    (installation.home / "invoices" / "F-1.pdf").write_bytes(b"%PDF-1.4 the invoice")

    json_path, zip_path = _export(installation)

    archive = _zip(zip_path)
    names = archive.namelist()
    assert names == sorted(names) == [
        "README.txt", "SHA256SUMS", "claim.json", "dossier.pdf", "invoice.pdf",
        "messages/01-herinnering-email.eml", "messages/02-aanmaning-email.eml",
        "messages/03-ingebrekestelling-email.eml", "messages/04-ingebrekestelling-letter.pdf",
        "messages/05-incasso-aankondiging-email.eml", "summary.csv", "summary.json",
    ]
    # Every message exactly as sent (the voided letter and the refused e-mail never went out).
    assert [archive.read(n) for n in names if n.startswith("messages/")] == list(sent.values())
    assert archive.read("invoice.pdf") == b"%PDF-1.4 the invoice"

    # The JSON file as it was, and the claim statement as it has it.
    export = json.loads(json_path.read_text(encoding="utf-8"))
    assert set(export) == {"invoice", "debtor", "claim", "dossier"}
    assert json.loads(archive.read("claim.json")) == export["claim"]
    assert export["claim"]["as_of"] == "2026-12-14"

    # One row, the same in CSV and JSON, in the documented columns.
    [row] = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode("utf-8"))))
    assert list(row) == list(incasso_archive.NAMES)
    assert archive.read("summary.csv").startswith(b"invoice,currency,debtor_number,") and b"\r\n" in archive.read(
        "summary.csv")
    summary = json.loads(archive.read("summary.json"))
    assert summary == {"layout": incasso_archive.LAYOUT, "columns": list(incasso_archive.NAMES), "rows": [row]}
    claim = export["claim"]
    assert {k: row[k] for k in (
        "invoice", "currency", "debtor_number", "debtor_name", "debtor_kind", "debtor_street", "debtor_postcode",
        "debtor_city", "debtor_email", "issue_date", "due_date", "invoice_amount", "paid", "credited", "open",
        "ingebrekestelling_sent_on", "term_ended_on", "handed_off_on", "debtor_company_id",
    )} == {
        "invoice": "F-1", "currency": "EUR", "debtor_number": "D-1", "debtor_name": "Jan de Vries",
        "debtor_kind": "consumer", "debtor_street": "Dorpsstraat 1", "debtor_postcode": "1234 AB",
        "debtor_city": "Utrecht", "debtor_email": "jan@example.invalid", "issue_date": "2026-08-01",
        "due_date": "2026-08-31", "invoice_amount": "1840.00", "paid": "100.00", "credited": "40.00",
        "open": "1700.00",
        "ingebrekestelling_sent_on": "2026-10-30",  # the e-mail, the day before the letter was posted
        "term_ended_on": "2026-11-16",  # the letter's later term governs
        "handed_off_on": "2026-12-14", "debtor_company_id": "",
    }
    assert (row["principal"], row["interest"], row["collection_costs"]) == (
        claim["principal"], claim["interest"], claim["collection_costs"])
    assert Decimal(row["claim_total"]) == (Decimal(claim["principal"]) + Decimal(claim["interest"])
                                           + Decimal(claim["collection_costs"])) == Decimal(claim["due_after_term"])
    assert Decimal(row["collection_costs"]) > 0 and row["collection_costs_vat"] == "false"
    with db.transaction(installation) as s:
        assert row["payment_reference"] == invoices.get(s, "F-1").payment_reference

    # The dossier as PDF: every entry, with the hash that ties it to its message.
    pdf = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(archive.read("dossier.pdf"))).pages)
    assert "Dossier van factuur F-1" in pdf
    for summary_text in ("herinnering sent by email to jan@example.invalid", "ingebrekestelling sent by letter",
                         "not sent by email"):
        assert summary_text in pdf, summary_text
    assert hashlib.sha256(sent["F-1:herinnering:email:1"]).hexdigest() in pdf.replace(" ", "")

    # What is in it is said in it, and checkable.
    readme = archive.read("README.txt").decode("utf-8")
    for name in incasso_archive.NAMES:
        assert f"  {name} " in readme, name
    sums = dict(reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines())
    assert set(sums) == set(names) - {"SHA256SUMS"}
    assert all(hashlib.sha256(archive.read(n)).hexdigest() == digest for n, digest in sums.items())


def test_the_same_hand_off_replayed_writes_byte_identical_files_and_leaves_nothing_half_written(installation):
    _case(installation)

    json_path, zip_path = _export(installation)
    first = (json_path.read_bytes(), zip_path.read_bytes())
    _export(installation, NOW + timedelta(hours=3))  # a replay the same day, after a crash before the record

    assert (json_path.read_bytes(), zip_path.read_bytes()) == first
    assert sorted(p.name for p in installation.incasso_dir.iterdir()) == ["F-1.json", "F-1.zip"]
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in _zip(zip_path).infolist())

    with db.transaction(installation) as s:
        incasso.record_hand_off(s, invoices.get(s, "F-1"), json_path.name, NOW)
    with db.transaction(installation) as s:
        assert invoices.get(s, "F-1").closed_reason == "incasso"


def test_a_statement_of_account_that_listed_the_invoice_is_among_its_messages(installation):
    from dunning.casework import dossier

    _case(installation)
    with db.transaction(installation) as s:
        other = Invoice(number="F-0", debtor=invoices.get(s, "F-1").debtor, issue_date=date(2026, 7, 1),
                        due_date=date(2026, 7, 31), amount=Decimal("10.00"), currency="EUR")
        s.add(other)
        s.flush()
        row = OutboxMessage(key="D-1:rekeningoverzicht:2026-12-01:email:1", invoice_id=other.id,
                            step=Step.send(Message.rekeningoverzicht), channel=Channel.email, attempt=1,
                            status=OutboxStatus.sent, recipient="jan@example.invalid", subject="Rekeningoverzicht",
                            content=b"From: a\r\n\r\nstatement\r\n", created_at=NOW - timedelta(days=13),
                            sent_at=NOW - timedelta(days=13))
        s.add(row)
        s.flush()
        dossier.record(s, invoices.get(s, "F-1"), key=f"{row.key}:F-1", kind="rekeningoverzicht",
                       at=NOW - timedelta(days=13), channel="email", summary="statement of account sent (email)",
                       data={"outbox": row.key})

    _, zip_path = _export(installation)

    archive = _zip(zip_path)
    [name] = [n for n in archive.namelist() if "rekeningoverzicht" in n]
    assert name == "messages/05-rekeningoverzicht-email.eml" and archive.read(name) == row.content


def test_every_column_is_documented(installation):
    docs = DOCS.read_text(encoding="utf-8")
    for name in incasso_archive.NAMES:
        assert f"`{name}`" in docs, name
    assert incasso_archive.LAYOUT in docs


def test_a_dossier_with_characters_the_font_cannot_print_still_exports(installation):
    _case(installation)
    with db.transaction(installation) as s:
        from dunning.casework import dossier

        dossier.record(s, invoices.get(s, "F-1"), key="F-1:note:emoji", kind="note", at=NOW - timedelta(days=1),
                       summary="debtor said \U0001f600 and \u4e2d")
    _, zip_path = _export(installation)
    pdf = PdfReader(io.BytesIO(_zip(zip_path).read("dossier.pdf")))
    assert "debtor said ? and ?" in " ".join(p.extract_text() for p in pdf.pages)


def test_the_archive_selects_only_sent_messages(installation):
    _case(installation)
    with db.transaction(installation) as s:
        statuses = sorted(r.status.value for r in s.scalars(select(OutboxMessage)))
    assert statuses == ["refused", "sent", "sent", "sent", "sent", "sent", "voided"]
    _, zip_path = _export(installation)
    assert len([n for n in _zip(zip_path).namelist() if n.startswith("messages/")]) == 5


def test_the_hand_off_task_writes_the_archive_beside_the_json_before_it_records(installation):
    from tasks import runtime
    from tasks.casework import hand_off

    _case(installation)
    runtime.installation.cache_clear()
    try:
        path = Path(hand_off.fn("F-1"))
    finally:
        runtime.installation.cache_clear()

    assert path == installation.incasso_dir / "F-1.json" and json.loads(path.read_text(encoding="utf-8"))["claim"]
    assert zipfile.is_zipfile(installation.incasso_dir / "F-1.zip")
    with db.transaction(installation) as s:
        assert invoices.get(s, "F-1").closed_reason == "incasso"
