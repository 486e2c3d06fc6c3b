"""The outbox protocol of `dunning.messaging.sending`, on SQLite and PostgreSQL: queued once, claimed, handed over
at most once, recorded exactly once; combined with the debtor's other invoices; in doubt after a stop; back in the
queue on a transient error, refused in place on a permanent one; bad stored data refused alike by e-mail and by
letter, never a failed run."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from dunning.casework import answers, dossier, human_tasks, invoices, personal_notes
from dunning.casework.human_tasks import CallOutcome
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, TaskKind
from dunning.domain.policy import DEFAULT
from dunning.domain.steps import Message, Step
from dunning.messaging import compose, print_queue, sending
from dunning.messaging.mailer import PermanentMailError, TransientMailError
from dunning.messaging.templating import FieldError
from dunning.storage import db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice, OutboxMessage

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, in contact hours
HERINNERING = Step.send(Message.herinnering)


def herinnering_due(inst: Installation, *numbers: str, name: str = "Jan de Vries", debtor_number: str = "D-1",
                    not_yet_due: int = 0) -> None:
    """Invoices of one debtor, each called three times without reaching anyone: the herinnering is due now. Each
    has a run (so the others can join its message). `not_yet_due`: as many more of the debtor's invoices, open and
    due next month (no run yet)."""
    with db.transaction(inst) as s:
        debtor = Debtor(number=debtor_number, name=name, kind=DebtorKind.consumer, email="jan@example.invalid",
                        street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", language="nl",
                        preferred_channel=Channel.email)
        for number in numbers:
            invoice = Invoice(number=number, debtor=debtor, issue_date=date(2026, 1, 5), due_date=date(2026, 2, 4),
                              amount=Decimal("100.00"), currency="EUR", flow_run_id=str(uuid.uuid4()))
            s.add(invoice)
            s.flush()
            for n in (1, 2, 3):
                call = human_tasks.open_task(s, invoice, TaskKind.call, Step.call(n), NOW - timedelta(days=4 - n))
                answers.complete_call(s, call, CallOutcome(reached=False), NOW - timedelta(days=4 - n))
        for n in range(not_yet_due):
            s.add(Invoice(number=f"{debtor_number}-LATER-{n}", debtor=debtor, issue_date=date(2026, 3, 2),
                          due_date=date(2026, 4, 1), amount=Decimal("10.00"), currency="EUR"))


def _prepare(inst: Installation, number: str = "F-1", now: datetime = NOW) -> sending.Decision:
    with db.transaction(inst) as s:
        return sending.prepare_email(s, inst, invoices.get(s, number), HERINNERING, now)


def _record(inst: Installation, deliver: sending.Decision, error=None) -> str:
    assert isinstance(deliver, sending.Deliver)
    with db.transaction(inst) as s:
        return sending.record_delivery(s, deliver, NOW, error)


def _rows(inst: Installation) -> dict[str, OutboxMessage]:
    with db.transaction(inst) as s:
        return {m.key: m for m in s.scalars(select(OutboxMessage))}


def dossier_of(inst: Installation, number: str = "F-1") -> list[tuple[str, str]]:
    with db.transaction(inst) as s:
        return [(e.kind, e.summary) for e in dossier.entries(s, invoices.get(s, number))]


# -- one invoice -------------------------------------------------------------------------------------------


def test_a_due_email_is_queued_once_and_claimed_for_delivery(installation):
    herinnering_due(installation, "F-1")

    deliver = _prepare(installation)

    assert isinstance(deliver, sending.Deliver)
    [row] = _rows(installation).values()
    assert (row.key, row.status, row.tries) == ("F-1:herinnering:email:1", OutboxStatus.sending, 1)
    assert deliver.rows == (row.id,) and deliver.content == row.content and deliver.recipient == "jan@example.invalid"
    assert deliver.key == row.key and b"Subject: Herinnering" in deliver.content


def test_composing_an_email_costs_as_many_statements_for_a_debtor_with_twenty_open_invoices_as_with_two(
        installation):
    herinnering_due(installation, "F-1", not_yet_due=1)
    herinnering_due(installation, "G-1", debtor_number="D-2", not_yet_due=20)
    engine = db.engine_for(installation.database_url)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        costs = []
        for number in ("F-1", "G-1"):
            statements.clear()
            assert isinstance(_prepare(installation, number), sending.Deliver)
            costs.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert costs[0] == costs[1]
    assert b"D-2-LATER-19" in _rows(installation)["G-1:herinnering:email:1"].content  # listed, read in one go


def test_an_accepted_email_is_recorded_sent_once_with_its_evidence(installation):
    herinnering_due(installation, "F-1")

    assert _record(installation, _prepare(installation)) == "sent"

    assert _prepare(installation) == sending.Settled("sent")  # a replay of the task finds it sent
    [evidence] = [summary for kind, summary in dossier_of(installation) if kind == "herinnering"]
    assert evidence.startswith("herinnering sent by email to jan@example.invalid")
    assert _rows(installation)["F-1:herinnering:email:1"].status is OutboxStatus.sent


def test_a_transient_error_puts_the_email_back_in_the_queue_and_the_retry_sends_the_same_bytes(installation):
    herinnering_due(installation, "F-1")
    first = _prepare(installation)

    assert _record(installation, first, TransientMailError("connection refused")) == "queued"
    row = _rows(installation)["F-1:herinnering:email:1"]
    assert (row.status, row.last_error) == (OutboxStatus.queued, "connection refused")

    again = _prepare(installation, now=NOW + timedelta(minutes=15))
    assert isinstance(again, sending.Deliver) and isinstance(first, sending.Deliver)
    assert again.content == first.content and _rows(installation)["F-1:herinnering:email:1"].tries == 2


def test_a_permanent_error_refuses_this_email_with_the_reason_in_the_dossier(installation):
    herinnering_due(installation, "F-1")

    assert _record(installation, _prepare(installation), PermanentMailError("550 no such user")) == "refused"

    assert _prepare(installation) == sending.Settled("refused")
    assert ("note", "herinnering not sent by email: 550 no such user") in dossier_of(installation)


def test_an_email_left_sending_by_a_stopped_run_is_recorded_unconfirmed_and_never_sent_again(installation):
    herinnering_due(installation, "F-1")
    assert isinstance(_prepare(installation), sending.Deliver)  # handed over, and then the process stopped

    replay = _prepare(installation)

    assert isinstance(replay, sending.Settled) and replay.status == "sent" and "unconfirmed" in replay.why
    [evidence] = [summary for kind, summary in dossier_of(installation) if kind == "herinnering"]
    assert "delivery unconfirmed" in evidence


def test_an_email_no_longer_due_is_not_composed(installation):
    herinnering_due(installation, "F-1")
    with db.transaction(installation) as s:
        invoices.register_payment(s, invoices.get(s, "F-1"), Decimal("100.00"), date(2026, 3, 8), NOW)

    assert _prepare(installation) == sending.Settled("not due")
    assert _rows(installation) == {}


def test_without_an_email_address_the_email_is_refused_and_noted(installation):
    herinnering_due(installation, "F-1")
    with db.transaction(installation) as s:
        invoices.get(s, "F-1").debtor.email = None

    assert _prepare(installation) == sending.Settled("refused", "no e-mail address")
    assert ("note", "herinnering not sent by email: the debtor has no e-mail address") in dossier_of(installation)


@pytest.mark.parametrize("name", ["Jan\tde Vries", "Jan\x01de Vries"])
def test_a_control_character_in_the_debtors_name_refuses_email_and_letter_alike_without_failing(installation,
                                                                                               name):
    # The importer lets no such character in; data stored before it checked is refused here, the same way.
    herinnering_due(installation, "F-1", name=name)
    with db.transaction(installation) as s:
        personal_notes.add(s, invoices.get(s, "F-1"), "Zoals besproken.", "Anna", NOW)

    by_email = _prepare(installation)
    with db.transaction(installation) as s:
        by_letter = sending.print_letter(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW)

    reason = f"debtor.name: line breaks and other control characters (a tab too) are not allowed: {name!r}"
    assert by_email == by_letter == sending.Settled("refused", reason)
    notes = [summary for kind, summary in dossier_of(installation) if kind == "note"]
    assert f"herinnering not sent by email: {reason}" in notes and f"herinnering not sent by letter: {reason}" in notes
    with db.transaction(installation) as s:
        assert personal_notes.waiting(s, invoices.get(s, "F-1"))  # not used up by a message that did not go


def test_the_approver_reads_that_an_email_with_bad_data_would_be_refused(installation):
    herinnering_due(installation, "F-1", name="Jan\tde Vries")
    with db.transaction(installation) as s:
        subject, text = compose.preview_email(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW, DEFAULT)
    assert subject == "herinnering cannot go out by e-mail" and "debtor.name: line breaks" in text


def test_a_mistake_in_the_creditors_settings_fails_loudly_instead_of_refusing_every_message(installation):
    herinnering_due(installation, "F-1")
    broken = replace(installation, creditor=replace(installation.creditor, name="Voorbeeld\tB.V."))

    with pytest.raises(FieldError, match="creditor.name"):
        _prepare(broken)

    assert _rows(installation) == {}


def test_a_letter_is_composed_once_and_waits_in_the_print_queue(installation):
    herinnering_due(installation, "F-1")

    with db.transaction(installation) as s:
        first = sending.print_letter(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW)
    with db.transaction(installation) as s:
        again = sending.print_letter(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW + timedelta(hours=1))

    assert first == again and first.status == "queued"
    [row] = _rows(installation).values()
    path = installation.home / "letters" / "2026-03-09" / "F-1_herinnering_letter_1.pdf"
    assert first.why == f"waits in the print queue: {path}" and path.read_bytes() == row.content


def test_a_debtor_without_e_mail_gets_one_letter_for_the_invoices_due_together_posted_for_both(installation):
    herinnering_due(installation, "F-1", "F-2")
    with db.transaction(installation) as s:
        invoices.get(s, "F-1").debtor.email = None

    with db.transaction(installation) as s:
        first = sending.print_letter(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW)
    with db.transaction(installation) as s:
        second = sending.print_letter(s, installation, invoices.get(s, "F-2"), HERINNERING, NOW)
        [letter] = print_queue.waiting(s)  # one letter to print and post, naming both
        assert print_queue.invoice_number(s, letter) == "F-1, F-2"
        assert letter.subject == "herinnering F-1, F-2"

    assert first.status == second.status == "queued" and second.why == "goes in the letter of invoice F-1"
    assert len(list((installation.home / "letters" / "2026-03-09").iterdir())) == 1
    with db.transaction(installation) as s:
        posted = print_queue.mark_posted(s, installation, NOW.date(), NOW)
        assert print_queue.describe(s, posted, NOW.date()) == ["F-1, F-2: herinnering letter posted on 2026-03-09"]
    assert {k: m.status for k, m in _rows(installation).items()} == {
        "F-1:herinnering:letter:1": OutboxStatus.sent, "F-2:herinnering:letter:1": OutboxStatus.sent}
    assert [kind for kind, _ in dossier_of(installation, "F-2")].count("herinnering") == 1  # its own evidence


# -- one e-mail for several invoices -----------------------------------------------------------------------


def test_the_debtors_other_due_invoices_go_in_one_email_sent_by_the_first_invoices_run(installation):
    herinnering_due(installation, "F-1", "F-2")

    deliver = _prepare(installation, "F-1")
    assert _prepare(installation, "F-2") == sending.WaitForLead("F-1")
    assert _record(installation, deliver) == "sent"

    assert isinstance(deliver, sending.Deliver) and len(deliver.rows) == 2
    assert _prepare(installation, "F-2") == sending.Settled("sent")
    [evidence] = [summary for kind, summary in dossier_of(installation, "F-2") if kind == "herinnering"]
    assert "(one message with invoice F-1)" in evidence


def test_an_invoice_whose_combined_email_was_voided_composes_it_afresh(installation):
    herinnering_due(installation, "F-1", "F-2")
    _record(installation, _prepare(installation, "F-1"), TransientMailError("timeout"))
    with db.transaction(installation) as s:  # the facts of F-1 changed: its message no longer holds
        s.scalars(select(OutboxMessage).where(OutboxMessage.key == "F-1:herinnering:email:1")).one().status = (
            OutboxStatus.voided)

    assert _prepare(installation, "F-2") == sending.Settled(
        "voided", "the message of F-1:herinnering:email:1 was voided")
    own = _prepare(installation, "F-2")

    # Composed anew by F-2's run, which now sends it, also for F-1 (whose herinnering is still due).
    assert isinstance(own, sending.Deliver) and own.key == "F-2:herinnering:email:2"
    assert {_rows(installation)[k].id for k in ("F-2:herinnering:email:2", "F-1:herinnering:email:2")} == set(own.rows)


def test_a_combined_email_left_sending_over_a_day_is_recorded_in_doubt_for_the_other_invoice(installation):
    herinnering_due(installation, "F-1", "F-2")
    assert isinstance(_prepare(installation, "F-1"), sending.Deliver)  # F-1's run stopped while handing it over

    assert _prepare(installation, "F-2", NOW + timedelta(hours=23)) == sending.WaitForLead("F-1")
    later = _prepare(installation, "F-2", NOW + timedelta(days=1, minutes=1))

    assert isinstance(later, sending.Settled) and later.status == "sent" and "unconfirmed" in later.why
    assert _rows(installation)["F-2:herinnering:email:1"].status is OutboxStatus.sent
    assert _rows(installation)["F-1:herinnering:email:1"].status is OutboxStatus.sending  # F-1's run records its own


def test_a_message_that_changed_while_being_claimed_is_claimed_for_none_of_its_invoices(installation):
    herinnering_due(installation, "F-1", "F-2")
    _record(installation, _prepare(installation, "F-1"), TransientMailError("timeout"))
    with db.transaction(installation) as s:  # voided by F-2's facts between reading and claiming
        s.scalars(select(OutboxMessage).where(OutboxMessage.key == "F-2:herinnering:email:1")).one().status = (
            OutboxStatus.voided)

    with pytest.raises(TransientMailError, match="changed while it was being prepared"):
        _prepare(installation, "F-1")

    assert _rows(installation)["F-1:herinnering:email:1"].status is OutboxStatus.queued  # the claim rolled back


@pytest.mark.postgres
def test_two_runs_handing_over_one_email_at_once_deliver_it_once(installation):
    if not installation.database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the row locks matter on PostgreSQL")
    herinnering_due(installation, "F-1")
    _record(installation, _prepare(installation), TransientMailError("timeout"))  # queued, composed
    claimed, go_on, results = threading.Event(), threading.Event(), {}

    def first() -> None:
        with db.transaction(installation) as s:
            results["first"] = sending.prepare_email(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW)
            claimed.set()
            go_on.wait(10)  # holds its claim, uncommitted, while the second run tries

    def second() -> None:
        claimed.wait(10)
        try:
            results["second"] = _prepare(installation)
        except TransientMailError as error:
            results["second"] = error

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    claimed.wait(10)
    threading.Timer(1.0, go_on.set).start()  # the second waits on the row lock meanwhile
    for t in threads:
        t.join(20)

    assert isinstance(results["first"], sending.Deliver), results
    assert isinstance(results["second"], sending.Settled | TransientMailError)  # never a second Deliver
    if isinstance(results["second"], sending.Settled):
        assert results["second"].status == "sent" and "unconfirmed" in results["second"].why
