"""The chaos run (issue 14, "Crash safety, measured"): N invoices walked through the whole ladder on simulated time
by the real engine while its processes are killed with SIGKILL at random moments, each restarted after its kill;
at the end, what arrived is counted.

    .venv/bin/python -m benchmarks.chaos [--invoices 100] [--kills 20] [--seed 1] [--postgres URL]
                                         [--stages 1-5] [--plan TARGET/TRIGGER,...] [--json] [--keep]

The engine is the pieces `dunning run` starts (dunning/cli/engine.py): a Prefect server on SQLite, the served
deployments (`deployments.serve`, each invoice run a `prefect.engine` child process) and a mail sink (aiosmtpd)
that counts every message by its Message-ID. The app database is SQLite in a fresh DUNNING_HOME, or a throw-away
PostgreSQL database with --postgres. Consumers and businesses, every fifth debtor with three invoices (one message
per step about all three). The ladder: call (answered "not reached" with `dunning call`), herinnering, aanmaning,
ingebrekestelling (approved with `dunning approve`, e-mail and letter, `dunning letters posted`),
incasso-aankondiging (approved), the hand-off.

What is killed (seeded: --seed): one flow-run process, every flow-run process at once, the serve process (its runs
go on as orphans), or the Prefect server (restarted on the same database: a server restart). When: right after the
sink took a message's DATA (mid-send: the run records it sent next), right after the sweep or a person resumed
runs (mid-resume), or a random few hundred milliseconds into a round (mid-transaction, most likely). After each
kill what was killed is started again; the sweep restarts runs marked Crashed, and `dunning retry --all` runs
that failed (as a person would). Checked at the end: each Message-ID once at the sink, each sent outbox row's
evidence exactly once (the dossier entry with the row's key), a row sent without reaching the sink (lost), rows
left `sending` (in doubt, not resent), and where every invoice stands. Exit 1 on a duplicate or a lost entry.

The short form in the test suite (tests/flows/test_chaos.py): a few invoices, the ladder's first stages
(--stages) and the kills chosen (--plan), among them "in-data": the sink holds its answer to a message until the
process sending it is killed, so that one dies between sending and recording for certain."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from benchmarks.common import (  # noqa: E402
    dunning,
    engine_env,
    import_invoices,
    invoice_row,
    make_home,
    postgres_database,
    set_clock,
    sigkill,
    wait_for_deployments,
)
from dunning.cli import engine  # noqa: E402
from dunning.domain.kinds import OutboxStatus  # noqa: E402
from dunning.messaging.mailsink import MailSink  # noqa: E402
from dunning.storage import config, db  # noqa: E402
from dunning.storage.models import DossierEntry, Invoice, OutboxMessage  # noqa: E402

# Due 5 January 2026: the call (+3 days grace), herinnering after it, aanmaning, ingebrekestelling, incasso
# announcement, the hand-off 7 days later (tests/support/ladder.py).
STAGES = ("2026-01-09T10:00", "2026-01-26T10:00", "2026-02-10T10:00", "2026-03-10T10:00", "2026-03-18T10:00")
POLICY = """[default]
call_attempts = 1
late_payer_invoices = 0
"""
SETTLED = {"PAUSED", "COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# A round's runs not settled by then are reported as stuck (never resumed): longer than the sweep takes to give
# back a run a killed runner left Pending (tasks/sweep.STUCK_PENDING), with the sweep running meanwhile as the
# scheduled one does every minute.
SETTLE_SECONDS = 420.0
SWEEP_EVERY = 60.0
TARGETS = (("run", 4), ("runs", 2), ("serve", 2), ("server", 2))
TRIGGERS = (("after-data", 4), ("mid-resume", 3), ("delay", 3))  # and "in-data" and "idle", by --plan only


@dataclass
class Kill:
    target: str
    trigger: str
    stage: str
    killed: list[int] = field(default_factory=list)
    note: str = ""
    at: float = 0.0


@dataclass
class Figures:
    kills: list[Kill] = field(default_factory=list)
    retries: int = 0  # `dunning retry --all` needed (failed runs)
    told_crashed: int = 0  # answers whose `dunning` command said the run it resumed crashed
    crashed_restarted: int = 0
    stuck: dict[str, str] = field(default_factory=dict)  # run id -> its state when we stopped waiting
    cli_failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # what check() counted, for --json
    where: dict[str, str] = field(default_factory=dict)  # each invoice: where it stands
    quiet: bool = False  # --json: the progress on stderr

    def say(self, line: str) -> None:
        print(line, file=sys.stderr if self.quiet else sys.stdout, flush=True)


class Engine:
    """The Prefect server and the serve process, started again after each kill."""

    def __init__(self, inst: config.Installation, env: dict[str, str], logs: Path):
        self.inst, self.env, self.logs = inst, env, logs
        self.server: subprocess.Popen | None = None
        self.serve: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def start_server(self) -> None:
        self.server = engine.start_prefect_server(self.inst, self.inst.prefect_port, self.logs / "server.log")
        engine.wait_for_health(self.inst.prefect_api_url, self.server, timeout=180)

    def start_serve(self) -> None:
        self.serve = engine.start_serve(self.inst, self.logs / "serve.log")

    def run_processes(self) -> list[int]:
        """This installation's flow-run processes (`python -m prefect.engine`), the serve process's children and
        any it left behind when it was killed."""
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
                if b"prefect.engine" not in cmdline:
                    continue
                environ = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"DUNNING_HOME={self.inst.home}".encode() in environ:
                found.append(int(proc.name))
        return found

    def senders(self) -> list[int]:
        """The flow-run processes with a connection open to the mail sink: those sending a message now."""
        port = int(self.env["DUNNING_SMTP_PORT"])
        sockets = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                rows = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for row in rows:  # sl local_address rem_address st ... inode
                fields = row.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # ESTABLISHED
                    sockets.add(f"socket:[{fields[9]}]")
        found = []
        for pid in self.run_processes():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) in sockets:
                        found.append(pid)
                        break
                except OSError:
                    continue
        return found

    def kill(self, kill: Kill, rng: random.Random) -> None:
        """SIGKILL the target, then start again what was killed (a flow-run process is the serve process's to
        report: it marks the run Crashed and the sweep restarts it)."""
        with self.lock:
            target = kill.target
            runs = self.run_processes()
            for _ in range(50 if target in ("run", "runs") else 0):
                if runs:
                    break
                time.sleep(0.1)  # the runner polls for scheduled runs every 2 s: one may be about to start
                runs = self.run_processes()
            if target in ("run", "runs") and not runs:
                target = rng.choice(("serve", "server"))
                kill.note = f"no run process alive: {target} instead"
            kill.at = time.monotonic()
            if target == "run":
                sending = self.senders() if kill.trigger == "in-data" else []
                if kill.trigger == "in-data" and not sending:
                    kill.note = "no run process sending: one at random"
                kill.killed = sending or [rng.choice(runs)]
                sigkill(kill.killed)
            elif target == "runs":
                kill.killed = runs
                sigkill(runs)
            elif target == "serve":
                assert self.serve is not None
                kill.killed = [self.serve.pid]
                sigkill(kill.killed)
                self.serve.wait()
                self.start_serve()
            else:
                assert self.server is not None
                kill.killed = [self.server.pid]
                sigkill(kill.killed)
                self.server.wait()
                self.start_server()
            kill.target = target

    def revive(self) -> list[str]:
        """Start again whatever stopped by itself (a serve process that lost its server, say)."""
        revived = []
        with self.lock:
            if self.server is not None and self.server.poll() is not None:
                self.start_server()
                revived.append(f"server (exit {self.server.returncode})")
            if self.serve is not None and self.serve.poll() is not None:
                revived.append(f"serve (exit {self.serve.returncode})")
                self.start_serve()
        return revived

    def stop(self) -> None:
        engine.stop(self.serve)
        engine.stop(self.server)
        sigkill(self.run_processes())  # orphans of a killed serve process


class Killer:
    """Fires one armed kill: on the sink's next DATA (mid-send: right after it, or while the sink holds its answer
    to the sender), when a run was just resumed (mid-resume), or a random moment into the round; an armed kill not
    triggered stays armed into the next round."""

    def __init__(self, eng: Engine, rng: random.Random):
        self.eng, self.rng = eng, rng
        self.data = threading.Event()  # the sink took a message's DATA
        self.resumed = threading.Event()  # the sweep or a person just resumed runs
        self.force = threading.Event()  # nothing more will happen at this moment: fire now
        self.fired = threading.Event()
        self.done = threading.Event()  # the kill fired and what it killed started again
        self.thread: threading.Thread | None = None
        self.armed: Kill | None = None
        self.error: BaseException | None = None

    def arm(self, kill: Kill) -> None:
        self.armed = kill
        for event in (self.data, self.resumed, self.force, self.fired, self.done):
            event.clear()
        self.thread = threading.Thread(target=self._wait_and_fire, args=(kill,), daemon=True)
        self.thread.start()

    def _wait_and_fire(self, kill: Kill) -> None:
        try:
            if kill.trigger == "delay":
                self.force.wait(self.rng.uniform(0.5, 6.0))  # the runner's 2 s poll, then the run's own work
            elif kill.trigger == "idle":
                self.force.wait()  # a round with nothing to do: every run suspended
            else:
                trigger = self.data if kill.trigger in ("after-data", "in-data") else self.resumed
                while not trigger.is_set() and not self.force.is_set():
                    time.sleep(0.005)
                if not trigger.is_set():
                    kill.note = f"no {'DATA' if trigger is self.data else 'resume'} at this moment: fired idle"
                elif trigger is self.resumed:
                    time.sleep(self.rng.uniform(0, 2.5))  # somewhere in the resumed run's start or replay
            self.fired.set()
            self.eng.kill(kill, self.rng)
        except BaseException as e:  # reported by the main thread
            self.error = e
        finally:
            self.done.set()

    def holds_answer(self) -> bool:
        """An in-data kill waits for the sink's next DATA: the sink answers the sender only after the kill, so the
        sender dies knowing nothing of the server's acceptance (between sending and recording, for certain)."""
        armed = self.armed
        return armed is not None and armed.trigger == "in-data" and not self.fired.is_set()

    def collect(self, force: bool = False) -> Kill | None:
        """The armed kill once fired and what it killed started again; None while it waits for its moment."""
        if self.thread is None:
            return None
        if force:
            self.force.set()
        elif not self.fired.is_set():
            return None
        self.thread.join()
        self.thread, kill, self.armed = None, self.armed, None
        if self.error is not None:
            raise self.error
        return kill


