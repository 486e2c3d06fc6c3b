"""A local SMTP server that keeps every message it receives as an .eml file (for `dunning run` and tests).

Nothing is relayed. Files hold the bytes exactly as received (after SMTP dot-unstuffing, RFC 5321 4.5.2),
so they can be compared byte for byte with the evidence the engine stored.
"""

from __future__ import annotations

import email
import os
import re
import socket
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from aiosmtpd.controller import Controller

Stage = Literal["rcpt", "data"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (good enough for tests on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _check_can_listen(host: str, port: int) -> None:
    # aiosmtpd only reports a busy port after its ready timeout; say it at once, and say which port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's create_server does
        try:
            s.bind((host, port))
        except OSError as error:
            raise OSError(error.errno, f"mail sink cannot listen on {host}:{port}: {error.strerror}") from None


@dataclass
class _Failure:
    remaining: int
    code: int
    stage: Stage


class MailSink:
    """`MailSink(dir, port=0)` picks a free port; read `sink.port` after `start()`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 8025):
        self.directory = Path(directory)
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._failure: _Failure | None = None
        self._seq = 0
        self._controller: Controller | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Continue numbering after earlier runs so a restarted sink never reuses a name.
        self._seq = max((_seq_of(p) for p in self.directory.glob("*.eml")), default=0)
        if self.port == 0:
            self.port = free_port(self.host)
        _check_can_listen(self.host, self.port)
        # server_hostname avoids socket.getfqdn(), which can stall on a machine without DNS.
        controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                server_hostname="mailsink.localhost")
        try:
            controller.start()
        except BaseException:
            controller.loop.close()  # aiosmtpd leaves its private loop open when it fails to start
            raise
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test hooks ----------------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, code: int = 451, stage: Stage = "data") -> None:
        """Answer the next `n` messages with `code` at RCPT or DATA (4xx: try later, 5xx: refused)."""
        with self._lock:
            self._failure = _Failure(n, code, stage) if n > 0 else None

    def _take_failure(self, stage: Stage) -> str | None:
        with self._lock:
            f = self._failure
            if f is None or f.stage != stage:
                return None
            f.remaining -= 1
            if f.remaining <= 0:
                self._failure = None
        text = "Try again later (test)" if f.code < 500 else "Refused (test)"
        return f"{f.code} {text}"

    # -- storage -------------------------------------------------------------------------------------------

    def _store(self, data: bytes) -> Path:
        message_id = email.message_from_bytes(data, policy=policy.default).get("Message-ID", "no-id")
        safe_id = re.sub(r"[^A-Za-z0-9.@_-]+", "_", str(message_id)).strip("_")[:80] or "no-id"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        with self._lock:
            self._seq += 1
            name = f"{stamp}-{self._seq:06d}-{safe_id}.eml"
        # Write aside, then rename: a reader never sees half a message, even after a crash.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        final = self.directory / name
        os.replace(tmp, final)
        return final

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"), key=_seq_of)

    def messages(self) -> list[EmailMessage]:
        """Every stored message in order of arrival."""
        return [_read(p) for p in self.files()]


def _read(path: Path) -> EmailMessage:
    # Wire format is CRLF; Python's parser would keep the CR in decoded text parts, so read it as native lines.
    msg = email.message_from_bytes(path.read_bytes().replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _seq_of(path: Path) -> int:
    parts = path.name.split("-", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


class _Handler:
    """aiosmtpd hooks: run in the controller's thread and event loop."""

    def __init__(self, sink: MailSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd API)
        failure = self.sink._take_failure("rcpt")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        failure = self.sink._take_failure("data")
        if failure:
            return failure
        try:
            self.sink._store(envelope.original_content)
        except OSError:
            # Not stored means not accepted: a temporary answer keeps the message queued at the sender.
            return "451 Cannot store the message now"
        return "250 Message accepted for delivery"
