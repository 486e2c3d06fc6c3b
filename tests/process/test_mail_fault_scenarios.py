"""Mail faults met by an invoice's run: the herinnering of a real run (tests/process/conftest.py: a real Prefect
server, the run executed in this process, driven through the `dunning` verbs on simulated time) goes to an SMTP
server that misbehaves on purpose (tests/support/faulty_smtp.py). tests/integration/test_mail_faults.py proves the
outbox's decisions themselves; here the run's part: a temporary fault makes it wait for the outbox's back-off and
the sweep wake it, a permanent refusal sends the step by letter and the ladder goes on, and a delivery in doubt is
never sent again by the run or the sweep, but left to a person.

Each starts at the herinnering's moment (the first call not reached, tests/process's one try per call) and wakes
the run as few times as the behaviour needs: every wake-up replays the run on the Prefect server, and that is
what such a test pays for."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dunning.domain.kinds import Channel, OutboxStatus
from dunning.domain.time import AMSTERDAM, local
from dunning.storage import db
from dunning.storage.models import OutboxMessage
from tasks import runtime
from tests.support.databases import on_both_databases
from tests.support.engine import Engine, row
from tests.support.faulty_smtp import FaultySmtp, drop, reply

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(180)]  # seconds each, but the CI machine is shared

INVOICE = "M-1"
KEY = f"{INVOICE}:herinnering:email:1"
HERINNERING = "Herinnering: factuur M-1 is nog niet betaald"
AANMANING = "Aanmaning: factuur M-1 is nog steeds niet betaald"
STARTS = datetime(2026, 1, 9, 10, 0, tzinfo=AMSTERDAM)  # a Friday: due 5 January plus three days' grace


@pytest.fixture
def mail_server(engine: Engine, monkeypatch: pytest.MonkeyPatch):
    """The installation's mail server is the faulty one: what the runs and the verbs send goes there."""
    with FaultySmtp() as server:
        monkeypatch.setenv("DUNNING_SMTP_PORT", str(server.port))
        engine.env["DUNNING_SMTP_PORT"] = str(server.port)
        runtime.installation.cache_clear()  # the runs executed in this process read the installation afresh
        yield server
        assert engine.subjects() == [], "nothing went to the engine's own mail sink"


def herinnering_goes(engine: Engine) -> None:
    """A business debtor with an e-mail and a postal address; collection starts, the call is not reached, so the
    run sends the herinnering at once (the `call` verb returns when the run has reached its next pause)."""
    engine.import_csv([row(INVOICE, "MAILED", "business", "debiteur@example.com")])
    engine.set_clock(STARTS.strftime("%Y-%m-%dT%H:%M"))
    engine.sweep()
    engine.cli("call", INVOICE, "--not-reached", "--by", "Anna")


def email_rows() -> list[OutboxMessage]:
    """The outbox's e-mails, every attempt of every step, in the order they were queued."""
    with db.transaction(runtime.installation()) as s:
        query = select(OutboxMessage).where(OutboxMessage.channel == Channel.email).order_by(OutboxMessage.id)
        return list(s.scalars(query))


def dossier(engine: Engine) -> list[tuple[str, str | None, str]]:
    return [(e["kind"], e["channel"], e["summary"]) for e in engine.json("dossier", INVOICE)]


def sent_steps(engine: Engine) -> list[tuple[str, str]]:
    """The steps the dossier has evidence of, with their channel."""
    return [(kind, channel) for kind, channel, _ in dossier(engine) if kind in ("herinnering", "aanmaning")]


@on_both_databases  # the back-off's next try, stored by the send task, read back by the sweep and the run
def test_a_temporary_fault_makes_the_run_wait_for_the_back_off_and_the_sweep_then_delivers_it_once(
        engine, mail_server):
    mail_server.plan(reply(421, "MAIL"))

    herinnering_goes(engine)

    [queued] = email_rows()
    assert (queued.key, queued.status, queued.tries, queued.smtp_code) == (KEY, OutboxStatus.queued, 1, None)
    retry_at = queued.next_try_at
    # A quarter of an hour after the fault (simulated time runs on from STARTS while the test runs).
    assert retry_at is not None and timedelta(minutes=15) <= retry_at - STARTS < timedelta(minutes=17)
    assert "421" in (queued.last_error or "")
    run = engine.run_state(INVOICE)
    assert run["type"] == "PAUSED" and "waiting" in run["tags"], "waiting for the calendar, holding no process"
    assert mail_server.received() == [] and sent_steps(engine) == []

    # Before the back-off has passed the run is not handed the message. The answered call's wake-up is still set
    # (dunning/cli/answers.py keeps it, "at worst the next sweep wakes the run once more"): the sweep wakes the run,
    # which goes back to sleep until the next try without offering the message to the server.
    engine.set_clock("2026-01-09T10:14")
    assert engine.sweep().strip() in (
        "Nothing to do.", f"{INVOICE}: woken -> Suspended: waiting until {local(retry_at):%Y-%m-%d %H:%M}")
    assert mail_server.connections == 1 and email_rows()[0].tries == 1

    engine.set_clock("2026-01-09T10:20")
    out = engine.sweep()

    assert f"{INVOICE}: woken -> Suspended: herinnering sent by email" in out and "waiting until 2026-01-16" in out
    assert mail_server.subjects() == [HERINNERING] and mail_server.connections == 2
    [sent] = email_rows()
    assert (sent.key, sent.status, sent.tries, sent.next_try_at, sent.in_doubt) == (
        KEY, OutboxStatus.sent, 2, None, False)
    assert mail_server.arrivals(sent.message_id) == 1
    [evidence] = [e for e in engine.json("dossier", INVOICE) if e["kind"] == "herinnering"]
    assert (evidence["channel"], evidence["message_id"]) == ("email", sent.message_id)
    assert "unconfirmed" not in evidence["summary"]


