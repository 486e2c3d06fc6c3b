"""Mail faults against a real SMTP server on loopback that misbehaves (tests/support/faulty_smtp.py), through the
outbox's decisions (`dunning.messaging.sending`) and `deliver_raw`, on simulated time: a temporary fault goes
again after the back-off and arrives once; a permanent refusal is recorded, shown in the daily overview and the
step goes by letter; a message whose connection dropped after its data went out is in doubt, never sent again by
itself, and a person confirms it or has it sent again. The server counts what arrived: never twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from prefect.logging import disable_run_logger
from prefect.states import Failed
from sqlalchemy import select
from test_sending import HERINNERING, NOW, dossier_of, herinnering_due

from dunning.casework import invoices
from dunning.desk import overview
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.messaging import outbox, sending
from dunning.messaging.mailer import (
    InDoubtMailError,
    PermanentMailError,
    SmtpSettings,
    TransientMailError,
    deliver_raw,
)
from dunning.messaging.mailsink import free_port
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice, OutboxMessage
from tasks import runtime
from tasks.messages import _soon_again, send_step
from tests.support.cli import run
from tests.support.databases import on_both_databases
from tests.support.faulty_smtp import FaultySmtp, drop, reply, stall

KEY = "F-1:herinnering:email:1"
TIMEOUT = 0.3  # seconds: a stalled server costs the test this much
# A fresh database costs more than a test here: SQLite, but for the two that carry the new outbox columns through
# every query on PostgreSQL too (the back-off, and the decision about a message in doubt).
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def server():
    with FaultySmtp() as server:
        yield server


def _settings(port: int) -> SmtpSettings:
    return SmtpSettings(port=port, timeout=TIMEOUT)


def _attempt(inst: Installation, settings: SmtpSettings, now) -> object:
    """What the send task does, on the clock given: wait for the back-off, or hand over and record the outcome."""
    with db.transaction(inst) as s:
        invoice = invoices.get(s, "F-1")
        if (retry_at := sending.not_before(s, invoice, HERINNERING, now)) is not None:
            return retry_at
        decision = sending.prepare_email(s, inst, invoice, HERINNERING, now)
    if not isinstance(decision, sending.Deliver):
        return decision
    error = None
    try:
        asyncio.run(deliver_raw(settings, decision.content, [decision.recipient]))
    except (TransientMailError, PermanentMailError, InDoubtMailError) as e:
        error = e
    with db.transaction(inst) as s:
        return sending.record_delivery(s, decision, now, error)


def _row(inst: Installation, key: str = KEY) -> OutboxMessage:
    with db.transaction(inst) as s:
        row = outbox.find(s, key)
        assert row is not None
        return row


def _overview(inst: Installation, now=NOW) -> dict:
    with db.transaction(inst) as s:
        return overview.build(s, inst, now)


def _message_id(inst: Installation) -> str | None:
    return _row(inst).message_id


# -- temporary faults ----------------------------------------------------------------------------------------


def test_the_back_off_waits_a_quarter_hour_an_hour_four_hours_then_a_day():
    assert [outbox.backoff(n) for n in (1, 2, 3, 4, 9)] == [
        timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(days=1), timedelta(days=1)]


@on_both_databases
def test_temporary_faults_go_again_after_the_back_off_and_the_message_arrives_once(installation, server):
    herinnering_due(installation, "F-1")
    settings = _settings(server.port)
    refused = _settings(free_port())  # nobody listens there: connection refused
    # 421 at MAIL, 451 at RCPT, a stall before DATA, a drop at RCPT, 451 after the data, then served.
    server.plan(reply(421, "MAIL"), reply(451, "RCPT"), stall("MAIL"), drop("RCPT"), reply(451, "END"))
    now, waits = NOW, []
    for attempt_settings in (settings, settings, refused, settings, settings, settings):
        assert _attempt(installation, attempt_settings, now) == "queued"
        row = _row(installation)
        assert row.status is OutboxStatus.queued and row.next_try_at is not None
        waits.append(row.next_try_at - now)
        assert _attempt(installation, settings, row.next_try_at - timedelta(minutes=1)) == row.next_try_at, \
            "not handed over before the back-off has passed"
        now = row.next_try_at
    assert _attempt(installation, settings, now) == "sent"

    hour = timedelta(hours=1)
    assert waits == [hour / 4, hour, 4 * hour, 24 * hour, 24 * hour, 24 * hour]
    assert server.arrivals(_message_id(installation)) == 1 and len(server.received()) == 1
    row = _row(installation)
    assert (row.status, row.tries, row.in_doubt, row.next_try_at) == (OutboxStatus.sent, 7, False, None)
    assert _attempt(installation, settings, now + hour) == sending.Settled("sent")  # a replay sends nothing
    assert server.arrivals(_message_id(installation)) == 1


@on_sqlite
def test_the_send_task_says_when_to_try_again_and_meanwhile_does_not_reach_the_server(
        installation, server, monkeypatch):
    herinnering_due(installation, "F-1")
    monkeypatch.setenv("DUNNING_SMTP_PORT", str(server.port))
    runtime.installation.cache_clear()
    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW)
    server.plan(reply(421, "MAIL"))

    with disable_run_logger(), pytest.raises(TransientMailError) as first:
        asyncio.run(send_step.fn("F-1", HERINNERING))
    connections = server.connections
    with disable_run_logger(), pytest.raises(TransientMailError) as again:
        asyncio.run(send_step.fn("F-1", HERINNERING))
    runtime.installation.cache_clear()

    # Simulated time runs on from NOW while the test runs: the next try is a quarter of an hour after the fault.
    assert first.value.retry_at is not None
    assert timedelta(minutes=15) <= first.value.retry_at - NOW < timedelta(minutes=16)
    assert again.value.retry_at == first.value.retry_at and server.connections == connections
    # Prefect's quick retries are for waiting on another run's combined message, not for the back-off.
    assert not _soon_again(send_step, None, Failed(data=first.value))
    assert _soon_again(send_step, None, Failed(data=TransientMailError("goes out in one message with F-2")))


@on_sqlite
def test_no_email_slot_to_be_had_gives_the_claim_back_and_the_retry_sends_it_once(installation, server, monkeypatch):
    # The installation's e-mail rate limit lives on the Prefect server; while it restarts, no slot can be had. The
    # message was claimed (`sending`) but never went: left so, the retry would record it sent, in doubt.
    from prefect.settings import PREFECT_API_URL, temporary_settings

    herinnering_due(installation, "F-1")
    monkeypatch.setenv("DUNNING_SMTP_PORT", str(server.port))
    runtime.installation.cache_clear()
    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW)
    down = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    with temporary_settings({PREFECT_API_URL: down}), disable_run_logger(), pytest.raises(httpx.ConnectError):
        asyncio.run(send_step.fn("F-1", HERINNERING))
    row = _row(installation)
    assert (row.status, row.in_doubt, server.connections) == (OutboxStatus.queued, False, 0)
    assert "no e-mail slot" in row.last_error

    with disable_run_logger():
        assert asyncio.run(send_step.fn("F-1", HERINNERING)) == "sent"  # Prefect's retry, the server back
    runtime.installation.cache_clear()
    row = _row(installation)
    assert (row.status, row.in_doubt) == (OutboxStatus.sent, False)
    assert server.arrivals(_message_id(installation)) == 1


# -- permanent refusal ---------------------------------------------------------------------------------------


@on_sqlite
@pytest.mark.parametrize("refusal", [reply(550, "RCPT"), reply(554, "END")], ids=["550-at-rcpt", "554-after-data"])
def test_a_permanent_refusal_is_recorded_shown_to_a_person_and_the_step_goes_by_letter(installation, server, refusal):
    herinnering_due(installation, "F-1")
    server.plan(refusal)

    assert _attempt(installation, _settings(server.port), NOW) == "refused"

    row = _row(installation)
    assert (row.status, row.smtp_code) == (OutboxStatus.refused, refusal.code)
    assert server.received() == []
    assert any(kind == "note" and s.startswith("herinnering not sent by email:") and str(refusal.code) in s
               for kind, s in dossier_of(installation))
    [shown] = _overview(installation)["mail_refused"]
    assert (shown["invoice"], shown["address"], shown["code"], shown["by_letter"]) == (
        "F-1", "jan@example.invalid", refusal.code, True)
    text = overview.as_markdown(_overview(installation), "en")
    assert "## Messages refused by the mail server" in text and "sent by letter instead" in text

    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        assert sending.letter_instead(s, invoice, HERINNERING, NOW)
        letter = sending.print_letter(s, installation, invoice, HERINNERING, NOW)
    assert letter.status == "queued" and "print queue" in letter.why
    assert ("note", f"herinnering: the mail server refused the e-mail ({refusal.code}); sent by letter instead") \
        in dossier_of(installation)
    assert _attempt(installation, _settings(server.port), NOW + timedelta(days=1)) == sending.Settled("refused")
    assert server.connections == 1, "a refused message is never offered again"


@on_sqlite
def test_a_refused_email_without_a_postal_address_says_nothing_went_and_is_shown_until_the_address_changes(
        installation, server):
    herinnering_due(installation, "F-1")
    with db.transaction(installation) as s:
        debtor = s.scalars(select(Debtor)).one()
        debtor.street = None
    server.plan(reply(550, "RCPT"))
    assert _attempt(installation, _settings(server.port), NOW) == "refused"

    with db.transaction(installation) as s:
        assert not sending.letter_instead(s, invoices.get(s, "F-1"), HERINNERING, NOW)
    assert "nothing was sent" in overview.as_markdown(_overview(installation), "en")
    with db.transaction(installation) as s:
        s.scalars(select(Debtor)).one().email = "jan.de.vries@example.invalid"
    assert _overview(installation)["mail_refused"] == []


def _refused_before(inst: Installation, code: int, reply: str) -> int:
    """The herinnering of F-1 due, and an earlier e-mail to the same debtor at the same address refused with
    `code` (of a paid invoice, so not combined with it); the debtor's id."""
    herinnering_due(inst, "F-1")
    with db.transaction(inst) as s:
        debtor = s.scalars(select(Debtor)).one()
        earlier = Invoice(number="F-0", debtor=debtor, issue_date=NOW.date(), due_date=NOW.date(),
                          amount=Decimal("10.00"), currency="EUR", closed_reason="paid")
        s.add(earlier)
        s.flush()
        outbox.refuse(s, earlier, HERINNERING, Channel.email, NOW, reply, smtp_code=code,
                      recipient="jan@example.invalid")
        return debtor.id


