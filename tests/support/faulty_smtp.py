"""An SMTP server on loopback (aiosmtpd) that misbehaves on purpose, one scripted fault per connection.

    with FaultySmtp() as server:
        server.plan(reply(421, at="MAIL"), drop(at="END"))   # the 1st connection gets 421 at MAIL, the 2nd ...
        ...
        server.arrivals(message_id)                          # how often that message arrived

`at` names where the fault strikes: a command (EHLO, MAIL, RCPT, DATA: before the server's 354) or END, the final
"." after the message data. What arrives is counted at END only, as a mail server takes a message then: a drop or
stall at END keeps the message (it arrived, the sender never heard), a reply at END does not (refused). `drop(at=
"DATA")` is the drop mid-DATA: the server says 354, reads one line of the message and hangs up. Connections after
the planned faults are served normally. Connection refused needs no server: a free port nobody listens on."""

from __future__ import annotations

import asyncio
import email
import threading
from collections import deque
from dataclasses import dataclass
from email import policy
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from dunning.messaging.mailsink import free_port

Where = Literal["EHLO", "MAIL", "RCPT", "DATA", "END"]
STALL_SECONDS = 10.0  # far past any client timeout in the tests; ends as soon as the client hangs up


@dataclass(frozen=True)
class Fault:
    at: Where
    code: int | None = None  # answer this instead
    drop: bool = False  # close the connection without a word
    stall: bool = False  # say nothing until the client gives up


def reply(code: int, at: Where) -> Fault:
    return Fault(at, code=code)


def drop(at: Where) -> Fault:
    return Fault(at, drop=True)


def stall(at: Where) -> Fault:
    return Fault(at, stall=True)


class FaultySmtp:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        self._plan: deque[Fault] = deque()
        self._received: list[bytes] = []
        self.connections = 0
        self._controller: Controller | None = None

    def plan(self, *faults: Fault) -> None:
        """The next connections' faults, one each, in order."""
        with self._lock:
            self._plan.extend(faults)

    def received(self) -> list[bytes]:
        with self._lock:
            return list(self._received)

    def arrivals(self, message_id: str | None) -> int:
        return sum(1 for m in self.received() if _message_id(m) == message_id)

    def subjects(self) -> list[str]:
        """The subjects of what arrived, in order (as the tests' mail sink gives them: `Engine.subjects`)."""
        return [str(email.message_from_bytes(m, policy=policy.default)["Subject"]).strip() for m in self.received()]

    def __enter__(self) -> FaultySmtp:
        self.port = free_port(self.host)
        self._controller = _Controller(self, _Handler(self), hostname=self.host, port=self.port,
                                       server_hostname="faulty.localhost", ready_timeout=5)
        self._controller.start()
        self.connections = 0  # start() tried a connection of its own
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # -- called in the server's thread ---------------------------------------------------------------------

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.connections += 1
            return self._plan.popleft() if self._plan else None

    def _keep(self, content: bytes) -> None:
        with self._lock:
            self._received.append(content)


def _message_id(content: bytes) -> str | None:
    found = email.message_from_bytes(content, policy=policy.default).get("Message-ID")
    return str(found) if found else None


class _Controller(Controller):
    def __init__(self, server: FaultySmtp, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.faulty = server  # (`server` is the Controller's asyncio server)

    def factory(self) -> SMTP:
        return _FaultySession(self.faulty._next_fault(), self.handler, **self.SMTP_kwargs)


class _FaultySession(SMTP):
    """One connection, with its fault."""

    def __init__(self, fault: Fault | None, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.fault = fault

    async def push(self, status: Any) -> None:
        if self.transport is None or self.transport.is_closing():
            return  # we hung up on purpose: nothing more to say
        await super().push(status)

    async def _strikes(self, where: Where) -> bool:
        """Misbehave here if the fault says so; True when the command must not be served."""
        f = self.fault
        if f is None or f.at != where:
            return False
        if f.code is not None:
            await self.push(f"{f.code} {'Try again later' if f.code < 500 else 'Refused'} (fault injected)")
        elif f.drop:
            if where == "DATA":  # mid-DATA: take the first line of the message, then hang up
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                await self._reader.readuntil(b"\r\n")
            await self._hang_up_and_wait()
        else:
            await asyncio.sleep(STALL_SECONDS)  # cancelled by aiosmtpd when the client hangs up
        return True

    def _hang_up(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def _hang_up_and_wait(self) -> None:
        # What the client sent already sits in the reader: wait to be cancelled (connection lost) rather than
        # read it as commands.
        self._hang_up()
        await asyncio.sleep(STALL_SECONDS)

    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802 (aiosmtpd API)
        if not await self._strikes("EHLO"):
            await super().smtp_EHLO(hostname)

    async def smtp_MAIL(self, arg: str | None) -> None:  # noqa: N802
        if not await self._strikes("MAIL"):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:  # noqa: N802
        if not await self._strikes("RCPT"):
            await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        if not await self._strikes("DATA"):
            await super().smtp_DATA(arg)


class _Handler:
    def __init__(self, server: FaultySmtp) -> None:
        self.server = server

    async def handle_DATA(self, smtp: _FaultySession, _: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        f = smtp.fault
        if f is not None and f.at == "END" and f.code is not None:
            return f"{f.code} {'Try again later' if f.code < 500 else 'Refused'} (fault injected)"
        self.server._keep(envelope.original_content)
        if f is not None and f.at == "END":
            if f.drop:
                await smtp._hang_up_and_wait()  # it arrived; the sender never hears so
            else:
                await asyncio.sleep(STALL_SECONDS)
        return "250 Message accepted for delivery"
