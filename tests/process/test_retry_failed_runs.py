"""A failed run is never the end of a case: invoice runs failed by a file that does not load (policies.toml,
read at every pass of the run) are listed with their error, are not restarted while a file still does not load
(neither by the sweep nor by `dunning retry`), and go on in their own run once it is fixed: by
`dunning retry INVOICE`, or by the sweep for the rest."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from dunning.domain.errors import UserError
from dunning.storage import config
from flows.overview import overview
from tasks.sweep import sweep_once, wait_until_settled
from tests.support.engine import row

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]


def _settled(engine, invoice: str, types: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = engine.run_state(invoice)
        if run["type"] in types:
            return run
        assert time.monotonic() < deadline, f"{invoice}: {run}"
        time.sleep(0.1)


def _sweep(engine):
    """One sweep as the scheduled one does it, and the runs it touched settled."""
    report = asyncio.run(sweep_once(config.load(engine.home)))
    asyncio.run(wait_until_settled(list(report.touched.values()), timeout=60))
    return report


def test_a_run_failed_by_a_broken_file_goes_on_in_its_own_run_once_the_file_is_fixed(engine):
    engine.import_csv([row("R-1", "RETRY1", "consumer", "een@example.com"),
                       row("R-2", "RETRY2", "consumer", "twee@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    paused = {n: _settled(engine, n, {"PAUSED"}) for n in ("R-1", "R-2")}

    # The policies file breaks while the runs wait for their call; answered in the UI's form, each run reads it
    # again and fails.
    policies = engine.home / "policies.toml"
    good = policies.read_text(encoding="utf-8")
    policies.write_text("[default]\ncall_attempts = 1\ngrace_days = \"five\"\n", encoding="utf-8")
    for run in paused.values():
        answer = {"reached": False, "note": "Voicemail", "collector": "Anna"}
        assert engine.api_call(f"/flow_runs/{run['id']}/resume", {"run_input": answer})["status"] == "ACCEPT"
    failed = {n: _settled(engine, n, {"FAILED"}) for n in ("R-1", "R-2")}
    assert {r["id"] for r in failed.values()} == {r["id"] for r in paused.values()}

    # Listed with the error line and the command that restarts it.
    listed = json.loads(engine.cli("retry", "--json").stdout)
    assert [(r["invoice"], r["state"], r["retry"]) for r in listed] == [
        ("R-1", "Failed", "dunning retry R-1"), ("R-2", "Failed", "dunning retry R-2")]
    assert all("policies.toml" in r["error"] and "grace_days" in r["error"] for r in listed), listed

    # The cause still stands: the sweep cannot read the policies either, and `dunning retry` refuses in one line.
    with pytest.raises(UserError, match="policies.toml"):
        _sweep(engine)
    refused = engine.cli("retry", "R-1", check=False)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "policies.toml" in refused.stderr and "Traceback" not in refused.stderr

    # The policies mended but a template override broken: the sweep goes on, names it, and restarts nothing.
    policies.write_text(good, encoding="utf-8")
    # The daily overview (its flow, as the morning schedule runs it) lists them with the command to retry.
    found = asyncio.run(overview())
    assert [(f["invoice"], f["retry"]) for f in found["failed_runs"]] == [
        ("R-1", "dunning retry R-1"), ("R-2", "dunning retry R-2")]
    assert [f["invoice"] for f in engine.json("overview")["failed_runs"]] == ["R-1", "R-2"]  # and `dunning overview`
    template = engine.home / "templates" / "email" / "herinnering.nl.txt"
    template.parent.mkdir(parents=True)
    template.write_text("{% if %}\n", encoding="utf-8")
    report = _sweep(engine)
    assert report.restarted == {} and len(report.config_problems) == 1
    assert "herinnering.nl.txt" in report.config_problems[0], report.config_problems
    assert [r.invoice for r in report.failed] == ["R-1", "R-2"]
    assert [p.split(":")[0] for p in report.problems[1:]] == ["invoice R-1", "invoice R-2"]
    swept = engine.cli("sweep", check=False)
    assert swept.returncode == 2 and "herinnering.nl.txt" in swept.stderr, swept
    assert "invoice R-1: run failed: " in swept.stderr and "`dunning retry R-2`" in swept.stderr, swept.stderr
    refused = engine.cli("retry", "--all", check=False)
    assert refused.returncode == 2 and "herinnering.nl.txt" in refused.stderr, refused.stderr
    assert engine.run_state("R-1")["state_id"] == failed["R-1"]["state_id"], "nothing restarted"

    # All fixed: `dunning retry R-1` restarts that run (the same run, not a second one for the invoice), which
    # goes on where it failed; then the sweep restarts the other.
    template.unlink()
    retried = engine.cli("retry", "R-1")
    assert retried.stdout.startswith("R-1: restarted -> "), retried.stdout
    run = _settled(engine, "R-1", {"PAUSED"})
    assert run["id"] == failed["R-1"]["id"]
    assert engine.run_state("R-2")["type"] == "FAILED", "only the run asked for"

    report = _sweep(engine)
    assert report.restarted == {"R-2": failed["R-2"]["id"]} and report.problems == []
    assert _settled(engine, "R-2", {"PAUSED"})["id"] == failed["R-2"]["id"]
    assert engine.cli("retry").stdout.strip() == "No failed runs."
    nothing = engine.cli("retry", "R-2", check=False)
    assert nothing.returncode == 2 and "not failed" in nothing.stderr, nothing.stderr
