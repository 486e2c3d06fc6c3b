"""`dunning statement DEBTOR`: the statement of account (rekeningoverzicht), on SQLite and PostgreSQL, the CLI
in-process: what it lists (open invoices with their payments and credits, a payment the bank took back marked and
not counted, the debtor's credit, the total, the IBAN, each invoice's payment reference); the files `--out` writes
are what `--send` hands over; sent by e-mail through the outbox and a real SMTP server (MailSink) at most once a
day, with evidence on every invoice it lists; a server that is down keeps it queued and the retry sends the same
bytes; one left `sending` is never sent again; by letter into the print queue, on record once posted."""

from __future__ import annotations

import email
import email.policy
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dunning.bank.references import printed
from dunning.casework import dossier, invoices
from dunning.cli import main, statement
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, PaymentKind
from dunning.domain.steps import Message, Step
from dunning.messaging import print_queue
from dunning.messaging import statement_of_account as soa
from dunning.messaging.mailsink import MailSink, free_port
from dunning.messaging.sending import Deliver
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, DebtorCredit, Invoice, OutboxMessage
from tests.support.cli import run

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TODAY = "2026-11-23"
IBAN = "NL91ABNA0417164300"  # the creditor's, by default
KEY = f"D-1:rekeningoverzicht:{TODAY}:email:1"


@pytest.fixture(autouse=True)
def statement_verb(monkeypatch: pytest.MonkeyPatch) -> None:
    """`dunning statement` on the command, as main.py registers it (once it does, this adds nothing)."""
    names = {c.name for c in main.app.registered_commands}
    if "statement" not in names:
        monkeypatch.setattr(main.app, "registered_commands",
                            [*main.app.registered_commands, *statement.verbs.registered_commands])


@pytest.fixture
def smtp_port(installation: Installation) -> int:
    return free_port()


def _book(inst: Installation, *, language: str = "nl", email_address: str | None = "jan@example.invalid") -> None:
    """D-1 with F-1 (1,840.00: paid 500.00, credited 40.00, a payment of 100.00 the bank took back), F-2 (99.00,
    nothing paid), F-3 (paid in full: not listed), a credit of 25.00 not applied (and one applied: not listed);
    another debtor's invoice (not listed)."""
    with db.transaction(inst) as s:
        clock.set_simulated(s, NOW)
        debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email=email_address,
                        street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL", language=language,
                        preferred_channel=Channel.email)
        other = Debtor(number="D-2", name="Piet", kind=DebtorKind.business, email="piet@example.invalid",
                       language="nl", preferred_channel=Channel.email)
        f1 = Invoice(number="F-1", debtor=debtor, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                     amount=Decimal("1840.00"), currency="EUR")
        f2 = Invoice(number="F-2", debtor=debtor, issue_date=date(2026, 10, 3), due_date=date(2026, 11, 2),
                     amount=Decimal("99.00"), currency="EUR")
        f3 = Invoice(number="F-3", debtor=debtor, issue_date=date(2026, 8, 1), due_date=date(2026, 9, 1),
                     amount=Decimal("10.00"), currency="EUR")
        g1 = Invoice(number="G-1", debtor=other, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                     amount=Decimal("77.00"), currency="EUR")
        s.add_all([f1, f2, f3, g1])
        s.flush()
        invoices.register_payment(s, f1, Decimal("500.00"), date(2026, 10, 15), NOW)
        returned = invoices.register_payment(s, f1, Decimal("100.00"), date(2026, 11, 2), NOW)
        returned.reversed_at = NOW - timedelta(days=10)
        invoices.register_credit(s, f1, Decimal("40.00"), PaymentKind.credit_note, "credit note CN-7",
                                 datetime(2026, 10, 20, 10, tzinfo=UTC))
        invoices.register_payment(s, f3, Decimal("10.00"), date(2026, 8, 20), NOW)
        s.add(DebtorCredit(debtor=debtor, amount=Decimal("25.00"), created_at=datetime(2026, 11, 5, 10, tzinfo=UTC)))
        s.add(DebtorCredit(debtor=debtor, amount=Decimal("5.00"), created_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
                           applied_to_id=f2.id, applied_at=NOW))


