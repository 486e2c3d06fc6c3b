"""The mailer against a real SMTP server (aiosmtpd, via MailSink) on loopback."""

import asyncio
import socket
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from dunning.domain.fields import is_valid_email_address
from dunning.messaging.mailer import (
    Attachment,
    InvalidAddressError,
    PermanentMailError,
    SmtpSettings,
    TransientMailError,
    compose_email,
    deliver_raw,
    message_bytes,
)
from dunning.messaging.mailsink import MailSink, free_port

NOW = datetime(2026, 11, 22, 8, 20, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def sink(tmp_path):
    with MailSink(tmp_path / "mail", port=0) as sink:
        yield sink


@pytest.fixture
def settings(sink):
    return SmtpSettings(port=sink.port, reply_to="Team Debiteuren <vragen@example.invalid>", timeout=5)


def make_message(settings, *, to_name="Jan de Vries", to_address="jan@example.nl", key="F-1:herinnering:email:1",
                 **extra) -> EmailMessage:
    return compose_email(settings=settings, to_name=to_name, to_address=to_address,
                         subject="Herinnering: factuur F-1", text="Beste Jan,\n\nBetaal a.u.b. EUR 1.234,56.\n",
                         html="<p>Beste Jan,</p><p>Betaal a.u.b. <b>EUR 1.234,56</b>.</p>",
                         message_id_key=key, now=NOW, **extra)


def recipients(message):
    return [a.addr_spec for a in message["To"].addresses]


def deliver(settings, message):
    asyncio.run(deliver_raw(settings, message_bytes(message), recipients(message)))


def test_delivered_message_is_stored_byte_identical_with_its_headers(sink, settings):
    message = make_message(settings, attachments=[Attachment("factuur-F-1.pdf", b"%PDF-1.4 test")])
    deliver(settings, message)

    [path] = sink.files()
    assert path.read_bytes() == message_bytes(message)
    [received] = sink.messages()
    assert received["Message-ID"] == message["Message-ID"]
    assert received["Message-ID"].endswith("@example.invalid>")
    assert received["Date"] == "Sun, 22 Nov 2026 08:20:00 +0100"
    assert received["From"] == "Debiteurenbeheer <debiteuren@example.invalid>"
    assert received["To"] == "Jan de Vries <jan@example.nl>"
    assert received["Reply-To"] == "Team Debiteuren <vragen@example.invalid>"
    assert received["Subject"] == "Herinnering: factuur F-1"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_body(("plain",)).get_content() == "Beste Jan,\n\nBetaal a.u.b. EUR 1.234,56.\n"
    assert "<b>EUR 1.234,56</b>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "factuur-F-1.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"


def test_same_outbox_key_composes_the_same_bytes_and_message_id(settings):
    assert message_bytes(make_message(settings)) == message_bytes(make_message(settings))
    assert make_message(settings)["Message-ID"] != make_message(settings, key="F-1:herinnering:email:2")["Message-ID"]


def test_temporary_failure_raises_transient_error_and_a_retry_delivers_the_same_message(sink, settings):
    sink.fail_next(1, code=451)
    message = make_message(settings)

    with pytest.raises(TransientMailError) as failure:
        deliver(settings, message)
    assert failure.value.code == 451
    assert sink.files() == []

    deliver(settings, make_message(settings))  # the retry recomposes from the same outbox key
    [received] = sink.messages()
    assert received["Message-ID"] == message["Message-ID"]


def test_temporarily_refused_recipient_raises_transient_error(sink, settings):
    sink.fail_next(1, code=450, stage="rcpt")
    with pytest.raises(TransientMailError):
        deliver(settings, make_message(settings))


def test_rejected_message_raises_permanent_error(sink, settings):
    sink.fail_next(1, code=550)
    with pytest.raises(PermanentMailError) as failure:
        deliver(settings, make_message(settings))
    assert failure.value.code == 550
    assert sink.files() == []


def test_refused_recipient_raises_permanent_error(sink, settings):
    sink.fail_next(1, code=550, stage="rcpt")
    with pytest.raises(PermanentMailError, match="recipient refused"):
        deliver(settings, make_message(settings))
    assert sink.files() == []


def test_connection_refused_raises_transient_error():
    settings = SmtpSettings(port=free_port(), timeout=5)
    with pytest.raises(TransientMailError):
        deliver(settings, make_message(settings))


def test_server_that_never_answers_raises_transient_error_after_the_timeout():
    async def scenario():
        silent_clients = []

        async def accept_and_stay_silent(reader, writer):
            silent_clients.append(writer)

        server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
        settings = SmtpSettings(port=server.sockets[0].getsockname()[1], timeout=0.3)
        try:
            message = make_message(settings)
            await deliver_raw(settings, message_bytes(message), recipients(message))
        finally:
            for writer in silent_clients:
                writer.close()
            server.close()
            await server.wait_closed()

    with pytest.raises(TransientMailError):
        asyncio.run(scenario())


@pytest.mark.parametrize("field, value", [
    ("to_name", "Jan\r\nBcc: victim@example.com"),
    ("to_name", "Jan\nde Vries"),
    ("to_address", "jan@example.nl\r\nBcc: victim@example.com"),
    ("to_address", "jan@example.nl\n"),
])
def test_line_break_in_name_or_address_is_refused_before_anything_is_sent(sink, settings, field, value):
    with pytest.raises(InvalidAddressError, match="line break"):
        make_message(settings, **{field: value})
    assert sink.files() == []


@pytest.mark.parametrize("address", [
    "jan", "jan@", "@example.nl", "jan@@example.nl", "jan@exa mple.nl", "jan de vries@example.nl",
    "jan@example..nl", "jan@-example.nl", "jan@example.nl>", "jan@exämple.nl",
    "<jan|@example.nl", "jan.@example.nl", ".jan@example.nl", "j..an@example.nl",  # the parser's own error
])
def test_malformed_address_is_refused_with_a_clear_error(settings, address):
    assert not is_valid_email_address(address)
    with pytest.raises(InvalidAddressError, match="recipient address"):
        make_message(settings, to_address=address)


@pytest.mark.parametrize("address", ["jan@example.nl", "j.de-vries+factuur@mail.example.co.uk", "info@localhost",
                                     "o'brien@example.ie"])
def test_ordinary_addresses_are_valid(address):
    assert is_valid_email_address(address)


def test_naive_date_is_refused(settings):
    with pytest.raises(ValueError, match="timezone-aware"):
        compose_email(settings=settings, to_name="Jan", to_address="jan@example.nl", subject="s", text="t",
                      html="<p>t</p>", message_id_key="k", now=datetime(2026, 11, 22, 8, 20))


def test_sink_keeps_numbering_after_a_restart(tmp_path):
    directory = tmp_path / "mail"
    for _ in range(2):
        with MailSink(directory, port=0) as sink:
            settings = SmtpSettings(port=sink.port, timeout=5)
            deliver(settings, make_message(settings, key=str(datetime.now(UTC))))
    assert [p.name.split("-")[1] for p in MailSink(directory).files()] == ["000001", "000002"]


def test_sink_on_a_busy_port_fails_at_once_naming_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
            MailSink(tmp_path, port=port).start()
