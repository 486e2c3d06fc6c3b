"""Composing a debtor's message from the database: the collector's note, attachments, what is kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dunning.casework import answers, dossier, human_tasks, invoices, personal_notes, wakeups
from dunning.casework.human_tasks import CallOutcome
from dunning.cli.law import run_confirm_rate
from dunning.desk import overview
from dunning.domain.kinds import Channel, DebtorKind, TaskKind
from dunning.domain.policy import DEFAULT
from dunning.domain.steps import Step
from dunning.messaging import compose, sending
from dunning.messaging.mailsink import _read  # the sink's own parser, as the debtor's mail program would read it
from dunning.storage import db
from dunning.storage.config import Signatory
from dunning.storage.models import Debtor, Invoice, OutboxMessage

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def _invoice(s) -> Invoice:
    debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.nl",
                    language="nl", preferred_channel=Channel.email)
    invoice = Invoice(number="F/1", debtor=debtor, issue_date=date(2026, 1, 5), due_date=date(2026, 2, 4),
                      amount=Decimal("100.00"), currency="EUR")
    s.add(invoice)
    s.flush()
    return invoice


def _text(installation, tmp_path, step: str) -> str:
    with db.transaction(installation) as s:
        composed = compose.email_for_outbox(s, installation, invoices.get(s, "F/1"), Step.parse(step), NOW, DEFAULT,
                                            f"F/1:{step}:email:1")
    path = tmp_path / f"{step.replace('@', '-')}.eml"
    path.write_bytes(composed.content)
    return _read(path).get_body(preferencelist=("plain",)).get_content()


def test_a_personal_note_goes_with_the_next_message_only(installation, tmp_path):
    with db.transaction(installation) as s:
        personal_notes.add(s, _invoice(s), "Zoals besproken op maandag: de helft nu, de rest in april.", "Anna", NOW)
    assert "Zoals besproken op maandag" in _text(installation, tmp_path, "herinnering")
    assert "Zoals besproken" not in _text(installation, tmp_path, "aanmaning")


def test_a_preview_shows_the_note_without_using_it_up(installation):
    with db.transaction(installation) as s:
        invoice = _invoice(s)
        personal_notes.add(s, invoice, "Bel gerust terug.", None, NOW)
        values = compose.compose(s, installation, invoice, Step.parse("herinnering"), Channel.email, NOW, DEFAULT,
                                 preview=True).values
        assert values["personal_note"] == "Bel gerust terug."
        assert personal_notes.waiting(s, invoice)


def test_the_invoice_copy_on_file_is_attached(installation, tmp_path):
    with db.transaction(installation) as s:
        _invoice(s)
    copy = installation.invoice_copy("F/1")  # a safe file name of its own, inside invoices/
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"%PDF-1.4 invoice copy")
    with db.transaction(installation) as s:
        composed = compose.email_for_outbox(s, installation, invoices.get(s, "F/1"), Step.parse("herinnering"), NOW,
                                            DEFAULT, "k:1")
    (tmp_path / "m.eml").write_bytes(composed.content)
    [attachment] = list(_read(tmp_path / "m.eml").iter_attachments())
    assert attachment.get_filename() == "F-1.pdf"
    assert attachment.get_content() == b"%PDF-1.4 invoice copy"


def test_a_promise_is_confirmed_with_its_date_and_amount_and_the_collectors_note_stays_internal(installation, tmp_path):
    with db.transaction(installation) as s:
        invoice = _invoice(s)
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), NOW)
        outcome = CallOutcome(reached=True, spoke_with="Piet", promised_on=date(2026, 3, 20),
                              note="klonk geïrriteerd", by="Anna")
        answers.complete_call(s, task, outcome, NOW)
    text = " ".join(_text(installation, tmp_path, "betaalafspraak@call-1").split())
    assert "U betaalt EUR 100,00 uiterlijk 20 maart 2026." in text and "met Piet" in text
    assert "geïrriteerd" not in text


def test_the_email_on_the_wire_states_the_payment_reference_on_file_next_to_the_iban(installation, tmp_path):
    with db.transaction(installation) as s:
        invoice = _invoice(s)
        assert invoice.payment_reference == "RF98F1"  # "F/1": its letters and digits, filled when stored
    text = _text(installation, tmp_path, "herinnering")
    assert "Rekeningnummer (IBAN): NL91ABNA0417164300\nTen name van:          " in text
    assert "Betalingskenmerk:      RF98 F1\n\nVermeld bij uw betaling het betalingskenmerk." in text


def test_the_debtor_is_greeted_in_the_tone_of_the_policy_and_the_message_is_signed(installation):
    signed = replace(installation, creditor=replace(installation.creditor,
                                                    signatory=Signatory(default="Anna Smit, debiteurenbeheer")))
    with db.transaction(signed) as s:
        invoice = _invoice(s)
        invoice.debtor.contact_name = "Marie de Vries"

        def text(policy) -> str:
            return compose.compose(s, signed, invoice, Step.parse("herinnering"), Channel.email, NOW, policy,
                                   preview=True).email.text

        formal, informal = text(DEFAULT), text(replace(DEFAULT, tone="informal"))
    assert formal.startswith("Geachte heer, mevrouw,\n") and informal.startswith("Beste Marie,\n")
    assert "Met vriendelijke groet,\n\nAnna Smit, debiteurenbeheer\nVoorbeeld B.V.\n" in formal


def test_only_the_email_carries_the_invoice_copy_and_the_letter_offers_to_send_it(installation):
    copy = installation.invoice_copy("F/1")
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"%PDF-1.4 invoice copy")
    with db.transaction(installation) as s:
        invoice = _invoice(s)
        invoice.debtor.street, invoice.debtor.postcode, invoice.debtor.city = "Markt 1", "1234 AB", "Ons Dorp"
        step = Step.parse("factuurkopie")
        email = compose.compose(s, installation, invoice, step, Channel.email, NOW, DEFAULT, preview=True)
        letter = compose.compose(s, installation, invoice, step, Channel.letter, NOW, DEFAULT, preview=True)
    assert email.values["copy_attached"] and "U vindt de factuur als bijlage bij dit bericht." in email.email.text
    assert not letter.values["copy_attached"]


def test_a_message_stating_interest_at_an_unconfirmed_unverified_rate_waits_until_a_person_confirms_it(installation):
    # A business invoice due 4 February 2026: interest from 5 February at the commercial rate row of 2026-01-01,
    # which the packaged table marks unverified.
    step = Step.parse("ingebrekestelling")
    with db.transaction(installation) as s:
        invoice = _invoice(s)
        invoice.debtor.kind = DebtorKind.business
        invoice.debtor.street, invoice.debtor.postcode, invoice.debtor.city = "Markt 1", "1234 AB", "Ons Dorp"
        assert [r["row"] for r in compose.held_for_rates(s, installation, invoice, step, NOW, DEFAULT)] == [
            "commercial 2026-01-01 (10.15%)"]
        held = sending.print_letter(s, installation, invoice, step, NOW)
        assert held.status == "queued" and "commercial 2026-01-01 (10.15%)" in held.why  # the run looks again
        assert s.query(OutboxMessage).count() == 0  # nothing composed, nothing to post
        [note] = [e for e in dossier_entries(s, invoice) if ":held-rates:" in e.key]
        assert "dunning law confirm-rate" in note.summary
        sending.print_letter(s, installation, invoice, step, NOW)  # a replay notes it once
        assert len([e for e in dossier_entries(s, invoice) if ":held-rates:" in e.key]) == 1
        warnings = overview.build(s, installation, NOW)["warnings"]
    assert "warning: the ingebrekestelling of invoice F/1 is held until a person confirms commercial 2026-01-01 " \
           "(10.15%)" in warnings
    assert any("commercial statutory interest rate from 2026-01-01 (10.15%) is marked unverified" in w
               for w in warnings)

    run_confirm_rate("commercial", "2026-01-01", by="Anna Smit", law_dir=installation.law_dir, now=NOW)
    with db.transaction(installation) as s:
        invoices.get(s, "F/1").wake_at = NOW + timedelta(days=1)  # held: its run would look again tomorrow
        assert wakeups.wake_held_for_rates(s, NOW) == ["F/1"]  # ... and now looks at the next sweep
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F/1")
        assert invoice.wake_at == NOW
        assert sending.print_letter(s, installation, invoice, step, NOW).why.startswith("waits in the print queue")
        left = overview.build(s, installation, NOW)["warnings"]
        assert not [w for w in left if "F/1" in w or "the commercial statutory interest rate from 2026-01-01" in w]


def dossier_entries(s, invoice):
    return dossier.entries(s, invoice)
