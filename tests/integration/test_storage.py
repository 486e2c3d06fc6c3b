
"""Storage on SQLite and PostgreSQL: exact money, UTC moments, keys that make side effects happen once, one clock,
and the CLI verbs that read and write it."""

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from dunning.casework import answers, dossier, facts, human_tasks, invoices
from dunning.casework.human_tasks import CallOutcome
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, TaskKind, TaskStatus
from dunning.domain.steps import Message, Step
from dunning.domain.time import AMSTERDAM
from dunning.messaging import outbox
from dunning.storage import clock, config, db
from dunning.storage.models import Debtor, DossierEntry, HumanTask, Invoice, OutboxMessage, Payment
from tests.support import cli

DUNNING = Path(sys.executable).parent / "dunning"
NOW = datetime(2026, 3, 5, 9, 0, tzinfo=AMSTERDAM)


def add_invoice(s, number: str = "F-1", amount: str = "100.00", debtor_number: str = "D-1") -> Invoice:
    debtor = s.scalars(select(Debtor).where(Debtor.number == debtor_number)).one_or_none()
    if debtor is None:
        debtor = Debtor(number=debtor_number, name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.nl",
                        language="nl", preferred_channel=Channel.email)
    invoice = Invoice(number=number, debtor=debtor, issue_date=date(2026, 1, 5), due_date=date(2026, 2, 4),
                      amount=Decimal(amount), currency="EUR")
    s.add(invoice)
    s.flush()
    return invoice


@pytest.fixture
def invoice_number(installation) -> str:
    with db.transaction(installation) as s:
        return add_invoice(s).number


def count(installation, model) -> int:
    with db.transaction(installation) as s:
        return s.scalar(select(func.count()).select_from(model))


# --- money ------------------------------------------------------------------------------------------------

AMOUNTS = ["0.01", "0.10", "0.30", "19.99", "1234567.89", "999999999999.99"]


def test_amounts_round_trip_as_exact_decimals(installation):
    with db.transaction(installation) as s:
        for n, amount in enumerate(AMOUNTS):
            add_invoice(s, f"F-{n}", amount)

    with db.transaction(installation) as s:
        stored = {i.number: i.amount for i in s.scalars(select(Invoice))}
    for n, amount in enumerate(AMOUNTS):
        assert type(stored[f"F-{n}"]) is Decimal
        assert str(stored[f"F-{n}"]) == amount


def test_payments_sum_exactly(installation):
    with db.transaction(installation) as s:
        invoice = add_invoice(s, amount="0.30")
        for _ in range(3):  # as floats, 0.1 + 0.1 + 0.1 is 0.30000000000000004
            invoices.register_payment(s, invoice, Decimal("0.10"), date(2026, 3, 1), NOW)

    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        paid, remaining = invoices.paid_amount(s, invoice), invoices.open_amount(s, invoice)
        assert [type(p.amount) for p in invoice.payments] == [Decimal] * 3
    assert type(paid) is Decimal and paid == Decimal("0.30")
    assert type(remaining) is Decimal and remaining == 0


def test_open_amount_after_a_partial_payment_is_exact(installation):
    with db.transaction(installation) as s:
        invoice = add_invoice(s, amount="1234.56")
        invoices.register_payment(s, invoice, Decimal("0.07"), date(2026, 3, 1), NOW)
    with db.transaction(installation) as s:
        assert str(invoices.open_amount(s, invoices.get(s, "F-1"))) == "1234.49"


def test_open_amounts_of_many_invoices_at_once_are_each_ones_open_amount(installation):
    with db.transaction(installation) as s:
        thirds = add_invoice(s, "F-1", "0.30")
        for _ in range(3):  # summed in SQL: 0.30 exactly, not 0.30000000000000004
            invoices.register_payment(s, thirds, Decimal("0.10"), date(2026, 3, 1), NOW)
        taken_back = add_invoice(s, "F-2", "50.00")
        invoices.register_payment(s, taken_back, Decimal("20.00"), date(2026, 3, 1), NOW).reversed_at = NOW
        invoices.register_payment(s, taken_back, Decimal("5.25"), date(2026, 3, 2), NOW)
        add_invoice(s, "F-3", "19.99")

    with db.transaction(installation) as s:
        book = list(s.scalars(select(Invoice).order_by(Invoice.number)))
        at_once = invoices.open_amounts(s, book)
        one_by_one = {i.id: invoices.open_amount(s, i) for i in book}
        assert at_once == one_by_one
        assert [str(at_once[i.id]) for i in book] == ["0.00", "44.75", "19.99"]
        assert all(type(amount) is Decimal for amount in at_once.values())
        assert invoices.open_amounts(s, []) == {}
        assert [i.number for i in invoices.open_of_debtor(s, book[0].debtor)] == ["F-2", "F-3"]