def test_a_permanent_refusal_is_shown_and_the_ladder_goes_on_by_letter(engine, mail_server, caplog):
    # The address stays wrong: the aanmaning's e-mail is refused too.
    mail_server.plan(reply(550, "RCPT"), reply(550, "RCPT"))

    herinnering_goes(engine)

    [refused] = email_rows()
    assert (refused.key, refused.status, refused.smtp_code) == (KEY, OutboxStatus.refused, 550)
    assert mail_server.received() == []
    # The invoice's run says so in its log (the UI's run page; tests keep the runs' logs in this process) ...
    run = engine.run_state(INVOICE)
    [logged] = [r for r in caplog.records if "refused by the mail server" in r.getMessage()]
    assert logged.levelno == logging.WARNING and str(getattr(logged, "flow_run_id", "")) == run["id"]
    assert "550" in logged.getMessage() and logged.getMessage().startswith(f"{INVOICE}: herinnering e-mail")
    assert any(str(getattr(r, "flow_run_id", "")) == run["id"]
               and r.getMessage().endswith("the herinnering letter is waiting to be posted") for r in caplog.records)
    # ... the dossier records the refusal with its code and the route taken ...
    summaries = [summary for _, _, summary in dossier(engine)]
    assert any(s.startswith("herinnering not sent by email:") and "550" in s for s in summaries)
    assert "herinnering: the mail server refused the e-mail (550); sent by letter instead" in summaries
    # ... and the daily overview asks a person to correct the address.
    overview = engine.json("overview")
    [shown] = overview["mail_refused"]
    assert (shown["invoice"], shown["step"], shown["address"], shown["code"], shown["by_letter"]) == (
        INVOICE, "herinnering", "debiteur@example.com", 550, True)
    text = engine.cli("overview").stdout  # in the installation's language (Dutch)
    assert "## Berichten die de mailserver weigerde" in text and "in plaats daarvan per brief" in text
    # The letter waits in the print queue, and the run with it.
    [letter] = engine.json("letters")
    assert (letter["invoice"], letter["step"], letter["printed_on"]) == (INVOICE, "herinnering", "2026-01-09")
    assert run["type"] == "PAUSED" and sent_steps(engine) == []

    engine.cli("letters", "posted")
    engine.set_clock("2026-01-16T09:00")  # the aanmaning's day: one wake-up records the letter and goes on
    out = engine.sweep()

    assert sent_steps(engine) == [("herinnering", "letter")]
    assert "aanmaning: the mail server refused the e-mail (550); sent by letter instead" in \
        [summary for _, _, summary in dossier(engine)]
    assert [(x["step"], x["printed_on"]) for x in engine.json("letters")] == [("aanmaning", "2026-01-16")]
    assert f"{INVOICE}: woken -> Suspended" in out and mail_server.received() == []
    assert [(m.key, m.status, m.smtp_code) for m in email_rows()] == [
        (KEY, OutboxStatus.refused, 550), (f"{INVOICE}:aanmaning:email:1", OutboxStatus.refused, 550)]
    # Nobody corrected the address: the aanmaning's e-mail is not offered to it again, and goes by letter too.
    assert mail_server.connections == 1


def test_a_drop_after_the_data_leaves_the_herinnering_in_doubt_never_sent_again_until_a_person_decides(
        engine, mail_server):
    mail_server.plan(drop("END"))  # the server took it and hung up before saying so

    herinnering_goes(engine)

    [doubtful] = email_rows()
    assert (doubtful.key, doubtful.status, doubtful.in_doubt) == (KEY, OutboxStatus.sent, True)
    assert mail_server.arrivals(doubtful.message_id) == 1
    [(kind, channel, summary)] = [e for e in dossier(engine) if e[0] == "herinnering"]
    assert channel == "email" and "delivery unconfirmed" in summary
    [shown] = engine.json("overview")["in_doubt"]
    assert (shown["key"], shown["invoice"], shown["address"]) == (KEY, INVOICE, "debiteur@example.com")
    text = engine.cli("overview").stdout
    assert f"`dunning outbox confirm {KEY}`" in text and f"`dunning outbox resend {KEY}`" in text

    # Sent as far as the ladder goes (dunning/messaging/sending.py): the run does not wait for the person's
    # decision. Woken on the aanmaning's day it replays the herinnering without offering it again.
    engine.set_clock("2026-01-16T09:00")
    out = engine.sweep()

    assert "aanmaning sent by email" in out
    assert mail_server.subjects() == [HERINNERING, AANMANING] and mail_server.connections == 2
    assert [d["key"] for d in engine.json("overview")["in_doubt"]] == [KEY], "still for a person to decide"

    assert engine.cli("outbox", "confirm", KEY, "--by", "Anna").stdout == f"confirmed: {KEY}\n"

    assert engine.json("overview")["in_doubt"] == []
    assert ("note", "email", f"herinnering: delivery of {KEY} confirmed by a person") in dossier(engine)
    assert [(m.key, m.status, m.in_doubt) for m in email_rows()] == [
        (KEY, OutboxStatus.sent, False), (f"{INVOICE}:aanmaning:email:1", OutboxStatus.sent, False)]
    assert mail_server.arrivals(doubtful.message_id) == 1 and mail_server.connections == 2