def api(inst: config.Installation, path: str, body: dict | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(inst.prefect_api_url + path, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read() or b"null")


def prepare_home(home: Path, invoices: int, database_url: str | None) -> config.Installation:
    inst = make_home(home, "chaos", database_url, POLICY)
    rows, debtor, left = [], 0, 0
    for n in range(invoices):
        if left == 0:  # a new debtor: every fifth has three invoices, every other one is a business
            debtor += 1
            left = 3 if debtor % 5 == 0 else 1
        left -= 1
        kind = "business" if debtor % 2 else "consumer"
        rows.append(invoice_row(f"X-{n}", f"D-{debtor}", f"Debtor {debtor}", kind, f"d{debtor}@example.com",
                                f"{100 + 37 * n}.00"))
    import_invoices(inst, rows)
    return inst


def run_ids(inst: config.Installation, numbers: list[str] | None = None) -> dict[str, str]:
    with db.transaction(inst) as s:
        return {i.number: i.flow_run_id for i in s.query(Invoice)
                if i.flow_run_id and (numbers is None or i.number in numbers)}


def run_state(inst: config.Installation, run_id: str) -> dict | None:
    try:
        return api(inst, f"/flow_runs/{run_id}")["state"]
    except (OSError, ValueError):
        return None  # the server is down or restarting: look again


def settle(inst: config.Installation, eng: Engine, ids: list[str], figures: Figures) -> None:
    """Until every run in `ids` has reached its next pause or its end; those that never do are stuck."""
    deadline = time.monotonic() + SETTLE_SECONDS
    next_sweep = time.monotonic() + SWEEP_EVERY
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        eng.revive()
        if time.monotonic() >= next_sweep:  # as the scheduled sweep would: a stuck or crashed run is given back
            figures.crashed_restarted += len(sweep(inst, eng).restarted)
            next_sweep = time.monotonic() + SWEEP_EVERY
        for run_id in list(pending):
            state = run_state(inst, run_id)
            if state is not None and state["type"] in SETTLED:
                pending.discard(run_id)
        if pending:
            time.sleep(0.3)
    for run_id in pending:
        state = run_state(inst, run_id)
        figures.stuck[run_id] = f"{state['type']} {state.get('name')}" if state else "unknown"


def sweep(inst: config.Installation, eng: Engine) -> Any:
    """One sweep in this process (tasks/sweep.py), tried again while the server restarts."""
    from tasks.sweep import sweep_once

    for attempt in range(10):
        try:
            return asyncio.run(sweep_once(inst))
        except Exception:
            if attempt == 9:
                raise
            eng.revive()
            time.sleep(2)
    raise AssertionError("unreachable")


def answer_tasks(env: dict[str, str], figures: Figures, resumed: threading.Event) -> list[str]:
    """Each open call answered "not reached" and each approval given, through the CLI as a person does."""
    listed = dunning(env, "tasks", "--json")
    if listed.returncode != 0:
        figures.cli_failures.append(f"dunning tasks: {listed.stderr.strip()[-300:]}")
        return []
    answered = []
    for task in json.loads(listed.stdout):
        number = task["invoice"].split(",")[0].strip()
        if task["kind"] == "call":
            done = dunning(env, "call", number, "--not-reached", "--by", "chaos")
        elif task["kind"] == "approval":
            done = dunning(env, "approve", number, "--by", "chaos")
        else:
            continue
        if done.returncode != 0:
            figures.cli_failures.append(f"{task['kind']} {number}: exit {done.returncode}: "
                                        f"{done.stderr.strip()[-300:]}")
        else:
            answered.append(number)
            figures.told_crashed += "Crashed" in done.stdout
            resumed.set()  # the run is resuming now: a mid-resume kill aims here
    return answered


def plan_kill(rng: random.Random, stage: str, planned: list[tuple[str, str]]) -> Kill:
    """The next kill of --plan, else a seeded pick."""
    if planned:
        return Kill(*planned.pop(0), stage)

    def pick(options: tuple[tuple[str, int], ...]) -> str:
        return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]

    return Kill(pick(TARGETS), pick(TRIGGERS), stage)


