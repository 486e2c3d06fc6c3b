"""P3 (issue 13): N reminders (herinnering e-mails) rendered and sent through the real outbox path, against a bare
aiosmtplib loop sending the same messages, already rendered, to the same local SMTP server, in the same run; on
SQLite and, given a server, on PostgreSQL.

    .venv/bin/python -m benchmarks.send_reminders [--messages 1000] [--repeat 3] [--postgres URL] [--profile]

The book: N x `--repeat` invoices, each of its own debtor (consumer, e-mail, Dutch), each called three times
without reaching anyone, so the herinnering is due (as tests/integration/test_sending.py sets it up). Real path,
per invoice, as tasks.messages.send_step does it without Prefect around it: `sending.prepare_email` in one
transaction (the ladder asked, the message composed and queued, claimed), `mailer.deliver_raw` (one SMTP
connection per message, as every run has its own), `sending.record_delivery` in a second transaction (sent, with
evidence in the dossier). Baseline: `aiosmtplib.send` of the stored bytes, one connection per message, and (for
scale) all of them over one connection. The server: aiosmtpd on loopback that counts and drops each message, so
neither side pays for a disk. Each repetition sends other invoices' reminders (a sent one is not sent again); within
one, the loops take turns a hundred messages at a time, so a slow minute of a shared machine weighs on each alike.
A third loop is the floor of any sender that sends at most once: the bare send with a durable commit before it
("sending") and after it ("sent") on the same database, nothing composed. Printed: seconds of each repetition for
each loop, the ratios (target <= 1.3x the bare loop; the floor alone is above that where a durable commit costs
more than a third of an SMTP exchange), where the real path's time goes; `--profile` adds the real path's
hottest functions. A fourth figure, rendering alone (templates and MIME, nothing read or stored, one invoice's
facts rendered N times), added to the floor, gives a lower bound of any at-most-once sender that renders what it
sends: above 1.3x, the target as stated cannot be met by any such sender."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.common import add_database_options, on_each_database  # noqa: E402
from dunning.casework import answers, human_tasks, invoices, policies  # noqa: E402
from dunning.casework.human_tasks import CallOutcome  # noqa: E402
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, TaskKind  # noqa: E402
from dunning.domain.steps import Message, Step  # noqa: E402
from dunning.messaging import compose, sending  # noqa: E402
from dunning.messaging.mailer import SmtpSettings, compose_email, deliver_raw, message_bytes, smtp_settings  # noqa: E402
from dunning.messaging.mailsink import free_port  # noqa: E402
from dunning.messaging.templating import render_email  # noqa: E402
from dunning.storage import config, db  # noqa: E402
from dunning.storage.models import Debtor, Invoice, OutboxMessage  # noqa: E402

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, in contact hours
HERINNERING = Step.send(Message.herinnering)
SLICE = 100  # messages each loop sends before the next loop's turn


class _Counting:
    """An aiosmtpd handler that takes every message and keeps only the count."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.received += 1
        return "250 OK"


def book(inst: config.Installation, count: int) -> list[str]:
    """`count` invoices whose herinnering is due now, each of its own debtor; their numbers."""
    numbers = []
    with db.transaction(inst) as s:
        for n in range(count):
            debtor = Debtor(number=f"D-{n:05d}", name=f"Jan de Vries {n}", kind=DebtorKind.consumer,
                            email=f"jan{n}@example.invalid", street=f"Dorpsstraat {n % 300 + 1}", postcode="1234 AB",
                            city="Utrecht", language="nl", preferred_channel=Channel.email)
            invoice = Invoice(number=f"F-{n:05d}", debtor=debtor, issue_date=date(2026, 1, 5),
                              due_date=date(2026, 2, 4), amount=Decimal(100 + n % 900) + Decimal("0.45"),
                              currency="EUR", flow_run_id=str(uuid.uuid4()))
            s.add(invoice)
            s.flush()
            for call in (1, 2, 3):
                at = NOW - timedelta(days=4 - call)
                task = human_tasks.open_task(s, invoice, TaskKind.call, Step.call(call), at)
                answers.complete_call(s, task, CallOutcome(reached=False), at)
            numbers.append(invoice.number)
    return numbers