# --- moments ----------------------------------------------------------------------------------------------


def test_datetimes_come_back_timezone_aware_in_utc(installation, invoice_number):
    summer = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=AMSTERDAM)
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        invoice.wake_at = summer
        dossier.record(s, invoice, key="k", kind="note", at=NOW, summary="note")
        human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), summer)

    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        entry = s.scalars(select(DossierEntry)).one()
        task = s.scalars(select(HumanTask)).one()
        moments = [invoice.wake_at, entry.at, task.created_at]
    for moment in moments:
        assert moment.tzinfo is UTC
    assert moments == [summer, NOW, summer]
    assert invoice.wake_at.hour == 12 and entry.at.hour == 8  # CEST +2, CET +1


def test_naive_datetimes_are_refused(installation, invoice_number):
    with pytest.raises(Exception, match="naive datetime"):
        with db.transaction(installation) as s:
            invoices.get(s, invoice_number).wake_at = datetime(2026, 3, 5, 9, 0)
            s.flush()
    with db.transaction(installation) as s:
        assert invoices.get(s, invoice_number).wake_at is None


def test_stored_moment_is_the_same_instant_for_a_connection_in_another_time_zone(installation, invoice_number):
    moment = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoices.get(s, invoice_number).wake_at = moment
    url = make_url(installation.database_url)
    if url.get_backend_name() != "postgresql":
        with db.transaction(installation) as s:
            assert s.scalar(text("SELECT wake_at FROM invoice")).startswith("2026-01-05 12:00:00")
        return
    new_york = url.update_query_dict({"options": "-c timezone=America/New_York"}).render_as_string(False)
    other = replace(installation, database_url=new_york)
    try:
        with db.transaction(other) as s:
            assert s.scalar(text("SELECT extract(epoch FROM wake_at) FROM invoice")) == int(moment.timestamp())
            assert invoices.get(s, invoice_number).wake_at == moment
        with db.transaction(other) as s:
            invoices.get(s, invoice_number).wake_at = moment
        with db.transaction(installation) as s:
            assert invoices.get(s, invoice_number).wake_at == moment
    finally:
        db.engine_for(new_york).dispose()


# --- side effects happen once -----------------------------------------------------------------------------


def composer(calls: list[str]):
    def compose() -> outbox.Composed:
        calls.append("composed")
        return outbox.Composed(recipient="jan@example.nl", subject="Herinnering", content=b"bytes",
                               message_id="<m1@example.invalid>", data={"open_amount": "100.00"})

    return compose


def test_prepare_twice_returns_the_same_outbox_row_and_composes_once(installation, invoice_number):
    calls: list[str] = []
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        first = outbox.prepare(s, invoice, "herinnering", Channel.email, NOW, composer(calls))
        again = outbox.prepare(s, invoice, "herinnering", Channel.email, NOW, composer(calls))
        assert again is first
        first_id = first.id
    with db.transaction(installation) as s:  # a replay in another process
        replayed = outbox.prepare(s, invoices.get(s, invoice_number), "herinnering", Channel.email, NOW,
                                  composer(calls))
        assert (replayed.id, replayed.key, replayed.content) == (first_id, "F-1:herinnering:email:1", b"bytes")
    assert calls == ["composed"]
    assert count(installation, OutboxMessage) == 1


def test_another_step_channel_or_attempt_is_another_message(installation, invoice_number):
    calls: list[str] = []
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        outbox.prepare(s, invoice, "herinnering", Channel.email, NOW, composer(calls))
        outbox.prepare(s, invoice, "aanmaning", Channel.email, NOW, composer(calls))
        outbox.prepare(s, invoice, "aanmaning", Channel.letter, NOW, composer(calls))
        outbox.prepare(s, invoice, "aanmaning", Channel.letter, NOW, composer(calls), attempt=2)
    assert len(calls) == 4 and count(installation, OutboxMessage) == 4