def walk(inst: config.Installation, env: dict[str, str], eng: Engine, killer: Killer, rng: random.Random,
         kills: int, figures: Figures, stages: Sequence[str] = STAGES,
         planned: list[tuple[str, str]] | None = None) -> None:
    planned = list(planned or [])
    for n, moment in enumerate(stages):
        set_clock(inst, moment)
        quota = round(kills * (n + 1) / len(stages))  # kills due by the end of this stage
        idle_kills = 0
        for _round in range(60):
            if killer.thread is None and len(figures.kills) < quota:
                killer.arm(plan_kill(rng, moment, planned))
            report = sweep(inst, eng)
            figures.crashed_restarted += len(report.restarted)
            touched = list(report.touched.values())
            if report.woken or report.restarted:
                killer.resumed.set()
            if not touched:
                if report.failed:
                    figures.retries += 1
                    dunning(env, "retry", "--all")
                    touched = list(run_ids(inst, [r.invoice for r in report.failed]).values())
                elif answered := answer_tasks(env, figures, killer.resumed):
                    touched = list(run_ids(inst, answered).values())
                elif json.loads(dunning(env, "letters", "--json").stdout or "[]"):
                    dunning(env, "letters", "posted")
                    continue
            if touched:
                settle(inst, eng, touched, figures)
            kill = killer.collect(force=not touched)
            if kill is not None:
                figures.kills.append(kill)
                figures.say(f"  kill {len(figures.kills)}: {kill.target} ({kill.trigger}) at {moment}"
                            f"{': ' + kill.note if kill.note else ''}")
                continue  # whatever the kill left behind, the next sweep sees
            if touched:
                continue
            if len(figures.kills) < quota and idle_kills < 3:
                # Nothing more to do at this moment, yet kills due: restart the server or serve process while every
                # run is suspended (the "server restarts").
                idle_kills += 1
                kill = Kill(rng.choice(("server", "serve")), "idle", moment)
                eng.kill(kill, rng)
                figures.kills.append(kill)
                figures.say(f"  kill {len(figures.kills)}: {kill.target} (idle, every run suspended) at {moment}")
                continue
            break
        else:
            figures.problems.append(f"{moment}: still busy after 60 rounds")


