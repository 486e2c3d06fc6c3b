"""`dunning run`: the whole engine in the foreground on one machine. A Prefect server on SQLite, the served
deployments (each invoice run in its own subprocess) and a local mail sink; Ctrl-C stops all of it."""

from __future__ import annotations

import base64
import errno
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import typer

from dunning.casework import demo, policies
from dunning.domain.errors import UserError
from dunning.messaging.mailsink import MailSink
from dunning.storage import clock, config, db, secrets
from dunning.storage.config import Installation
from dunning.storage.models import Invoice


def child_env(inst: Installation) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DUNNING_HOME=str(inst.home),
        DUNNING_DATABASE_URL=inst.database_url,
        DUNNING_INSTANCE=inst.instance,
        PREFECT_HOME=str(inst.prefect_home),
        PREFECT_API_URL=inst.prefect_api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY=env.get("PREFECT_RUNNER_POLL_FREQUENCY", "2"),
        PREFECT_API_DATABASE_CONNECTION_URL=env.get(
            "PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{inst.prefect_home / 'prefect.db'}"
        ),
    )
    # Every process it starts masks the SMTP password and database passwords in what it logs.
    env.setdefault("PREFECT_LOGGING_SETTINGS_PATH",
                   str(secrets.logging_config(inst.prefect_home / "logging-redacted.yml")))
    if auth := env.get("PREFECT_SERVER_API_AUTH_STRING"):
        env.setdefault("PREFECT_API_AUTH_STRING", auth)  # the served deployments talk to a server that asks
    return env


def start_prefect_server(inst: Installation, port: int, log: Path, host: str = "127.0.0.1") -> subprocess.Popen:
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect), "server", "start", "--host", host, "--port", str(port)]
    return subprocess.Popen(cmd, env=child_env(inst), stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"the Prefect server stopped at start-up (exit {process.returncode}); see its log")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise UserError(f"the Prefect server did not answer at {url} within {timeout:.0f} s")


def start_serve(inst: Installation, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"],
        env=child_env(inst),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )


def _api(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if auth := os.environ.get("PREFECT_API_AUTH_STRING") or os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()  # as Prefect's client does
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def start_first_sweep(inst: Installation, serve: subprocess.Popen, timeout: float = 120) -> bool:
    """Ask for a sweep run as soon as the deployments are registered, so a newcomer does not wait for the
    schedule's first tick (one run sweeps for ten minutes, the schedule's next run takes over after it). Talks to
    the API over HTTP: this module stays free of Prefect imports."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and serve.poll() is None:
        try:
            _api(f"{inst.prefect_api_url}/deployments/name/collect-invoice/{inst.instance}")
            sweep = _api(f"{inst.prefect_api_url}/deployments/name/sweep/{inst.instance}")
            _api(f"{inst.prefect_api_url}/deployments/{sweep['id']}/create_flow_run", "POST", {"name": "first sweep"})
        except OSError:
            # Not registered yet (404) or the server is busy starting (503): ask again. A sweep asked twice
            # does no harm: sweeping is idempotent.
            time.sleep(1)
            continue
        return True
    return False


def _real_time_again(inst: Installation, real: datetime | None = None) -> str | None:
    """The demo's simulated clock runs ahead of real time; once real time is inside the contact hours, the next
    `dunning run` returns to it (a clock a person set stays as it is)."""
    from dunning.law import may_contact

    with db.transaction(inst) as s:
        if not clock.simulated_by_demo(s) or not may_contact(real or clock.RealClock().now(), inst.law_dir):
            return None
        clock.set_real(s)
    return "back on real time (the demo's simulated clock is no longer needed)"


def _load_demo_if_empty(inst: Installation) -> tuple[int, str | None]:
    """Demo invoices into an empty database. The law keeps calls and messages out of the evening, the night,
    Sundays and holidays; a newcomer trying the demo then would see nothing to do, so the demo installation
    starts on simulated time at the next moment debtors may be contacted (and says so)."""
    from dunning.law import may_contact, next_contact_moment

    with db.transaction(inst) as s:
        if s.query(Invoice).first() is not None:
            return 0, None
        now = clock.now(s)
        added = demo.load(s, inst.home, clock.local(now).date()).invoices_added
        if may_contact(now, inst.law_dir):
            return added, None
        moment = next_contact_moment(now, inst.law_dir)
        clock.set_simulated(s, moment, by_demo=True)
    return added, (
        f"no calls or messages at this hour (Wet kwaliteit incassodienstverlening), so the demo runs on simulated "
        f"time from {clock.local(moment):%A %Y-%m-%d %H:%M}; `dunning clock real` returns to real time"
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def is_loopback(host: str) -> bool:
    """Only this machine can reach `host`: a loopback address, or a name that resolves to loopback alone.
    0.0.0.0 and :: are every interface, so not."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        raise UserError(f"--host {host}: not an address of this machine") from None
    return all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in found)