@on_sqlite
def test_an_address_the_mail_server_refused_is_not_offered_again_and_a_corrected_one_is(installation, server):
    debtor_id = _refused_before(installation, 550, "550 5.1.1 mailbox unknown")

    assert _attempt(installation, _settings(server.port), NOW).status == "refused"
    assert server.connections == 0, "not offered to the refused address again"
    row = _row(installation)
    assert (row.status, row.smtp_code, row.recipient) == (OutboxStatus.refused, 550, "jan@example.invalid")
    assert "not tried again until the address changes" in row.last_error
    with db.transaction(installation) as s:
        assert sending.letter_instead(s, invoices.get(s, "F-1"), HERINNERING, NOW), "by letter, as then"

    with db.transaction(installation) as s:  # the books give another address: the next step's e-mail goes to it
        s.scalars(select(Debtor)).one().email = "jan.de.vries@example.invalid"
        assert outbox.refused_address(s, debtor_id, "jan.de.vries@example.invalid") is None


@on_sqlite
def test_a_refusal_for_the_message_not_the_address_does_not_stop_the_next_one(installation, server):
    _refused_before(installation, 554, "554 5.7.1 rejected as spam")
    assert _attempt(installation, _settings(server.port), NOW) == "sent"
    assert server.connections == 1


@on_sqlite
def test_a_refusal_that_is_not_the_mail_servers_does_not_go_by_letter(installation):
    herinnering_due(installation, "F-1", name="Jan\tde Vries")  # data no message can carry: no letter either
    with db.transaction(installation) as s:
        invoice = invoices.get(s, "F-1")
        assert sending.prepare_email(s, installation, invoice, HERINNERING, NOW).status == "refused"
        assert not sending.letter_instead(s, invoice, HERINNERING, NOW)
    assert _overview(installation)["mail_refused"] == []