def check(inst: config.Installation, env: dict[str, str], sink: MailSink, figures: Figures) -> None:
    at_sink: Counter[str] = Counter(str(m["Message-ID"]).strip() for m in sink.messages())
    with db.transaction(inst) as s:
        rows = s.scalars(select(OutboxMessage)).all()
        evidence = Counter(s.scalars(select(DossierEntry.key)).all())
        all_entries = s.scalars(select(DossierEntry)).all()
        summaries = {e.key: e.summary for e in all_entries}
        entries = Counter((e.invoice_id, e.kind, e.channel) for e in all_entries)
        invoices = s.scalars(select(Invoice).order_by(Invoice.id)).all()
        by_id = {i.id: i.number for i in invoices}
        rows_by_message: dict[str, list[OutboxMessage]] = {}
        for r in rows:
            if r.message_id:
                rows_by_message.setdefault(r.message_id.strip(), []).append(r)
        duplicates = {mid: n for mid, n in at_sink.items() if n > 1}
        sent = [r for r in rows if r.status is OutboxStatus.sent]
        sending = [r for r in rows if r.status is OutboxStatus.sending]
        in_doubt = [r for r in sent if r.in_doubt]
        no_evidence = [r.key for r in sent if evidence[r.key] != 1]
        lost = [r.key for r in sent if r.channel.value == "email" and not r.in_doubt
                and at_sink[(r.message_id or "").strip()] == 0]
        unknown = [mid for mid in at_sink if mid not in rows_by_message]
        resent_in_doubt = [r.key for r in sending + in_doubt if at_sink[(r.message_id or "").strip()] > 1]
        # A row in doubt is a person's to decide: its evidence must say so.
        doubt_unsaid = [r.key for r in in_doubt if "unconfirmed" not in (summaries.get(r.key) or "")]
        # Evidence of a step by one channel more than once for one invoice (calls and notes may repeat).
        twice = {(by_id[i], kind, ch): n for (i, kind, ch), n in entries.items()
                 if n > 1 and kind not in ("call", "note", "approval")}
        where = _where(inst, s, invoices, sending, in_doubt)
    open_tasks = dunning(env, "tasks", "--json")
    figures.where = where
    figures.counts = {
        "messages": sum(at_sink.values()), "message_ids": len(at_sink), "duplicates": len(duplicates),
        "outbox_rows": len(rows), "sent": len(sent), "in_doubt": len(in_doubt), "sending": len(sending),
        "resent_in_doubt": len(resent_in_doubt), "doubt_unsaid": len(doubt_unsaid),
        "without_one_evidence": len(no_evidence), "lost": len(lost), "unknown_at_sink": len(unknown),
        "evidence_twice": len(twice), "crashed_restarted": figures.crashed_restarted,
        "told_crashed": figures.told_crashed, "retries": figures.retries,
        "stuck": len(figures.stuck), "cli_failures": len(figures.cli_failures),
    }
    figures.lines += [
        f"kills survived: {len(figures.kills)} ({_kinds(figures.kills)})",
        f"messages at the sink: {sum(at_sink.values())} ({len(at_sink)} Message-IDs); duplicates: {len(duplicates)}",
        f"outbox rows: {len(rows)}; sent {len(sent)} (in doubt {len(in_doubt)}), left `sending` {len(sending)}, "
        f"in doubt or sending yet delivered again: {len(resent_in_doubt)}",
        f"sent rows without exactly one evidence entry: {len(no_evidence)}; e-mails recorded sent but not at the "
        f"sink (lost): {len(lost)}; sink messages without an outbox row: {len(unknown)}",
        f"a step's evidence twice for one invoice and channel: {len(twice)}",
        f"runs restarted by the sweep after a crash: {figures.crashed_restarted}; `dunning retry --all` needed: "
        f"{figures.retries}; runs never settled: {len(figures.stuck)}; CLI answers refused: "
        f"{len(figures.cli_failures)}",
        "invoices: " + ", ".join(f"{n} {what}" for what, n in Counter(w for w in where.values()).most_common()),
    ]
    if open_tasks.returncode == 0 and (tasks := json.loads(open_tasks.stdout)):
        figures.lines.append(f"open tasks left: {len(tasks)}")
    for what, found in (("duplicate at the sink", sorted(duplicates.items())),
                        ("sent without exactly one evidence entry", no_evidence), ("lost", lost),
                        ("sent again though in doubt", resent_in_doubt),
                        ("in doubt without saying so in the dossier", doubt_unsaid),
                        ("evidence twice", sorted(twice.items())),
                        ("at the sink without an outbox row", unknown)):
        if found:
            figures.problems.append(f"{len(found)} {what}, e.g. {found[:3]}")
    unaccounted = {n: w for n, w in where.items() if w.startswith("?")}
    if unaccounted:
        figures.problems.append(f"{len(unaccounted)} invoices not where the ladder says, e.g. "
                                f"{sorted(unaccounted.items())[:5]}")
    if figures.stuck:
        figures.problems.append(f"{len(figures.stuck)} runs never settled, e.g. {sorted(figures.stuck.items())[:3]}")
    for failure in figures.cli_failures[:5]:
        figures.lines.append(f"  refused: {failure}")


