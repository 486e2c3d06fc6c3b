"""The sweep: start runs for newly due invoices, wake runs whose time has come, restart crashed runs.

Used by the scheduled `sweep` deployment and by `dunning sweep` alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter
from prefect.states import Cancelled, Completed, Crashed, Scheduled
from sqlalchemy import select

from dunning.casework import invoices, policies, wakeups
from dunning.domain.errors import UserError
from dunning.domain.liveness import SILENT_FOR, latest_beats, silent_runs
from dunning.law import rate_table_warnings
from dunning.messaging import throttle
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import BankLine, Invoice
from dunning.storage.secrets import known_secrets, redact

SETTLED = {StateType.PAUSED, StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@dataclass
class SweepReport:
    started: dict[str, str] = field(default_factory=dict)  # invoice number -> flow run id
    woken: dict[str, str] = field(default_factory=dict)
    restarted: dict[str, str] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)  # "payment N" -> the run asking a person to match it
    config_problems: list[str] = field(default_factory=list)  # files that do not load: no failed run restarted
    failed: list[FailedRun] = field(default_factory=list)  # invoice runs still failed after this sweep

    @property
    def problems(self) -> list[str]:
        """What a person must sort out, one line each: the configuration first, then the runs it failed."""
        waiting = [f"invoice {r.invoice}: run {r.state.lower()}: {r.error} (retry: `{r.retry_command}`)"
                   for r in self.failed]
        return [*self.config_problems, *waiting]

    @property
    def touched(self) -> dict[str, str]:
        return {**self.started, **self.woken, **self.restarted, **self.asked}


def rate_warnings(inst: Installation) -> list[str]:
    """Statutory interest tables that lack a row for the current half-year, and rows marked unverified that no
    person confirmed (dunning/law/data/README.md)."""
    with db.transaction(inst) as s:
        today = clock.local(clock.now(s)).date()
    return [w for kind in ("commercial", "non-commercial") for w in rate_table_warnings(kind, today, inst.law_dir)]


def deployment_name(inst: Installation) -> str:
    return f"collect-invoice/{inst.instance}"


async def sweep_once(inst: Installation) -> SweepReport:
    """What is due (`wakeups.due`, no Prefect), then done through the Prefect API."""
    report = SweepReport()
    with db.transaction(inst) as s:
        found = wakeups.due(s, inst.home, clock.now(s))
    # At the installation's pace (settings.toml `wakeups_per_minute`): the rest stays due for the next sweep.
    to_start, to_wake = throttle.hand_out(found.start, found.wake, inst.wakeups_per_minute)
    async with get_client() as client:
        for number, debtor_number in to_start:
            run: FlowRun = await run_deployment(  # type: ignore[misc]  # sync_compatible, awaited
                deployment_name(inst),
                parameters={"invoice_number": number},
                timeout=0,
                flow_run_name=number,
                tags=[f"debtor:{debtor_number}"],
                idempotency_key=f"{inst.instance}:collect-invoice:{number}",
                client=client,
                # Each invoice run stands on its own: a subflow of the sweep could never be suspended.
                as_subflow=False,
            )
            with db.transaction(inst) as s:
                invoices.get(s, number).flow_run_id = str(run.id)
            report.started[number] = str(run.id)
        for number, run_id in to_wake:
            if run_id and await wake(client, inst, number, run_id, only_if_due=True):
                report.woken[number] = str(run_id)
        for line_id in found.ask:
            run = await run_deployment(  # type: ignore[misc]  # sync_compatible, awaited
                f"match-payment/{inst.instance}",
                parameters={"line_id": line_id},
                timeout=0,
                flow_run_name=f"payment {line_id}",
                tags=["payment"],
                idempotency_key=f"{inst.instance}:match-payment:{line_id}",
                client=client,
                as_subflow=False,
            )
            with db.transaction(inst) as s:
                s.get_one(BankLine, line_id).flow_run_id = str(run.id)
            report.asked[f"payment {line_id}"] = str(run.id)
        for line_id, run_id in found.decided:
            await _close_if_decided_elsewhere(client, run_id)
            with db.transaction(inst) as s:
                s.get_one(BankLine, line_id).flow_run_id = None  # looked at once: the run is over
        silent = await _silent_running(client, inst)
        for run in silent:
            # On record, in the run's history: why it went on from the top.
            await client.set_flow_run_state(run.id, Crashed(message=SILENT_MESSAGE), force=True)
        dead = [*silent, *await _crashed_runs(client, inst), *await _stuck_pending(client, inst)]
        sweeps = await _sweep_flow_id(client) if dead else None
        for run in dead:
            if run.flow_id == sweeps:
                # A sweep run sweeps for ten minutes; started again beside the schedule's next one it would only
                # hold a process (and a place of an invoice run) for nothing.
                await client.set_flow_run_state(run.id, Cancelled(message=DEAD_SWEEP_MESSAGE), force=True)
                continue
            await client.set_flow_run_state(run.id, Scheduled(name="Restarting"), force=True)
            report.restarted[run.name] = str(run.id)
        await restart_failed(client, inst, report)
    return report


DEAD_SWEEP_MESSAGE = "a sweep run that died is not restarted: the schedule's next sweep run takes over"


async def _sweep_flow_id(client: PrefectClient) -> UUID | None:
    # Not read_flow_by_name: for a flow the server does not know it raises an HTTP 404 error, not ObjectNotFound.
    found = await client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=["sweep"])), limit=1)
    return found[0].id if found else None


def exit_code(report: SweepReport) -> int:
    """`dunning sweep` after it did its work: 2 while a file does not load (a mistake to fix, named), 1 while an
    invoice run stays failed (listed with `dunning retry`), else 0."""
    return 2 if report.config_problems else 1 if report.failed else 0


async def wake(
    client: PrefectClient, inst: Installation, number: str, run_id: UUID | str, *, only_if_due: bool = False
) -> bool:
    """Resume a paused run whose facts changed or whose time has come; False when it is not ours to wake.
    `only_if_due` (the sweep's): only while its wake-up is still due, taken by one sweep of several at once."""
    run_id = UUID(str(run_id))
    run = await client.read_flow_run(run_id)
    if run.state is None or not run.state.is_paused():
        with db.transaction(inst) as s:
            # Resumed (or ended) after all: a wake-up taken for it is seen through, whoever took it.
            wakeups.run_started(s, invoices.get(s, number))
        if run.state is not None and run.state.is_completed():
            return await _rerun_if_reopened(client, inst, number, run_id)
        return False
    with db.transaction(inst) as s:
        now = clock.now(s)
        if only_if_due and not wakeups.take_due_wake_up(s, number, now):
            # Another sweep took it since this one read what is due (and its run may have paused again already,
            # for its next step: woken now, it would only look and wait again).
            return False
        invoice = invoices.get(s, number)
        policy = policies.policy_for(inst.home, invoice.debtor.number)
        waking = wakeups.on_waking(s, invoice, run.state.state_details.pause_key or "", now, policy)
    if not waking.resume:
        return False
    try:
        # On the sweep's own client, the run already read: `prefect.flow_runs.resume_flow_run` would build a client
        # (and its TLS context) and read the run again for each of a morning's thousand wake-ups.
        response = await client.resume_flow_run(run_id, run_input=waking.run_input)
        # ABORT: no longer paused (another sweep, or a person in the UI, resumed it a moment ago).
        if response.status != SetStateStatus.ACCEPT:
            raise RuntimeError(f"not resumed: {response.details}")
    except Exception:  # another sweep or a person resumed it first: nothing lost, it runs
        with db.transaction(inst) as s:
            invoice = invoices.get(s, number)
            if invoice.wake_at is None:
                invoice.wake_at = clock.now(s)  # should it still be paused, the next sweep tries again
        return False
    return True


async def _rerun_if_reopened(client: PrefectClient, inst: Installation, number: str, run_id: UUID) -> bool:
    """A case closed as paid and reopened (the bank took the payment back): the invoice's own run goes on, from
    the top, where the evidence stands, instead of a second run for one invoice."""
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        reopened = invoice.closed_reason is None and invoices.open_amount(s, invoice) > 0
    if reopened:
        await client.set_flow_run_state(run_id, Scheduled(name="Reopened"), force=True)
    return reopened


async def _close_if_decided_elsewhere(client: PrefectClient, run_id: str) -> None:
    """A line matched or set aside with the CLI while its run waited on the form: the question is gone."""
    run = await client.read_flow_run(UUID(run_id))
    if run.state is not None and run.state.is_paused():
        await client.set_flow_run_state(run.id, Completed(message="decided outside this form"), force=True)
        # No longer waiting for anyone: off the "needs a person" list.
        await client.update_flow_run(run.id, tags=[t for t in run.tags if not t.startswith("awaiting:")])


async def _crashed_runs(client: PrefectClient, inst: Installation) -> list:
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED]))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
    )