def _references(inst: Installation) -> dict[str, str]:
    with db.transaction(inst) as s:
        return {i.number: printed(str(i.payment_reference)) for i in s.scalars(select(Invoice))}


def _rows(inst: Installation) -> list[OutboxMessage]:
    with db.transaction(inst) as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _dossier(inst: Installation, number: str) -> list[tuple[str, str, str]]:
    with db.transaction(inst) as s:
        return [(e.kind, e.key, e.summary) for e in dossier.entries(s, invoices.get(s, number))]


def _pdf_text(content: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages)


def _ok(*args: str, port: int | None = None):
    done = run(*args, env={"DUNNING_SMTP_PORT": str(port)} if port else None)
    assert done.returncode == 0, done.stderr
    return done


# -- what it states ----------------------------------------------------------------------------------------


def test_the_statement_lists_every_open_invoice_with_its_payments_and_credits_the_credit_and_the_total(
        installation):
    _book(installation)

    data = json.loads(_ok("statement", "D-1", "--json").stdout)

    refs = _references(installation)
    assert data["debtor"] == "D-1" and data["as_of"] == TODAY and data["iban"] == IBAN
    assert [i["invoice"] for i in data["invoices"]] == ["F-1", "F-2"]  # F-3 is paid; G-1 is another debtor's
    f1, f2 = data["invoices"]
    assert (f1["amount"], f1["paid"], f1["credited"], f1["open"]) == ("1840.00", "500.00", "40.00", "1300.00")
    assert (f2["amount"], f2["paid"], f2["credited"], f2["open"]) == ("99.00", "0.00", "0.00", "99.00")
    assert f1["payment_reference"] == refs["F-1"] and f2["payment_reference"] == refs["F-2"]
    assert f1["entries"] == [
        {"on": "2026-10-15", "amount": "500.00", "kind": "payment", "reversed": False},
        {"on": "2026-10-20", "amount": "40.00", "kind": "credit_note", "reversed": False},
        {"on": "2026-11-02", "amount": "100.00", "kind": "payment", "reversed": True},  # marked, not counted
    ]
    assert data["credits"] == [{"since": "2026-11-05", "amount": "25.00", "currency": "EUR", "reference": None}]
    assert data["total_open"] == {"EUR": "1399.00"}

    text = _ok("statement", "D-1").stdout
    for expected in ("F-1", "F-2", refs["F-1"], refs["F-2"], "1300.00", "1399.00", IBAN, "25.00",
                     "reversed: returned by the bank, not counted"):
        assert expected in text, expected
    assert "F-3" not in text and "G-1" not in text
    assert _rows(installation) == []  # shown, nothing recorded


def test_a_debtor_without_open_invoices_has_nothing_to_send(installation):
    _book(installation)
    with db.transaction(installation) as s:
        invoices.register_payment(s, invoices.get(s, "G-1"), Decimal("77.00"), date(2026, 11, 20), NOW)

    assert "No open invoices." in _ok("statement", "D-2").stdout
    paid = run("statement", "D-2", "--send")
    assert paid.returncode != 0 and "debtor D-2 has no open invoices" in paid.stderr
    unknown = run("statement", "D-9")
    assert unknown.returncode != 0 and "unknown debtor 'D-9'" in unknown.stderr
    assert _rows(installation) == []


