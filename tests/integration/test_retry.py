"""`dunning retry` and the sweep's restarts, where no Prefect server is needed: what counts as a cause that still
stands (a file that does not load), the refusals (one line, exit 2, nothing changed), the back-off between
restarts, and the failed runs in the daily overview. A real failed run restarted:
tests/process/test_retry_failed_runs.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_storage import add_invoice

from dunning.desk import overview
from dunning.storage import config, db
from dunning.storage.config import Installation
from tasks.sweep import FailedRun, config_changed_at, config_problems, restart_due
from tests.support import cli
from tests.support.databases import fresh_database

FAILED_AT = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installation]:
    """One migrated installation on SQLite: what is checked here does not depend on the database."""
    for url in fresh_database("sqlite", tmp_path):
        monkeypatch.setenv("DUNNING_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("DUNNING_DATABASE_URL", url)
        (tmp_path / "home").mkdir()
        inst = config.load()
        db.migrate(inst)
        yield inst


def _run(failures: int, failed_at: datetime = FAILED_AT) -> FailedRun:
    return FailedRun("F-1", "00000000-0000-0000-0000-000000000001", "Failed", failed_at, "boom", failures)


def test_every_file_that_does_not_load_is_named_by_its_place(home):
    assert config_problems(home.home) == []
    (home.home / "policies.toml").write_text("[default]\ngrace_days = \"x\"\n", encoding="utf-8")
    (home.home / "excuses.toml").write_bytes(b"[[excuse]]\nheard = \"\xff\"\n")
    (home.home / "templates" / "email").mkdir(parents=True)
    (home.home / "templates" / "email" / "herinnering.nl.txt").write_text("{% if %}", encoding="utf-8")
    problems = config_problems(home.home)
    assert len(problems) == 3, problems
    for problem, place in zip(problems, ("policies.toml", "excuses.toml", "herinnering.nl.txt"), strict=True):
        assert place in problem and "\n" not in problem, problem


def test_retry_refuses_while_a_file_still_fails_and_changes_nothing(home):
    with db.transaction(home) as s:
        add_invoice(s, "F-1").flow_run_id = "00000000-0000-0000-0000-000000000001"
    (home.home / "excuses.toml").write_bytes(b"\xff")
    for args in (("retry", "F-1"), ("retry", "--all")):
        done = cli.run(*args)
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert "excuses.toml" in done.stderr and "fix it first" in done.stderr and done.stdout == ""


@pytest.mark.parametrize(("prepare", "args", "says"), [
    (None, ("retry", "NOPE"), "unknown invoice 'NOPE'"),
    ("closed", ("retry", "F-1"), "invoice F-1 is closed (paid): nothing to retry"),
    (None, ("retry", "F-1"), "invoice F-1 has no run yet: the sweep starts it when it is due"),
    (None, ("retry", "F-1", "--all"), "give an invoice or --all, not both"),
])
def test_retry_refuses_what_it_cannot_restart_in_one_line(home, prepare, args, says):
    with db.transaction(home) as s:
        invoice = add_invoice(s, "F-1")
        if prepare == "closed":
            invoice.flow_run_id, invoice.closed_reason = "00000000-0000-0000-0000-000000000001", "paid"
    done = cli.run(*args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"dunning: error: {says}\n")


def test_a_failed_run_is_restarted_at_once_then_after_a_pause_that_doubles_up_to_a_day():
    assert restart_due(_run(1), FAILED_AT, None), "the first failure: at the next sweep"
    assert not restart_due(_run(2), FAILED_AT + timedelta(minutes=4), None), "not every minute"
    assert restart_due(_run(2), FAILED_AT + timedelta(minutes=5), None)
    assert not restart_due(_run(3), FAILED_AT + timedelta(minutes=9), None)
    assert restart_due(_run(3), FAILED_AT + timedelta(minutes=10), None)
    assert not restart_due(_run(30), FAILED_AT + timedelta(hours=23), None)
    assert restart_due(_run(30), FAILED_AT + timedelta(days=1), None), "at most a day"


def test_a_configuration_changed_since_the_failure_skips_the_pause(home):
    assert not restart_due(_run(5), FAILED_AT + timedelta(minutes=1), FAILED_AT - timedelta(seconds=1))
    assert restart_due(_run(5), FAILED_AT + timedelta(minutes=1), FAILED_AT + timedelta(seconds=1))
    assert config_changed_at(home.home) is None
    (home.home / "excuses.toml").write_text("", encoding="utf-8")
    changed = config_changed_at(home.home)
    assert changed is not None and abs(changed - datetime.now(UTC)) < timedelta(minutes=1)


def test_the_daily_overview_lists_failed_runs_with_their_error_and_the_command_to_retry(home):
    with db.transaction(home) as s:
        found = overview.build(s, home, FAILED_AT)
    assert overview.as_markdown(found).count("Mislukte runs") == 0, "no section without failed runs"
    found["failed_runs"] = [overview.failed_run("F-1", "Failed", FAILED_AT, "KeyError: <img src=x onerror=1>",
                                                "dunning retry F-1")]
    text = overview.as_markdown(found, "en")
    assert "## Failed runs" in text and "`dunning retry F-1`" in text
    assert "**F-1**: Failed on 2026-03-09 10:00: KeyError: &lt;img src=x onerror=1&gt;" in text, text
    assert "<img" not in text, "an error may quote a debtor's name: never active markup in the UI"
    assert "## Mislukte runs" in overview.as_markdown(found, "nl")


def test_the_sweep_leaves_a_business_refusal_to_a_person():
    refusal = "Flow run encountered an exception: IncassoRefused: G-1: incasso refused, missing: herinnering evidence"
    assert FailedRun("G-1", "x", "Failed", FAILED_AT, refusal, 1).refused
    assert not _run(1).refused