# A served runner or worker moves a run it took (Pending) to Running within seconds; one killed in between leaves
# it Pending for good (found by benchmarks/chaos.py: SIGKILL of the serve process just after a sweep resumed runs).
STUCK_PENDING = timedelta(minutes=5)
HEARTBEAT = "prefect.flow-run.heartbeat"


async def _stuck_pending(client: PrefectClient, inst: Installation) -> list:
    """Runs taken for execution by a runner that died before starting them: given back to be picked up again."""
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING]))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
    )
    since = datetime.now(UTC) - STUCK_PENDING  # the server's own (real) time, not the installation's clock
    return [r for r in runs if r.state is not None and r.state.timestamp is not None and r.state.timestamp <= since]


SILENT_MESSAGE = (f"no heartbeat for {int(SILENT_FOR.total_seconds() // 60)} minutes: its process died with its "
                  "machine or worker; the sweep restarts it")


async def _silent_running(client: PrefectClient, inst: Installation) -> list[FlowRun]:
    """Running runs whose process stopped beating (`dunning.domain.liveness`): a worker's machine that died."""
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
    )
    running_since = {str(r.id): r.state.timestamp for r in runs if r.state is not None and r.state.timestamp}
    if not running_since:
        return []
    now = datetime.now(UTC)  # the server's own (real) time: beats are real, whatever the case's clock says
    beats = await _last_beats(client, list(running_since), since=min(running_since.values()), until=now)
    from_pool = {str(r.id) for r in runs if r.work_pool_name}  # a worker's: they beat from their start
    dead = set(silent_runs(running_since, beats, now, SILENT_FOR, beating=from_pool))
    return [r for r in runs if str(r.id) in dead]