class Clock:
    """Seconds spent in each part of the real path."""

    def __init__(self) -> None:
        self.parts = {"prepare_email (ladder, render, queue, claim)": 0.0, "deliver_raw (SMTP)": 0.0,
                      "record_delivery": 0.0}

    def add(self, part: str, since: float) -> float:
        now = time.perf_counter()
        self.parts[part] += now - since
        return now


async def real_path(inst: config.Installation, settings: SmtpSettings, numbers: list[str], clock: Clock) -> None:
    prepare, deliver, record = clock.parts
    for number in numbers:
        t = time.perf_counter()
        with db.transaction(inst) as s:
            decision = sending.prepare_email(s, inst, invoices.get(s, number), HERINNERING, NOW)
        if not isinstance(decision, sending.Deliver):
            raise SystemExit(f"{number}: expected a message to deliver, got {decision}")
        t = clock.add(prepare, t)
        await deliver_raw(settings, decision.content, [decision.recipient])
        t = clock.add(deliver, t)
        with db.transaction(inst) as s:
            sending.record_delivery(s, decision, NOW)
        clock.add(record, t)


async def bare_loop(settings: SmtpSettings, messages: list[tuple[bytes, str]], sender: str) -> None:
    for content, recipient in messages:
        await aiosmtplib.send(content, sender=sender, recipients=[recipient], hostname=settings.host,
                              port=settings.port)


async def floor_loop(inst: config.Installation, settings: SmtpSettings, messages: list[tuple[bytes, str]],
                     sender: str) -> None:
    """The least any at-most-once sender must do: a row saying "sending" committed before the message goes (a
    crash after it must not send again), "sent" committed after it; nothing composed, nothing read."""
    engine = db.engine_for(inst.database_url)
    key_type = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE IF NOT EXISTS bench_floor (id {key_type} PRIMARY KEY, status VARCHAR(10))"))
    for content, recipient in messages:
        with engine.begin() as c:
            key = c.execute(text("INSERT INTO bench_floor (status) VALUES ('sending') RETURNING id")).scalar_one()
        await aiosmtplib.send(content, sender=sender, recipients=[recipient], hostname=settings.host,
                              port=settings.port)
        with engine.begin() as c:
            c.execute(text("UPDATE bench_floor SET status = 'sent' WHERE id = :id"), {"id": key})


def rendering_alone(inst: config.Installation, number: str, count: int) -> float:
    """Seconds to render the herinnering `count` times from one invoice's facts, read once beforehand: the
    templates (subject, text, HTML) and the MIME message's bytes, each with its own Message-ID; no database."""
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        made = compose.compose(s, inst, invoice, HERINNERING, Channel.email, NOW, policy, preview=True)
        name, address = invoice.debtor.name, invoice.debtor.email or ""
    settings = smtp_settings(inst)
    start = time.perf_counter()
    for n in range(count):
        email = render_email(HERINNERING.sends.value, made.language, made.values, inst.home / "templates")
        message_bytes(compose_email(settings=settings, to_name=name, to_address=address, subject=email.subject,
                                    text=email.text, html=email.html, message_id_key=f"bench-{n}", now=NOW))
    return time.perf_counter() - start


async def one_connection(settings: SmtpSettings, messages: list[tuple[bytes, str]], sender: str) -> None:
    async with aiosmtplib.SMTP(hostname=settings.host, port=settings.port) as client:
        for content, recipient in messages:
            await client.sendmail(sender, [recipient], content)


def stored_messages(inst: config.Installation, numbers: list[str]) -> list[tuple[bytes, str]]:
    """The bytes and recipient of each message the real path sent for these invoices, as the baselines send them."""
    with db.transaction(inst) as s:
        return [(m.content, m.recipient) for m in s.scalars(
            select(OutboxMessage).join(Invoice, OutboxMessage.invoice_id == Invoice.id)
            .where(Invoice.number.in_(numbers)).order_by(OutboxMessage.id))]