# -- in doubt ------------------------------------------------------------------------------------------------


@on_sqlite
@pytest.mark.parametrize(
    ("fault", "arrived"),
    [(drop("END"), 1), (drop("DATA"), 0), (stall("END"), 1)],
    ids=["drop-after-the-final-dot", "drop-mid-data", "stall-after-the-final-dot"],
)
def test_a_drop_after_the_data_went_out_is_in_doubt_never_resent_and_shown_for_a_person_to_decide(
        installation, server, fault, arrived):
    herinnering_due(installation, "F-1")
    server.plan(fault)
    settings = _settings(server.port)

    assert _attempt(installation, settings, NOW) == "sent"  # as far as the ladder goes

    row = _row(installation)
    assert (row.status, row.in_doubt) == (OutboxStatus.sent, True)
    assert "connection ended after the message was handed over" in (row.last_error or "")
    [evidence] = [s for kind, s in dossier_of(installation) if kind == "herinnering"]
    assert "delivery unconfirmed" in evidence
    for later in (timedelta(minutes=15), timedelta(days=1), timedelta(days=30)):
        assert _attempt(installation, settings, NOW + later) == sending.Settled("sent")
    assert server.connections == 1 and server.arrivals(row.message_id) == arrived
    [shown] = _overview(installation)["in_doubt"]
    assert (shown["key"], shown["invoice"], shown["address"]) == (KEY, "F-1", "jan@example.invalid")
    text = overview.as_markdown(_overview(installation), "en")
    assert f"`dunning outbox confirm {KEY}`" in text and f"`dunning outbox resend {KEY}`" in text