async def _last_beats(client: PrefectClient, run_ids: list[str], since: datetime,
                      until: datetime) -> dict[str, datetime]:
    """Each run's latest heartbeat in [since, until] (the server is asked for one per run, newest first; the newest
    is kept whatever it sends)."""
    page = await client.read_events(EventFilter(
        occurred=EventOccurredFilter(since=since, until=until),  # type: ignore[arg-type]  # pendulum's DateTime
        event=EventNameFilter(name=[HEARTBEAT]),
        resource=EventResourceFilter(id=[f"prefect.flow-run.{r}" for r in run_ids], distinct=True),
    ), limit=50)
    beats: list[tuple[str, datetime]] = []
    while True:
        beats += [(e.resource.id.removeprefix("prefect.flow-run."), e.occurred) for e in page.events]
        if page.next_page is None:
            return latest_beats(beats)
        page = await client.read_events_page(str(page.next_page))


async def wait_until_settled(run_ids: list[str], timeout: float = 180.0) -> dict[str, str]:
    """Wait until each run has reached its next pause or its end; returns run id -> state name."""
    deadline = asyncio.get_running_loop().time() + timeout
    states: dict[str, str] = {}
    pause = 0.05  # a run usually settles within a second: look often at first, then every half second
    async with get_client() as client:
        pending = set(run_ids)
        while pending:
            for run_id in list(pending):
                run = await client.read_flow_run(UUID(run_id))
                if run.state and run.state.type in SETTLED:
                    states[run_id] = run.state.name or run.state.type.value
                    pending.discard(run_id)
            if pending:
                if asyncio.get_running_loop().time() > deadline:
                    for run_id in pending:
                        states[run_id] = "still running (timed out waiting)"
                    break
                await asyncio.sleep(pause)
                pause = min(pause * 1.5, 0.5)
    return states


# -- failed runs: restarted once what failed them is fixed -----------------------------------------------------

# A failed run is restarted at the next sweep, and when it fails again only after a wait that doubles with every
# failure (5 minutes, 10, 20, ... at most a day): a run still broken is not restarted every minute. Fixing the
# configuration skips the wait: a person who edits settings.toml expects the runs to go on at the next sweep.
# Real time, as the Prefect server stamps the states: the collection clock may run on simulated time.
RESTART_FIRST_WAIT = timedelta(minutes=5)
RESTART_MOST_WAIT = timedelta(days=1)
CONFIG_FILES = ("settings.toml", "policies.toml", "excuses.toml")  # and the templates/ folder
_TEMPLATE_SUFFIXES = (".html", ".txt", ".md")
# Failures that are the ladder's answer, not a fault: restarting replays the same refusal. A person acts first
# (here: supplies the missing evidence), then `dunning retry`.
BUSINESS_REFUSALS = ("IncassoRefused",)
_PAGE = 200


@dataclass(frozen=True)
class FailedRun:
    invoice: str
    run_id: str
    state: str  # "Failed" or "Crashed"
    failed_at: datetime
    error: str  # the state's message, one line, secrets masked
    failures: int  # how often this run has failed so far

    @property
    def retry_command(self) -> str:
        return f"dunning retry {self.invoice}"

    @property
    def refused(self) -> bool:
        """Failed by a business refusal (the incasso gate): the sweep leaves it to a person."""
        return any(f"{name}:" in self.error for name in BUSINESS_REFUSALS)