def test_outbox_key_is_unique_in_the_database(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        outbox.prepare(s, invoice, "herinnering", Channel.email, NOW, composer([]))
        invoice_id = invoice.id

    with pytest.raises(IntegrityError):
        with db.transaction(installation) as s:
            s.add(OutboxMessage(key="F-1:herinnering:email:1", invoice_id=invoice_id, step="herinnering",
                                channel=Channel.email, status=OutboxStatus.queued, created_at=NOW))
            s.flush()
    assert count(installation, OutboxMessage) == 1


def test_marking_sent_twice_records_one_dossier_entry(installation, invoice_number):
    for _ in range(2):
        with db.transaction(installation) as s:
            invoice = invoices.get(s, invoice_number)
            message = outbox.prepare(s, invoice, Step.parse("herinnering"), Channel.email, NOW, composer([]))
            outbox.claim(s, [message], NOW)
            outbox.mark_sent(s, message, invoice, NOW, confirmed=True)
    with db.transaction(installation) as s:
        [entry] = s.scalars(select(DossierEntry))
        assert (entry.kind, entry.channel, entry.message_id) == ("herinnering", "email", "<m1@example.invalid>")
        # The evidence names the content that went out: its SHA-256, computed here from the stored bytes.
        sent = s.scalars(select(OutboxMessage)).one()
        assert entry.content_hash == hashlib.sha256(sent.content).hexdigest()


def test_dossier_record_with_the_same_key_twice_gives_one_entry(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        first = dossier.record(s, invoice, key="F-1:note:1", kind="note", at=NOW, summary="first")
        again = dossier.record(s, invoice, key="F-1:note:1", kind="note", at=NOW, summary="second")
        assert again is first
    with db.transaction(installation) as s:
        dossier.record(s, invoices.get(s, invoice_number), key="F-1:note:1", kind="note", at=NOW, summary="third")
    with db.transaction(installation) as s:
        assert [e.summary for e in dossier.entries(s, invoices.get(s, invoice_number))] == ["first"]


def test_dossier_key_is_unique_in_the_database(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice_id = dossier.record(s, invoices.get(s, invoice_number), key="k", kind="note", at=NOW,
                                    summary="x").invoice_id
    with pytest.raises(IntegrityError):
        with db.transaction(installation) as s:
            s.add(DossierEntry(invoice_id=invoice_id, key="k", kind="note", at=NOW, summary="y"))
            s.flush()


def test_completing_a_call_twice_records_one_dossier_entry(installation, invoice_number):
    outcome = CallOutcome(reached=True, spoke_with="Jan", promised_on=date(2026, 3, 10), note="salary on the 9th",
                          by="Anna")
    with db.transaction(installation) as s:
        human_tasks.open_task(s, invoices.get(s, invoice_number), TaskKind.call, Step.parse("call-1"), NOW)
    with db.transaction(installation) as s:
        task = human_tasks.open_task_of(s, invoices.get(s, invoice_number), TaskKind.call)
        assert answers.complete_call(s, task, outcome, NOW) is True
    with db.transaction(installation) as s:  # the UI form reports the same outcome after the CLI did
        task = human_tasks.find(s, invoices.get(s, invoice_number), Step.parse("call-1"))
        assert answers.complete_call(s, task, replace(outcome, note="other"), NOW + timedelta(minutes=5)) is False

    with db.transaction(installation) as s:
        [entry] = dossier.entries(s, invoices.get(s, invoice_number))
        task = s.scalars(select(HumanTask)).one()
        assert (entry.kind, entry.channel, entry.by) == ("call", "phone", "Anna")
        assert entry.summary == "reached Jan; promised to pay on 2026-03-10. salary on the 9th"
        assert (task.status, task.completed_at, task.outcome["promised_on"]) == (TaskStatus.done, NOW, "2026-03-10")
        with pytest.raises(UserError, match="invoice F-1 has no open call task"):
            human_tasks.open_task_of(s, task.invoice, TaskKind.call)


def test_opening_the_same_task_twice_gives_one_task(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        approval = Step.approval("ingebrekestelling")
        first = human_tasks.open_task(s, invoice, TaskKind.approval, approval, NOW)
        assert human_tasks.open_task(s, invoice, TaskKind.approval, approval, NOW) is first
    assert count(installation, HumanTask) == 1


def test_facts_snapshot_counts_a_refused_herinnering_as_attempted_but_not_as_evidence(installation,
                                                                                      invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        invoices.register_payment(s, invoice, Decimal("40.00"), date(2026, 3, 1), NOW)
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), NOW)
        answers.complete_call(s, task, CallOutcome(reached=False), NOW)
        outbox.refuse(s, invoice, "herinnering", Channel.email, NOW, "no e-mail address")
        outbox.refuse(s, invoice, "herinnering", Channel.email, NOW, "no e-mail address")  # a replay

    with db.transaction(installation) as s:
        snapshot = facts.load(s, invoices.get(s, invoice_number))
        notes = [e.summary for e in dossier.entries(s, invoices.get(s, invoice_number)) if e.kind == "note"]
    assert snapshot.open_amount == Decimal("60.00") and type(snapshot.open_amount) is Decimal
    assert [(c.step, c.status, c.reached) for c in snapshot.calls] == [(Step.call(1), TaskStatus.done, False)]
    assert snapshot.attempted == {Step.send(Message.herinnering): NOW}
    assert snapshot.evidence == {}
    assert notes == ["herinnering not sent by email: no e-mail address"]


def test_facts_snapshot_reads_the_ingebrekestelling_deadline(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        dossier.record(s, invoice, key="F-1:ingebrekestelling:email:1", kind="ingebrekestelling", at=NOW,
                       summary="sent", data={"deadline": "2026-03-19"})
    with db.transaction(installation) as s:
        snapshot = facts.load(s, invoices.get(s, invoice_number))
    assert snapshot.evidence == {"ingebrekestelling": NOW}
    assert snapshot.term_deadline == date(2026, 3, 19)


# --- the clock --------------------------------------------------------------------------------------------


def test_simulated_clock_set_in_one_session_is_seen_by_another(installation):
    simulated = datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM)
    with db.transaction(installation) as s:
        clock.set_simulated(s, simulated)
    with db.transaction(installation) as s:
        now = clock.now(s)
    assert now.tzinfo is not None
    assert simulated <= now < simulated + timedelta(seconds=30)  # simulated time runs on from where it was set

    with db.transaction(installation) as s:
        clock.set_simulated(s, simulated + timedelta(days=3))  # set again: replaces the earlier setting
    with db.transaction(installation) as s:
        assert clock.now(s) - simulated >= timedelta(days=3)


def test_the_demos_clock_returns_to_real_time_in_contact_hours_unless_a_person_set_the_clock(installation):
    from dunning.cli import engine

    sunday_night = datetime(2026, 11, 29, 23, 0, tzinfo=AMSTERDAM)
    monday_morning = datetime(2026, 11, 30, 10, 0, tzinfo=AMSTERDAM)
    with db.transaction(installation) as s:
        clock.set_simulated(s, datetime(2026, 11, 30, 7, 0, tzinfo=AMSTERDAM), by_demo=True)
        assert clock.simulated_by_demo(s)
    assert engine._real_time_again(installation, sunday_night) is None  # still no contact: the demo clock stays
    assert engine._real_time_again(installation, monday_morning) is not None
    with db.transaction(installation) as s:
        assert clock.simulated_offset(s) is None and not clock.simulated_by_demo(s)
        clock.set_simulated(s, datetime(2026, 11, 30, 7, 0, tzinfo=AMSTERDAM), by_demo=True)
        clock.set_simulated(s, datetime(2026, 12, 1, 9, 0, tzinfo=AMSTERDAM))  # a person's choice
    assert engine._real_time_again(installation, monday_morning) is None
    with db.transaction(installation) as s:
        assert clock.simulated_offset(s) is not None


def test_set_real_returns_to_real_time(installation):
    with db.transaction(installation) as s:
        clock.set_simulated(s, datetime(2030, 1, 1, tzinfo=UTC))
    with db.transaction(installation) as s:
        clock.set_real(s)
    with db.transaction(installation) as s:
        assert clock.simulated_offset(s) is None
        assert abs(clock.now(s) - datetime.now(UTC)) < timedelta(seconds=30)
        clock.set_real(s)  # already real: nothing to do


# --- payments ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("0", "must be positive"),
        ("0.00", "must be positive"),
        ("-10.00", "must be positive"),
        ("NaN", "must be positive"),
        ("Infinity", "must be positive"),
        ("10.005", "has more than two decimals"),
    ],
)
def test_register_payment_rejects_non_positive_or_unstorable_amounts(installation, invoice_number, amount, reason):
    with pytest.raises(UserError, match=f"payment amount {reason}, got {amount}"):
        with db.transaction(installation) as s:
            invoices.register_payment(s, invoices.get(s, invoice_number), Decimal(amount), date(2026, 3, 1), NOW)
    assert count(installation, Payment) == 0
    assert count(installation, DossierEntry) == 0


def test_register_payment_records_a_payment_in_the_dossier(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        payment = invoices.register_payment(s, invoice, Decimal("40.00"), date(2026, 3, 1), NOW, reference="bank")
        assert invoice.wake_at == NOW  # the run looks at the changed facts at the next sweep
        payment_id = payment.id
    with db.transaction(installation) as s:
        [entry] = dossier.entries(s, invoices.get(s, invoice_number))
        payment = s.get_one(Payment, payment_id)
    assert (payment.amount, payment.paid_on, payment.reference) == (Decimal("40.00"), date(2026, 3, 1), "bank")
    assert (entry.kind, entry.at) == ("payment", NOW)
    assert entry.summary == "payment of EUR 40.00 on 2026-03-01 (recorded by hand); open EUR 60.00"
    assert entry.data == {"amount": "40.00", "paid_on": "2026-03-01", "open": "60.00"}


def test_unknown_invoice_is_a_user_error(installation):
    with db.transaction(installation) as s, pytest.raises(UserError, match="unknown invoice 'F-404'"):
        invoices.get(s, "F-404")


# --- the CLI against the same database --------------------------------------------------------------------


def dunning(installation, *args: str) -> subprocess.CompletedProcess[str]:
    """`dunning ARGS` on this installation, in this process (tests/support/cli.py): exit code, stdout, stderr."""
    env = {"DUNNING_HOME": str(installation.home), "DUNNING_DATABASE_URL": installation.database_url}
    return cli.run(*args, env=env)


def dunning_process(installation, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `dunning` executable: for what only a process shows (the entry point, its exit code)."""
    env = {**os.environ, "DUNNING_HOME": str(installation.home), "DUNNING_DATABASE_URL": installation.database_url}
    return subprocess.run([str(DUNNING), *args], env=env, capture_output=True, text=True, timeout=60)


def ok(installation, *args: str) -> str:
    done = dunning(installation, *args)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def test_cli_pay_registers_a_payment(installation, invoice_number):
    out = ok(installation, "pay", invoice_number, "40.50", "--date", "2026-03-01")

    assert out == "F-1: payment of EUR 40.50 registered; open EUR 59.50\n"
    with db.transaction(installation) as s:
        payment = s.scalars(select(Payment)).one()
        assert type(payment.amount) is Decimal
        assert (payment.amount, payment.paid_on) == (Decimal("40.50"), date(2026, 3, 1))


def test_cli_dossier_json_lists_the_evidence_in_order(installation, invoice_number):
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), NOW)
        answers.complete_call(s, task, CallOutcome(reached=False, by="Anna"), NOW)
    ok(installation, "pay", invoice_number, "100", "--date", "2026-03-01")

    entries = json.loads(ok(installation, "dossier", invoice_number, "--json"))

    assert [e["kind"] for e in entries] == ["call", "payment"]
    assert {"at", "kind", "channel", "by", "summary"} <= set(entries[0])
    assert (entries[0]["channel"], entries[0]["by"], entries[0]["summary"]) == ("phone", "Anna", "not reached")
    assert datetime.fromisoformat(entries[0]["at"]) == NOW
    assert datetime.fromisoformat(entries[1]["at"]).tzinfo is not None
    assert entries[1]["summary"] == "payment of EUR 100.00 on 2026-03-01 (recorded by hand); open EUR 0.00"
    assert "not reached" in ok(installation, "dossier", invoice_number)


def test_cli_tasks_json_lists_open_tasks(installation, invoice_number):
    assert json.loads(ok(installation, "tasks", "--json")) == []
    with db.transaction(installation) as s:
        invoice = invoices.get(s, invoice_number)
        human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), NOW)
        done = human_tasks.open_task(s, add_invoice(s, "F-2"), TaskKind.call, Step.parse("call-1"), NOW)
        answers.complete_call(s, done, CallOutcome(reached=False), NOW)
        human_tasks.open_task(s, invoices.get(s, "F-2"), TaskKind.approval, Step.parse("approve-ingebrekestelling"),
                              NOW + timedelta(days=1))

    rows = json.loads(ok(installation, "tasks", "--json"))

    assert [(r["invoice"], r["kind"], r["step"]) for r in rows] == [
        ("F-1", "call", "call-1"),
        ("F-2", "approval", "approve-ingebrekestelling"),
    ]
    assert datetime.fromisoformat(rows[0]["since"]) == NOW


def test_cli_clock_set_show_and_real(installation, invoice_number):
    assert ok(installation, "clock", "set", "2026-12-01T09:00") == "simulated time: 2026-12-01T09:00:00+01:00\n"
    assert ok(installation, "clock", "show").startswith("simulated time: 2026-12-01T09:0")
    with db.transaction(installation) as s:
        assert clock.now(s) >= datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    ok(installation, "pay", invoice_number, "10.00")  # no --date: today on the installation's clock
    with db.transaction(installation) as s:
        payment = s.scalars(select(Payment)).one()
        assert payment.paid_on == date(2026, 12, 1)
        assert payment.recorded_at >= datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    assert ok(installation, "clock", "real").startswith("real time: ")
    assert ok(installation, "clock", "show").startswith("real time: ")
    with db.transaction(installation) as s:
        assert clock.simulated_offset(s) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pay", "F-404", "10.00"], "unknown invoice 'F-404'"),
        (["dossier", "F-404", "--json"], "unknown invoice 'F-404'"),
        (["pay", "F-1", "10.00", "--date", "01-03-2026"], "--date: not a date (YYYY-MM-DD): '01-03-2026'"),
        (["pay", "F-1", "10.00", "--date", "2026-02-30"], "--date: not a date (YYYY-MM-DD): '2026-02-30'"),
        (["pay", "F-1", "12,5,0"], "AMOUNT: malformed amount '12,5,0'"),
        (["pay", "F-1", "ten"], "AMOUNT: malformed amount 'ten'"),
        (["pay", "F-1", "0"], "AMOUNT: an amount above 0.00"),
        (["pay", "F-1", "1.005"], "AMOUNT: malformed amount '1.005'"),
        (["pay", "F-1", "NaN"], "AMOUNT: malformed amount 'NaN'"),
        (["clock", "set", "next tuesday"], "clock set: malformed 'next tuesday'"),
    ],
)
def test_cli_mistakes_give_one_line_and_exit_code_2(installation, invoice_number, args, message):
    done = dunning(installation, *args)

    assert done.returncode == 2
    assert done.stderr.startswith(f"dunning: error: {message}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert count(installation, Payment) == 0
    with db.transaction(installation) as s:
        assert clock.simulated_offset(s) is None


@pytest.mark.parametrize("args", [["pay", "F-1", "-5"], ["pay", "F-1"]], ids=["negative amount", "missing amount"])
def test_cli_usage_mistakes_give_one_line_and_exit_code_2(installation, invoice_number, args):
    done = dunning_process(installation, *args)  # the executable's own exit code, as a shell sees it
    assert "Traceback" not in done.stderr
    assert done.returncode == 2
    assert count(installation, Payment) == 0


def test_a_settings_value_with_a_tab_or_line_break_is_named_at_load(tmp_path):
    (tmp_path / "settings.toml").write_text('sender = "Debiteuren\\t<d@example.com>"\n[creditor]\nname = "A\\nB"\n')
    with pytest.raises(UserError, match=r"settings.toml: creditor.name: line breaks and other control characters"):
        config.load(tmp_path)