def check_exposure(host: str, behind_proxy: bool, environ: Mapping[str, str] | None = None) -> None:
    """The Prefect API resumes runs and reads every invoice's facts, and has no password by default: bound to an
    address other machines reach, it needs one (PREFECT_SERVER_API_AUTH_STRING) or a proxy that asks for one."""
    auth = (os.environ if environ is None else environ).get("PREFECT_SERVER_API_AUTH_STRING")
    if is_loopback(host) or behind_proxy or auth:
        return
    raise UserError(
        f"--host {host}: other machines could reach the Prefect API without a password; set "
        "PREFECT_SERVER_API_AUTH_STRING=user:password, or say --behind-proxy when a proxy in front asks for one"
    )


def _local_address(host: str) -> str:
    """Where this machine's own processes reach a server bound to `host`."""
    if host in ("0.0.0.0", "::", "[::]", "") or is_loopback(host):
        return "127.0.0.1"
    return f"[{host.strip('[]')}]" if ":" in host else host


def _require_free_port(port: int, what: str, option: str, host: str = "127.0.0.1") -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        # As the servers themselves bind: a port left in TIME_WAIT by the last run is free, a listener is not.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as e:
            if e.errno == errno.EADDRNOTAVAIL:
                raise UserError(f"--host {host}: not an address of this machine") from None
            in_use = f"port {port} for the {what} is in use (another `dunning run`?)"
            raise UserError(f"{in_use}; choose another with {option}") from None


def run_engine(port: int, smtp_port: int, demo: bool = True, host: str = "127.0.0.1",
               behind_proxy: bool = False) -> None:
    check_exposure(host, behind_proxy)
    own_smtp = config.uses_own_smtp_server()
    _require_free_port(port, "Prefect server", "--port", host)
    local = _local_address(host)
    if local != "127.0.0.1":
        # Bound to one outside address only: this machine's own processes reach it there too.
        os.environ.setdefault("PREFECT_API_URL", f"http://{local}:{port}/api")
    if not own_smtp:
        _require_free_port(smtp_port, "mail sink", "--smtp-port")
    inst = config.load()
    config.write_runtime(inst, prefect_port=port, smtp_port=None if own_smtp else smtp_port)
    inst = config.load()
    policies.load(inst.home)  # a mistake in the policy file is named now, not in every run
    db.migrate(inst)
    real_again = _real_time_again(inst)
    added, demo_clock = _load_demo_if_empty(inst) if demo else (0, None)
    logs = inst.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    inst.prefect_home.mkdir(parents=True, exist_ok=True)

    server = serve = None
    # The mail sink asks no password of whoever sends: it stays on loopback, whatever --host says.
    sink = None if own_smtp else MailSink(inst.mail_dir, host="127.0.0.1", port=smtp_port)
    stopping = False

    def _terminate(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        if sink is None:
            typer.echo(f"mail goes to the SMTP server in settings.toml: {inst.smtp_host}:{inst.smtp_port}")
        else:
            sink.start()
            typer.echo(f"mail sink: smtp://127.0.0.1:{smtp_port} -> {inst.mail_dir}")
        typer.echo("starting the Prefect server ...")
        server = start_prefect_server(inst, port, logs / "prefect-server.log", host)
        wait_for_health(inst.prefect_api_url, server)
        serve = start_serve(inst, logs / "serve.log")
        if added:
            typer.echo(f"loaded {added} demo invoices")
        if demo_clock:
            typer.echo(demo_clock)
        if real_again:
            typer.echo(real_again)
        if start_first_sweep(inst, serve):
            typer.echo("first sweep started: invoice runs appear in the UI within a minute")
        typer.echo(
            f"\ndunning is running (home {inst.home})\n"
            f"  UI:      http://{local}:{port}  (Runs: one flow run per invoice; paused runs wait for you)\n"
            f"  mail:    {inst.mail_dir if sink else f'{inst.smtp_host}:{inst.smtp_port}'}\n"
            f"  logs:    {logs}\n"
            "  the sweep runs every minute; `dunning sweep` runs one now, `dunning tasks` lists open tasks.\n"
            "Press Ctrl-C to stop."
        )
        while True:
            for name, p in (("Prefect server", server), ("serve", serve)):
                if p.poll() is not None:
                    raise UserError(f"the {name} process stopped (exit {p.returncode}); see {logs}")
            time.sleep(1)
    except KeyboardInterrupt:
        stopping = True
    finally:
        stop(serve)
        stop(server)
        if sink is not None:
            sink.stop()
        if stopping:
            typer.echo("stopped.")