def config_problems(home: Path) -> list[str]:
    """What stops runs in the installation's own files: settings, policies, excuses and template overrides, each
    loaded as a run loads it; one line per file that does not load (secrets masked)."""
    from dunning.desk import excuses
    from dunning.messaging import templating
    from dunning.storage import config

    problems = []
    for name, load in (("settings.toml", lambda: config.load(home)), ("policies.toml", lambda: policies.load(home)),
                       ("excuses.toml", lambda: excuses.load(home))):
        try:
            load()
        except Exception as e:  # whatever stops it loading stops the runs: name it, never a traceback
            problems.append(_one_line(str(home / name), e, home))
    overrides = home / "templates"
    if overrides.is_dir():
        environment = templating.make_environment(overrides)
        for path in sorted(p for p in overrides.rglob("*") if p.suffix in _TEMPLATE_SUFFIXES and p.is_file()):
            try:
                environment.get_template(path.relative_to(overrides).as_posix())
            except Exception as e:
                problems.append(_one_line(str(path), e, home))
    return problems


def _one_line(what: str, error: Exception, home: Path) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, UserError):
        text = f"{what}: {type(error).__name__}: {text}"
    return redact(text, known_secrets(home))


def config_changed_at(home: Path) -> datetime | None:
    """When a person last changed what `config_problems` reads (file times), or None when there is none."""
    paths = [home / name for name in CONFIG_FILES]
    if (home / "templates").is_dir():
        paths += [p for p in (home / "templates").rglob("*") if p.is_file()]
    times = [p.stat().st_mtime for p in paths if p.exists()]
    return datetime.fromtimestamp(max(times), UTC) if times else None


def restart_due(run: FailedRun, now: datetime, changed_at: datetime | None) -> bool:
    """Restart the failed `run` now? The first failure at once; a later one after the back-off, unless the
    configuration changed since it failed."""
    if run.failures <= 1 or (changed_at is not None and changed_at > run.failed_at):
        return True
    wait = min(RESTART_FIRST_WAIT * 2 ** (run.failures - 2), RESTART_MOST_WAIT)
    return now - run.failed_at >= wait


async def failed_runs(client: PrefectClient, inst: Installation,
                      types: tuple[StateType, ...] = (StateType.FAILED, StateType.CRASHED)) -> list[FailedRun]:
    """The invoice runs of this installation that ended in one of `types` and are still the run of an open
    case, by invoice number (runs that failed together would otherwise come in whichever order they started)."""
    runs: list[FlowRun] = []
    while True:  # the server answers at most a page at a time
        page = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["collect-invoice"])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(types)))),
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[inst.instance])),
            sort=FlowRunSort.START_TIME_ASC, limit=_PAGE, offset=len(runs),
        )
        runs += page
        if len(page) < _PAGE:
            break
    numbers = {str(r.parameters.get("invoice_number", r.name)): r for r in runs}
    with db.transaction(inst) as s:
        open_runs = {number: run_id for number, run_id in s.execute(
            select(Invoice.number, Invoice.flow_run_id).where(Invoice.number.in_(list(numbers)),
                                                              Invoice.closed_reason.is_(None)))}
    secrets = known_secrets(inst.home)
    found = []
    for number, run in numbers.items():
        if open_runs.get(number) != str(run.id) or run.state is None:
            continue  # a closed case, or a run that is no longer the invoice's own
        states = await client.read_flow_run_states(run.id)
        message = (run.state.message or run.state.name or "").strip().splitlines() or [""]
        found.append(FailedRun(
            invoice=number, run_id=str(run.id), state=run.state.name or run.state.type.value,
            failed_at=run.state.timestamp, error=redact(message[0], secrets)[:300],
            failures=sum(1 for st in states if st.type in (StateType.FAILED, StateType.CRASHED)),
        ))
    return sorted(found, key=lambda f: f.invoice)


async def restart(client: PrefectClient, run_id: str) -> None:
    """The invoice's own run goes on from the top (one run per invoice stays one run): every step replays
    idempotently, so nothing already done happens twice."""
    await client.set_flow_run_state(UUID(run_id), Scheduled(name="Restarting"), force=True)


async def restart_failed(client: PrefectClient, inst: Installation, report: SweepReport) -> None:
    """Restart the failed invoice runs whose back-off has passed, but none while the configuration still fails
    to load (the cause still stands) and no business refusal. What stays failed is named in the report."""
    report.config_problems = config_problems(inst.home)
    failed = await failed_runs(client, inst, (StateType.FAILED,))
    changed_at = config_changed_at(inst.home)
    now = datetime.now(UTC)
    for run in failed:
        if (not report.config_problems and not run.refused and restart_due(run, now, changed_at)
                and run.invoice not in report.touched):
            await restart(client, run.run_id)
            report.restarted[run.invoice] = run.run_id
        else:
            report.failed.append(run)
