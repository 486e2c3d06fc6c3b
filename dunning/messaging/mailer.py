"""E-mail: compose a safe message, deliver it over SMTP, classify what went wrong.

`compose_email` is the only way debtor data enters a header, and it refuses CR/LF and malformed addresses
before anything is sent (a business refusal, never retried). `SmtpMailer.deliver` returns only after the
server accepted the message; a `TransientMailError` means "keep it queued, retry later", a
`PermanentMailError` means "this message will never be accepted", an `InDoubtMailError` means "the connection
ended after the message data went out and before the server said whether it took it": it may have arrived, so
it is not sent again without a person deciding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Literal

import aiosmtplib
from aiosmtplib import SMTPResponse

from dunning.domain.errors import UserError
from dunning.domain.fields import LINE_BREAKING, email_address_problem
from dunning.storage.config import Installation


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "Debiteurenbeheer <debiteuren@example.invalid>"
    reply_to: str | None = None
    timeout: float = 30.0


_SECURITY: dict[str, Literal["none", "starttls", "tls"]] = {"none": "none", "starttls": "starttls", "tls": "tls"}


def smtp_settings(inst: Installation) -> SmtpSettings:
    """The installation's mail server (settings.toml); the debtor's replies go to the creditor's address."""
    security = _SECURITY.get(inst.smtp_security)
    if security is None:
        # A misspelt "starttls" must not quietly send the password in the clear.
        raise UserError(f"{inst.settings_file}: smtp_security must be none, starttls or tls, not "
                        f"{inst.smtp_security!r}")
    return SmtpSettings(
        host=inst.smtp_host,
        port=inst.smtp_port,
        security=security,
        username=inst.smtp_username,
        password=inst.smtp_password,
        sender=inst.sender,
        reply_to=inst.creditor.email,
    )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