def _where(inst: config.Installation, s: Any, invoices: Sequence[Invoice], sending: list[OutboxMessage],
           in_doubt: list[OutboxMessage]) -> dict[str, str]:
    """Each invoice: handed off, closed, or waiting with a reason; "?" when none of these holds."""
    doubtful = {r.invoice_id for r in sending + in_doubt}
    where = {}
    for i in invoices:
        handed = (inst.home / "incasso" / f"{i.number}.json").exists()
        state = run_state(inst, i.flow_run_id) if i.flow_run_id else None
        kind = state["type"] if state else "no run"
        if handed and kind == "COMPLETED":
            where[i.number] = "handed off"
        elif i.closed_reason and kind == "COMPLETED":
            where[i.number] = f"closed ({i.closed_reason})"
        elif kind == "PAUSED" and i.id in doubtful:
            where[i.number] = "waiting: a message in doubt"
        elif kind == "PAUSED":
            where[i.number] = f"waiting: {state.get('name') if state else ''} {i.wake_at or ''}".strip()
        else:
            where[i.number] = f"? run {kind}{' ' + (state.get('message') or '')[:120] if state else ''}"
    return where


def _kinds(kills: list[Kill]) -> str:
    return ", ".join(f"{n} {k}" for k, n in Counter(f"{k.target}/{k.trigger}" for k in kills).most_common())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--kills", type=int, help="how many kills (default 20, or the --plan's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="the app database on PostgreSQL: a server where we may create databases")
    parser.add_argument("--keep", action="store_true", help="keep DUNNING_HOME (its logs) and print where")
    parser.add_argument("--stages", type=int, default=len(STAGES), choices=range(1, len(STAGES) + 1),
                        help=f"the first N moments of the ladder only (default all {len(STAGES)}; 1: the call and "
                             "the herinnering)")
    parser.add_argument("--plan", type=_plan,
                        help="the kills in this order instead of seeded picks, TARGET/TRIGGER,... (targets "
                             f"{', '.join(t for t, _ in TARGETS)}; triggers {', '.join(t for t, _ in TRIGGERS)}, "
                             "in-data: while the sink holds its answer, killing the process sending; idle: when a "
                             "round finds nothing to do, every run suspended); --kills "
                             "defaults to their number")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout, the progress on stderr")
    args = parser.parse_args(argv)
    kills = args.kills if args.kills is not None else len(args.plan) if args.plan else 20
    rng = random.Random(args.seed)
    figures = Figures(quiet=args.json)
    started = time.monotonic()
    with ExitStack() as stack:
        home = Path(tempfile.mkdtemp(prefix="dunning-chaos-")) if args.keep else \
            Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dunning-chaos-")))
        app_url = stack.enter_context(postgres_database(args.postgres)) if args.postgres else None
        inst = prepare_home(home, args.invoices, app_url)
        sink = MailSink(home / "mail", host="127.0.0.1", port=0).start()
        stack.callback(sink.stop)
        logs = home / "logs"
        logs.mkdir()
        os.environ.pop("PREFECT_API_URL", None)
        env = engine_env(inst, sink.port)
        os.environ.update(env)  # before anything imports Prefect: it reads its settings once
        inst = config.load(home)
        inst.prefect_home.mkdir(parents=True, exist_ok=True)
        eng = Engine(inst, env, logs)
        stack.callback(eng.stop)
        killer = Killer(eng, rng)
        store = sink._store

        def store_and_tell(data: bytes) -> Path:  # the sink's DATA hook: the mid-send kills aim here
            path = store(data)
            hold = killer.holds_answer()
            killer.data.set()
            if hold:
                killer.done.wait(60)
            return path

        sink._store = store_and_tell  # type: ignore[method-assign]
        eng.start_server()
        eng.start_serve()
        wait_for_deployments(inst, [f"collect-invoice/{inst.instance}"])
        figures.say(f"{args.invoices} invoices, {kills} kills, seed {args.seed}, home {home}"
                    f" ({'PostgreSQL' if app_url else 'SQLite'})")
        try:
            walk(inst, env, eng, killer, rng, kills, figures, STAGES[:args.stages], args.plan)
            check(inst, env, sink, figures)
        except Exception as e:  # the figures so far and the logs' tails are the report
            figures.problems.append(f"{type(e).__name__}: {e}")
            for log in sorted(logs.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)
        if app_url:
            db.engine_for(app_url).dispose()
    wall = time.monotonic() - started
    if args.json:
        print(json.dumps({
            "invoices": args.invoices, "stages": list(STAGES[:args.stages]), "seed": args.seed,
            "kills": [{"target": k.target, "trigger": k.trigger, "stage": k.stage, "killed": k.killed,
                       "note": k.note} for k in figures.kills],
            "counts": figures.counts, "where": figures.where, "problems": figures.problems,
            "wall_seconds": round(wall, 1),
        }, indent=2))
    else:
        for line in figures.lines:
            print(line)
        print(f"wall time {wall:.0f} s; {'all checks passed' if not figures.problems else 'PROBLEMS:'}")
        for problem in figures.problems:
            print(f"    {problem}")
    return 1 if figures.problems else 0


def _plan(text: str) -> list[tuple[str, str]]:
    targets, triggers = {t for t, _ in TARGETS}, {t for t, _ in TRIGGERS} | {"in-data", "idle"}
    planned = []
    for item in text.split(","):
        target, _, trigger = item.strip().partition("/")
        if target not in targets or trigger not in triggers:
            raise argparse.ArgumentTypeError(f"{item!r}: not TARGET/TRIGGER ({', '.join(sorted(targets))} / "
                                             f"{', '.join(sorted(triggers))})")
        planned.append((target, trigger))
    return planned


if __name__ == "__main__":
    sys.exit(main())