@pytest.mark.parametrize(("language", "words"), [
    ("nl", ("Rekeningoverzicht per 23 november 2026", "Betalingskenmerk", "teruggeboekt door de bank",
            "U heeft ook een tegoed bij ons", "EUR 1.399,00")),
    ("en", ("Statement of account as of 23 November 2026", "Payment reference", "returned by the bank",
            "You also have a credit with us", "EUR 1,399.00")),
])
def test_out_writes_the_email_and_the_letter_in_the_debtors_language(installation, tmp_path, language, words):
    _book(installation, language=language)

    done = _ok("statement", "D-1", "--out", str(tmp_path / "out"))

    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stem = f"D-1-rekeningoverzicht.{language}"
    assert names == sorted(f"{stem}.{suffix}" for suffix in ("eml", "html", "pdf", "subject.txt", "txt"))
    assert str(tmp_path / "out" / f"{stem}.eml") in done.stdout
    refs = _references(installation)
    letter = _pdf_text((tmp_path / "out" / f"{stem}.pdf").read_bytes())
    text = (tmp_path / "out" / f"{stem}.txt").read_text()
    for part in (letter, " ".join(text.split())):
        for expected in (*words[1:], refs["F-1"], refs["F-2"], "NL91ABNA0417164300", "F-1", "F-2"):
            assert expected.lower() in part.lower(), expected
        assert "F-3" not in part and "G-1" not in part
    assert words[0] in letter
    parsed = email.message_from_bytes((tmp_path / "out" / f"{stem}.eml").read_bytes(), policy=email.policy.default)
    assert parsed["Subject"].startswith(words[0]) and parsed["To"].addresses[0].addr_spec == "jan@example.invalid"
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == text
    # An overview, not a reminder: no deadline, no costs, no threats.
    for word in ("incasso", "collection", "rente", "interest", "uiterlijk", "deadline"):
        assert word not in text.lower(), word
    assert _rows(installation) == []


# -- by e-mail ---------------------------------------------------------------------------------------------


def test_sent_by_email_once_a_day_as_previewed_with_evidence_on_every_invoice_it_lists(installation, tmp_path,
                                                                                       smtp_port):
    _book(installation)
    _ok("statement", "D-1", "--out", str(tmp_path / "out"))

    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW)  # the same second as the preview (simulated time runs on; slow machines)
    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        first = _ok("statement", "D-1", "--send", port=smtp_port)
        again = _ok("statement", "D-1", "--send", port=smtp_port)  # the same day: nothing goes out again
        [received] = sink.files()

    assert "sent by email to jan@example.invalid" in first.stdout and "was sent already" in again.stdout
    [row] = _rows(installation)
    assert (row.key, row.status, row.channel, str(row.step)) == (KEY, OutboxStatus.sent, Channel.email,
                                                                 "rekeningoverzicht")
    assert row.step == Step.parse("rekeningoverzicht") == Step.send(Message.rekeningoverzicht)
    assert received.read_bytes() == row.content == (tmp_path / "out" / "D-1-rekeningoverzicht.nl.eml").read_bytes()
    with db.transaction(installation) as s:
        assert row.invoice_id == invoices.get(s, "F-1").id  # on record on the oldest open invoice
    for number, key in (("F-1", KEY), ("F-2", f"{KEY}:F-2")):
        [evidence] = [e for e in _dossier(installation, number) if e[0] == "rekeningoverzicht"]
        assert evidence == ("rekeningoverzicht", key, "statement of account sent (email) to jan@example.invalid")
    assert not [e for e in _dossier(installation, "F-3") if e[0] == "rekeningoverzicht"]


def test_with_the_mail_server_down_it_stays_queued_and_the_retry_sends_the_same_bytes_once(installation,
                                                                                          tmp_path, smtp_port):
    _book(installation)

    down = run("statement", "D-1", "--send", env={"DUNNING_SMTP_PORT": str(smtp_port)})
    assert down.returncode != 0 and "stays queued" in down.stderr
    [queued] = _rows(installation)
    assert queued.status is OutboxStatus.queued and queued.tries == 1
    assert not [e for e in _dossier(installation, "F-1") if e[0] == "rekeningoverzicht"]

    with db.transaction(installation) as s:  # later that day
        clock.set_simulated(s, NOW + timedelta(hours=2))
    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        _ok("statement", "D-1", "--send", port=smtp_port)
        [received] = sink.files()
    [row] = _rows(installation)
    assert row.status is OutboxStatus.sent and row.tries == 2 and received.read_bytes() == queued.content