class MailError(Exception):
    """Something stopped a message; `code` is the SMTP reply code when the server gave one."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class TransientMailError(MailError):
    """Retry later; the message stays queued (connection refused, timeout, SMTP 4xx). `retry_at`: not before then
    (the outbox's back-off), when the caller knows it."""

    def __init__(self, message: str, code: int | None = None, retry_at: datetime | None = None):
        super().__init__(message, code)
        self.retry_at = retry_at


class PermanentMailError(MailError):
    """The server will not take this message (SMTP 5xx, recipient refused); do not retry."""


class InDoubtMailError(MailError):
    """The connection dropped or stalled once the message data was on its way (after the DATA command): the
    server may have taken it. Never resent on its own (the debtor gets at most one copy); a person decides."""


class InvalidAddressError(MailError):
    """Debtor or settings data unfit for a header (CR/LF, malformed address); refused before sending."""


# -- addresses and headers ---------------------------------------------------------------------------------

_CONTROL = LINE_BREAKING


def _check_header_text(what: str, value: str) -> str:
    if _CONTROL.search(value):
        raise InvalidAddressError(f"{what} contains a line break or control character: {value!r}")
    return value


def _address(what: str, display_name: str, addr: str) -> Address:
    _check_header_text(f"{what} name", display_name)
    problem = email_address_problem(addr)
    if problem:
        raise InvalidAddressError(f"{what} address {addr!r} {problem}")
    local, domain = addr.split("@")
    return Address(display_name=display_name, username=local, domain=domain)


def _parse_mailbox(what: str, value: str) -> Address:
    """'Name <a@b.example>' or 'a@b.example' from settings, validated like debtor data."""
    _check_header_text(what, value)
    match = re.fullmatch(r"\s*(?:(.*?)\s*<([^<>]*)>|([^<>]*))\s*", value)
    if not match:
        raise InvalidAddressError(f"{what} {value!r} is not 'Name <address>' or a plain address")
    name, bracketed, plain = match.groups()
    return _address(what, (name or "").strip('"'), (bracketed if bracketed is not None else plain).strip())


# -- composing ---------------------------------------------------------------------------------------------


def _key_hash(key: str, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}\0{key}".encode()).hexdigest()[:32]


def compose_email(
    *,
    settings: SmtpSettings,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    message_id_key: str,
    now: datetime,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """A multipart/alternative (text + HTML) message, multipart/mixed when there are attachments.

    The same inputs give the same bytes: the Message-ID and MIME boundaries derive from `message_id_key`
    (the outbox key), so a retry of one outbox message is recognisably the same message.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (RFC 5322 Date carries an offset)")
    sender = _parse_mailbox("sender", settings.sender)
    recipient = _address("recipient", to_name, to_address)
    _check_header_text("subject", subject)

    msg = EmailMessage(policy=policy.SMTP)
    msg["Message-ID"] = f"<{_key_hash(message_id_key, 'message-id')}@{sender.domain}>"
    msg["Date"] = format_datetime(now)
    msg["From"] = sender
    msg["To"] = recipient
    if settings.reply_to:
        msg["Reply-To"] = _parse_mailbox("reply-to", settings.reply_to)
    msg["Subject"] = subject
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer this
    # Quoted-printable keeps every line 7-bit and short, so no relay needs 8BITMIME and nothing is re-encoded.
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for attachment in attachments:
        _check_header_text("attachment filename", attachment.filename)
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    _set_boundaries(msg, message_id_key)
    return msg


def _set_boundaries(msg: EmailMessage, key: str) -> None:
    # Otherwise the generator picks random boundaries and two compositions of one message differ in bytes.
    # "=_" cannot occur in quoted-printable or base64 text (RFC 2045 6.7, 6.8), so these never collide there.
    encoded = "".join(str(part.get_payload()) for part in msg.walk() if not part.is_multipart())
    for depth, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        boundary = f"=_{_key_hash(key, f'boundary-{depth}')}"
        if boundary in encoded:  # only possible in a 7bit attachment; let the generator pick one then
            continue
        part.set_boundary(boundary)


def message_bytes(message: EmailMessage) -> bytes:
    """The exact bytes put on the wire (CRLF line ends): what to store and hash as evidence."""
    return message.as_bytes(policy=policy.SMTP)


# -- delivering --------------------------------------------------------------------------------------------


class _Handover(aiosmtplib.SMTP):
    """An SMTP client that knows whether the message data may have reached the server."""

    data_begun = False

    async def data(self, message: str | bytes, /, **kwargs: Any) -> SMTPResponse:
        # From the DATA command on, a lost connection or a silent server leaves us unable to tell whether the
        # message was taken (RFC 5321 4.1.1.4: it is the reply to the final "." that says so). Counting the DATA
        # command itself errs on the side of asking a person rather than sending twice.
        self.data_begun = True
        return await super().data(message, **kwargs)


async def deliver_raw(s: SmtpSettings, content: bytes, recipients: list[str]) -> None:
    """Deliver stored bytes exactly as they are (the outbox keeps what was composed; a retry sends the same).
    Raises TransientMailError, PermanentMailError or, once the data was on its way, InDoubtMailError."""
    client = _Handover(
        hostname=s.host,
        port=s.port,
        use_tls=s.security == "tls",
        start_tls=s.security == "starttls",  # False, not None: never upgrade behind our back
        username=s.username,
        password=s.password,
        timeout=s.timeout,
    )
    sender = _parse_mailbox("sender", s.sender).addr_spec
    try:
        async with client:
            await client.sendmail(sender, recipients, content)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as error:
        if client.data_begun:
            raise InDoubtMailError(f"the connection to SMTP server {s.host}:{s.port} ended after the message "
                                   f"was handed over, before the server confirmed it: {error}") from error
        if isinstance(error, aiosmtplib.SMTPException):
            raise classify(error) from error
        # refused, unreachable, TLS handshake: the network, not the message
        raise TransientMailError(f"cannot reach SMTP server {s.host}:{s.port}: {error}") from error
    except aiosmtplib.SMTPException as error:
        raise classify(error) from error


def classify(error: aiosmtplib.SMTPException) -> MailError:
    """Map an aiosmtplib error to retry-later or never (RFC 5321 4.2.1: 4yz transient, 5yz permanent)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        kind = TransientMailError if codes and all(400 <= c < 500 for c in codes) else PermanentMailError
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        return kind(f"recipient refused: {detail}", code=max(codes, default=None))
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        # Wrong credentials are a settings problem that would fail every message alike: keep them queued
        # until an operator fixes the settings instead of giving up on each debtor's message.
        return TransientMailError(f"SMTP login failed ({error.code} {error.message}); check the settings",
                                  code=error.code)
    if isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600:
        return PermanentMailError(f"SMTP server refused the message: {error.code} {error.message}",
                                  code=error.code)
    code = getattr(error, "code", None)
    return TransientMailError(f"SMTP delivery failed, will retry: {error}", code=code if code != -1 else None)