def timed(work: object) -> float:
    start = time.perf_counter()
    asyncio.run(work)  # type: ignore[arg-type]
    return time.perf_counter() - start


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    port = free_port()
    (home / "settings.toml").write_text(f'instance = "bench"\nsmtp_port = {port}\ndatabase_url = "{database_url}"\n')
    inst = config.load(home)
    db.migrate(inst)
    start = time.perf_counter()
    numbers = book(inst, args.messages * args.repeat)
    print(f"set-up: {len(numbers)} invoices with the herinnering due, in {time.perf_counter() - start:.1f} s")
    settings = smtp_settings(inst)
    sender = "debiteuren@example.invalid"
    handler = _Counting()
    controller = Controller(handler, hostname=settings.host, port=settings.port, server_hostname="bench.localhost")
    controller.start()
    try:
        ratios: list[float] = []
        floors: list[tuple[float, float]] = []
        bounds: list[float] = []
        for rep in range(args.repeat):
            batch = numbers[rep * args.messages:(rep + 1) * args.messages]
            clock = Clock()
            profile = cProfile.Profile() if args.profile and rep == args.repeat - 1 else None
            real = bare = single = floor = rendering = 0.0
            # The loops take turns a slice at a time, so a slow minute of a shared machine weighs on each alike.
            for start in range(0, len(batch), SLICE):
                part = batch[start:start + SLICE]
                if profile:
                    profile.enable()
                real += timed(real_path(inst, settings, part, clock))
                if profile:
                    profile.disable()
                messages = stored_messages(inst, part)
                bare += timed(bare_loop(settings, messages, sender))
                single += timed(one_connection(settings, messages, sender))
                floor += timed(floor_loop(inst, settings, messages, sender))
                rendering += rendering_alone(inst, part[0], len(messages))
            bounds.append((floor + rendering) / bare)
            ratios.append(real / bare)
            floors.append((floor / bare, real / floor))
            print(f"run {rep + 1}: real path {real:6.2f} s ({real / len(batch) * 1000:5.1f} ms each)   bare aiosmtplib "
                  f"{bare:6.2f} s ({bare / len(batch) * 1000:5.1f} ms each; one connection for all {single:5.2f} s)"
                  f"   ratio {real / bare:5.2f}x")
            print(f"       floor (bare + a durable commit before and after each) {floor:6.2f} s "
                  f"({floor / len(batch) * 1000:5.1f} ms each): {floor / bare:5.2f}x bare; real path "
                  f"{real / floor:5.2f}x the floor")
            print(f"       rendering alone (templates + MIME, no database) {rendering:6.2f} s "
                  f"({rendering / len(batch) * 1000:5.1f} ms each): {rendering / bare:5.2f}x bare; floor + "
                  f"rendering {(floor + rendering) / bare:5.2f}x bare (the least any at-most-once sender that "
                  f"renders can take)")
            print("       real path: " + ", ".join(f"{part} {seconds:.2f} s" for part, seconds in clock.parts.items()))
            if profile:
                stats = pstats.Stats(profile)
                stats.sort_stats("tottime").print_stats(20)
                stats.sort_stats("cumulative").print_stats(r"dunning|tasks|jinja2|fpdf|email", 30)
        with db.transaction(inst) as s:
            sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.sent))
        print(f"sent and recorded: {sent}; the server took {handler.received} "
              f"(real path + three baselines: {sent * 4} expected)")
        print(f"ratio real / bare per run: {' '.join(f'{r:.2f}x' for r in ratios)}   target <= 1.3x: "
              f"{'met' if max(ratios) <= 1.3 else 'MISSED'}")
        print(f"floor / bare per run: {' '.join(f'{f:.2f}x' for f, _ in floors)} (no at-most-once sender on this "
              f"database gets below it); real / floor: {' '.join(f'{r:.2f}x' for _, r in floors)}")
        print(f"(floor + rendering) / bare per run: {' '.join(f'{b:.2f}x' for b in bounds)} (the least an "
              f"at-most-once sender that renders what it sends can take; above 1.3x, none meets the target)")
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="the real path's hottest functions, last run")
    add_database_options(parser)
    args = parser.parse_args()
    on_each_database(run, args)


if __name__ == "__main__":
    main()