def test_a_statement_left_sending_is_never_sent_again_and_recorded_as_unconfirmed(installation, tmp_path,
                                                                                  smtp_port):
    _book(installation)
    with db.transaction(installation) as s:  # handed to the mail server, and then the process stopped
        assert isinstance(soa.prepare(s, installation, soa.debtor_of(s, "D-1"), Channel.email, NOW), Deliver)

    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        done = _ok("statement", "D-1", "--send", port=smtp_port)
        assert sink.files() == []

    assert "unconfirmed" in done.stdout
    [row] = _rows(installation)
    assert row.status is OutboxStatus.sent
    for number in ("F-1", "F-2"):
        [evidence] = [e for e in _dossier(installation, number) if e[0] == "rekeningoverzicht"]
        assert "delivery unconfirmed" in evidence[2]


def test_a_queued_statement_whose_facts_changed_is_composed_afresh(installation, tmp_path, smtp_port):
    _book(installation)
    assert run("statement", "D-1", "--send", env={"DUNNING_SMTP_PORT": str(smtp_port)}).returncode != 0
    with db.transaction(installation) as s:  # F-2 is paid: not the invoice the statement's row hangs on
        invoices.register_payment(s, invoices.get(s, "F-2"), Decimal("99.00"), date(2026, 11, 23), NOW)

    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        _ok("statement", "D-1", "--send", port=smtp_port)
        [received] = sink.messages()

    first, second = _rows(installation)
    assert (first.status, second.status) == (OutboxStatus.voided, OutboxStatus.sent)
    assert second.key == KEY.removesuffix(":1") + ":2"
    body = received.get_body(preferencelist=("plain",))
    assert body is not None and "F-2" not in body.get_content()


def test_a_permanent_refusal_is_noted_and_not_retried(installation, tmp_path, smtp_port):
    _book(installation)
    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        sink.fail_next(1, code=550, stage="rcpt")
        refused = run("statement", "D-1", "--send", env={"DUNNING_SMTP_PORT": str(smtp_port)})
        again = run("statement", "D-1", "--send", env={"DUNNING_SMTP_PORT": str(smtp_port)})
        assert sink.files() == []
    assert refused.returncode != 0 and "refused" in refused.stderr
    assert again.returncode != 0 and "was refused" in again.stderr
    [row] = _rows(installation)
    assert row.status is OutboxStatus.refused
    assert any("rekeningoverzicht not sent by email" in e[2] for e in _dossier(installation, "F-1"))


# -- by letter ---------------------------------------------------------------------------------------------


def test_by_letter_it_waits_in_the_print_queue_once_and_is_on_record_for_every_invoice_when_posted(installation):
    _book(installation, email_address=None)  # no e-mail address: the letter, also without --channel

    first = _ok("statement", "D-1", "--send")
    again = _ok("statement", "D-1", "--send", "--channel", "letter")

    [row] = _rows(installation)
    path = installation.home / "letters" / TODAY / f"D-1_rekeningoverzicht_{TODAY}_letter_1.pdf"
    assert row.status is OutboxStatus.queued and path.read_bytes() == row.content
    assert str(path) in first.stdout and str(path) in again.stdout
    refs = _references(installation)
    letter = _pdf_text(path.read_bytes())
    assert refs["F-1"] in letter and refs["F-2"] in letter and "NL91ABNA0417164300" in letter
    no_email = run("statement", "D-1", "--send", "--channel", "email")
    assert no_email.returncode != 0 and "no usable e-mail address" in no_email.stderr

    with db.transaction(installation) as s:
        done = print_queue.mark_posted(s, installation, date(2026, 11, 23), NOW + timedelta(hours=3))
        soa.record_posted(s, done.posted, NOW + timedelta(hours=3))
    with db.transaction(installation) as s:
        soa.record_posted(s, s.scalars(select(OutboxMessage)), NOW + timedelta(hours=4))  # again: a no-op

    assert [r.status for r in _rows(installation)] == [OutboxStatus.sent]
    [on_first] = [e for e in _dossier(installation, "F-1") if e[0] == "rekeningoverzicht"]
    [on_second] = [e for e in _dossier(installation, "F-2") if e[0] == "rekeningoverzicht"]
    assert on_first[1] == f"D-1:rekeningoverzicht:{TODAY}:letter:1" and "sent by letter" in on_first[2]
    assert on_second == ("rekeningoverzicht", f"D-1:rekeningoverzicht:{TODAY}:letter:1:F-2",
                         "statement of account sent (letter) to Jan de Vries, Dorpsstraat 1, 1234 AB, Utrecht")