@on_sqlite
def test_a_person_has_a_message_in_doubt_sent_again_once(installation, server, monkeypatch):
    herinnering_due(installation, "F-1")
    server.plan(drop("DATA"))
    assert _attempt(installation, _settings(server.port), NOW) == "sent"
    monkeypatch.setenv("DUNNING_SMTP_PORT", str(server.port))
    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW + timedelta(hours=2))

    done = run("outbox", "resend", KEY, "--by", "Anna")
    again = run("outbox", "resend", KEY)

    assert (done.returncode, done.stdout) == (0, "sent again as F-1:herinnering:email:2 to jan@example.invalid\n")
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == f"dunning: error: outbox: {KEY} is not in doubt (sent); nothing to decide\n"
    new = _row(installation, "F-1:herinnering:email:2")
    assert (new.status, new.in_doubt, new.content) == (OutboxStatus.sent, False, _row(installation).content)
    assert not _row(installation).in_doubt and _overview(installation)["in_doubt"] == []
    assert server.arrivals(new.message_id) == 1 and server.connections == 2
    summaries = [s for _, s in dossier_of(installation)]
    assert f"herinnering: {KEY} was in doubt; a person had it sent again as F-1:herinnering:email:2" in summaries
    with db.transaction(installation) as s:
        # The ladder still counts the step once, dealt with when it first went.
        assert sending.prepare_email(s, installation, invoices.get(s, "F-1"), HERINNERING, NOW) == \
            sending.Settled("sent")


@on_sqlite
def test_sending_again_into_a_temporary_fault_leaves_the_message_in_doubt(installation, server, monkeypatch):
    herinnering_due(installation, "F-1")
    server.plan(drop("END"), reply(421, "MAIL"))
    assert _attempt(installation, _settings(server.port), NOW) == "sent"
    monkeypatch.setenv("DUNNING_SMTP_PORT", str(server.port))

    failed = run("outbox", "resend", KEY)

    assert failed.returncode == 1 and failed.stderr.startswith(f"dunning: {KEY} not sent again, still in doubt: ")
    assert _row(installation).in_doubt and _row(installation, "F-1:herinnering:email:2").status is \
        OutboxStatus.voided
    assert [d["key"] for d in _overview(installation)["in_doubt"]] == [KEY]
    assert server.arrivals(_message_id(installation)) == 1


@on_sqlite
def test_a_person_confirms_a_message_in_doubt_from_the_mail_servers_log(installation, server):
    herinnering_due(installation, "F-1")
    server.plan(drop("END"))
    assert _attempt(installation, _settings(server.port), NOW) == "sent"

    done = run("outbox", "confirm", KEY, "--by", "Anna")
    unknown = run("outbox", "confirm", "F-9:herinnering:email:1")

    assert (done.returncode, done.stdout) == (0, f"confirmed: {KEY}\n")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr.startswith("dunning: error: outbox: no message with key 'F-9:herinnering:email:1'")
    assert not _row(installation).in_doubt and _overview(installation)["in_doubt"] == []
    assert "## Messages in doubt" not in overview.as_markdown(_overview(installation), "en")
    assert ("note", f"herinnering: delivery of {KEY} confirmed by a person") in dossier_of(installation)
    assert server.arrivals(_message_id(installation)) == 1


@on_both_databases
def test_a_combined_message_in_doubt_is_one_decision_for_all_its_invoices(installation, server):
    herinnering_due(installation, "F-1", "F-2")
    server.plan(drop("END"))
    assert _attempt(installation, _settings(server.port), NOW) == "sent"

    [shown] = _overview(installation)["in_doubt"]
    assert (shown["key"], shown["also_for"]) == (KEY, ["F-2"])
    assert run("outbox", "confirm", "F-2:herinnering:email:1").returncode == 0  # either invoice's key will do

    with db.transaction(installation) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.email)).all()
        assert sorted((m.key, m.status, m.in_doubt) for m in rows) == [
            (KEY, OutboxStatus.sent, False), ("F-2:herinnering:email:1", OutboxStatus.sent, False)]
    assert server.arrivals(_message_id(installation)) == 1

