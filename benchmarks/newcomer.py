"""P5 (issue 13): a newcomer's first command on a fresh clone, until the Prefect UI shows a paused call task.

    .venv/bin/python -m benchmarks.newcomer [--repeat 1] [--cold]

Each repetition clones this checkout's HEAD into a new folder, starts `./run.sh` there (the README's first command:
the pinned set installed into a new .venv, then `dunning run` with its demo invoices) with nothing of this shell's
DUNNING_*/PREFECT_* environment, and polls the Prefect API for a Paused flow run, as the UI's run list shows it.
Printed: seconds until the install was done (the venv's stamp appears) and until the first paused run; the target is
2 minutes. Baseline, in the same run and on the same venv: a bare `prefect server start` until it answers /health
(what any Prefect set-up pays before it can show anything). uv's cache is used as a second install finds it;
`--cold` gives each clone an empty uv cache (the packages then come from the registry again)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dunning.messaging.mailsink import free_port  # noqa: E402

TARGET_SECONDS = 120.0


def clean_env(home: Path) -> dict[str, str]:
    """This shell's environment without what would point the new engine at another one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUNNING_", "PREFECT_", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)  # Prefect's profile and any per-user state: the newcomer's own
    return env


def first_paused(api: str) -> bool:
    body = json.dumps({"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}, "limit": 1}).encode()
    request = urllib.request.Request(f"{api}/flow_runs/filter", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return bool(json.loads(r.read()))
    except OSError:
        return False


def healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    """`./run.sh` and everything it started (one session of its own)."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def newcomer(folder: Path, cold: bool, timeout: float = 600) -> tuple[float, float]:
    """Seconds from `./run.sh` to the install's end and to the first paused run, on a fresh clone in `folder`."""
    checkout = folder / "dunning"
    subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True)
    env = clean_env(folder)
    if cold:
        env["UV_CACHE_DIR"] = str(folder / "uv-cache")
    port, smtp_port = free_port(), free_port()
    api = f"http://127.0.0.1:{port}/api"
    log = (folder / "run.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(["./run.sh", "--port", str(port), "--smtp-port", str(smtp_port)], cwd=checkout,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    installed = None
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"./run.sh exited {process.returncode}: {(folder / 'run.log').read_text()[-2000:]}")
            if installed is None and any((checkout / ".venv").glob(".installed-*")):
                installed = time.perf_counter() - started
            if installed is not None and first_paused(api):
                return installed, time.perf_counter() - started
            time.sleep(0.25)
        raise TimeoutError(f"no paused run after {timeout:.0f} s: {(folder / 'run.log').read_text()[-2000:]}")
    finally:
        stop(process)
        log.close()


def bare_server(folder: Path, timeout: float = 120) -> float:
    """Seconds for a bare Prefect server, on the clone's venv and a database of its own, to answer /health."""
    env = clean_env(folder) | {"PREFECT_HOME": str(folder / "bare-prefect"),
                               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([str(folder / "dunning" / ".venv" / "bin" / "prefect"), "server", "start", "--host",
                                "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.perf_counter() - started < timeout:
            if healthy(f"http://127.0.0.1:{port}/api"):
                return time.perf_counter() - started
            time.sleep(0.1)
        raise TimeoutError("the bare Prefect server did not answer")
    finally:
        stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cold", action="store_true", help="an empty uv cache for each clone")
    args = parser.parse_args(argv)
    worst = 0.0
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="dunning-newcomer-") as tmp:
            folder = Path(tmp)
            installed, paused = newcomer(folder, args.cold)
            baseline = bare_server(folder)
            worst = max(worst, paused)
            print(f"run {n + 1}: install {installed:.1f} s, a paused call task in the UI after {paused:.1f} s "
                  f"(target {TARGET_SECONDS:.0f} s); a bare Prefect server answers after {baseline:.1f} s: "
                  f"{paused / baseline:.1f}x, {(paused - installed) / baseline:.1f}x without the install", flush=True)
            shutil.rmtree(folder / "dunning", ignore_errors=True)
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