def test_a_statement_on_record_leaves_the_ladder_as_it_was(installation, tmp_path, smtp_port):
    from dunning.casework import facts

    _book(installation)
    with MailSink(tmp_path / "mail", port=smtp_port):
        _ok("statement", "D-1", "--send", port=smtp_port)
    with db.transaction(installation) as s:
        found = facts.load(s, invoices.get(s, "F-1"))
    assert found.evidence == {}  # not a step of the ladder: no herinnering, aanmaning or ingebrekestelling
    assert Step.send(Message.rekeningoverzicht) in found.attempted
    assert set(found.attempted) == {Step.send(Message.rekeningoverzicht)}


def test_usage_mistakes_are_said_in_one_line(installation):
    _book(installation)
    wrong = run("statement", "D-1", "--channel", "fax")
    assert wrong.returncode != 0 and "--channel: expected one of email, letter" in wrong.stderr
    both = run("statement", "D-1", "--send", "--out", "x")
    assert both.returncode != 0 and "leave out --send" in both.stderr


def test_preview_files_are_not_written_for_a_channel_that_cannot_carry_it(installation, tmp_path):
    _book(installation)
    with db.transaction(installation) as s:
        soa.debtor_of(s, "D-1").street = None

    done = _ok("statement", "D-1", "--out", str(tmp_path / "out"))

    assert "no letter: debtor.street is required for a letter" in done.stderr
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".eml", ".html", ".txt", ".txt"]


def test_a_long_statement_letter_keeps_its_tables_above_the_footer():
    from dunning.bank.references import payment_reference
    from dunning.messaging.letter_parts import BOTTOM
    from dunning.messaging.letters import render_letter_pdf

    numbers = [f"F-2026-{n:04d}" for n in range(40)]
    listed = [{"number": n, "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1), "amount": Decimal("100.00"),
               "open_amount": Decimal("100.00"), "currency": "EUR", "payment_reference": printed(payment_reference(n))}
              for n in numbers]
    context = {
        "debtor": {"name": "Jan de Vries", "number": "D-1", "kind": "consumer", "street": "Dorpsstraat 1",
                   "postcode": "1234 AB", "city": "Utrecht"},
        "invoice": listed[0], "open_invoices": listed, "today": date(2026, 11, 23), "reference": "D-1",
        "statement_items": [{**i, "paid": Decimal("0.00"), "credited": Decimal("0.00"), "entries": []} for i in listed],
        "creditor": {"name": "Voorbeeld B.V.", "email": "a@example.invalid", "phone": "020 123 4567", "iban": IBAN},
    }
    pdf = PdfReader(io.BytesIO(render_letter_pdf("rekeningoverzicht", "nl", context)))
    heights: list[float] = []  # of each invoice number printed, in points from the sheet's foot
    for page in pdf.pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: heights.append(tm[5])
                          if text.startswith("F-2026-") else None)
    assert len(heights) >= 2 * len(numbers) and min(heights) > BOTTOM * 72 / 25.4  # above the page label, footer
