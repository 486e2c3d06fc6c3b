"""Secrets never show: the SMTP password and the password of a database URL are masked in what `dunning` prints,
in the lines that name a file that does not load, and in every log record of the processes `dunning run` starts
(Prefect's own logging, configured with the masking filter)."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from dunning.storage import secrets
from dunning.storage.secrets import RedactSecrets, known_secrets, redact
from tasks.sweep import config_problems
from tests.support import cli


def test_a_url_keeps_its_user_and_host_but_not_its_password():
    assert redact("postgresql+psycopg://dunning:pa55@db.example:5432/dunning") == (
        "postgresql+psycopg://dunning:***@db.example:5432/dunning")
    assert redact("at 'postgresql://u:p@ss:w0rd@db/x' failed") == "at 'postgresql://u:***@db/x' failed"
    for harmless in ("http://127.0.0.1:4200/api", "sqlite:////var/dunning.sqlite", "postgresql://dunning@db/x",
                     "debiteuren@example.com"):
        assert redact(harmless) == harmless


def test_the_smtp_password_and_secret_variables_are_known_even_in_a_settings_file_that_does_not_load(
        tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('smtp_password = "hunter2"\nsmtp_port = "hunter2"\n', encoding="utf-8")
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://prefect:pgsecret@db/prefect")
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "admin:authsecret")
    assert {"hunter2", "pgsecret", "admin:authsecret"} <= set(known_secrets(tmp_path))
    problems = config_problems(tmp_path)
    assert problems and "settings.toml" in problems[0], problems
    assert not any("hunter2" in p for p in problems), "a password typed into the wrong key stays hidden"


def test_log_records_and_their_tracebacks_are_masked(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('smtp_password = "hunter2"\n', encoding="utf-8")
    monkeypatch.setenv("DUNNING_HOME", str(tmp_path))
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactSecrets())
    log = logging.getLogger("test_secrets_masked")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("login with %s failed", "hunter2")
        try:
            raise ConnectionError("cannot reach postgresql://dunning:dbsecret@db/dunning")
        except ConnectionError:
            log.exception("database")
    finally:
        log.removeHandler(handler)
    written = out.getvalue()
    assert "login with *** failed" in written and "postgresql://dunning:***@db/dunning" in written
    assert "hunter2" not in written and "dbsecret" not in written and "Traceback" in written


def test_the_processes_dunning_run_starts_log_through_the_mask(tmp_path):
    """Prefect's processes (the server, the served deployments, each flow run) set up logging from the
    configuration `dunning run` points them at (PREFECT_LOGGING_SETTINGS_PATH)."""
    path = secrets.logging_config(tmp_path / "logging.yml")
    (tmp_path / "settings.toml").write_text('smtp_password = "hunter2"\n', encoding="utf-8")
    env = {**os.environ, "PREFECT_LOGGING_SETTINGS_PATH": str(path), "DUNNING_HOME": str(tmp_path),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    code = ("import logging; from prefect.logging.configuration import setup_logging; setup_logging(); "
            "logging.getLogger('prefect.server').error('smtp %s at %s', 'hunter2', 'postgresql://dunning:dbsecret@db/x')")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "smtp *** at postgresql://dunning:***@db/x" in done.stderr, done.stderr
    assert "hunter2" not in done.stderr and "dbsecret" not in done.stderr


def test_dunning_never_prints_a_password_in_an_error(tmp_path: Path, monkeypatch):
    import prefect.context

    # Prefect reads where its API is when its settings are loaded: point them at a closed port, as the verb's
    # own process would read them.
    api = "http://admin:apisecret@127.0.0.1:9/api"
    monkeypatch.setenv("PREFECT_API_URL", api)
    monkeypatch.setenv("PREFECT_CLIENT_MAX_RETRIES", "0")
    prefect.context.refresh_global_settings_context()
    try:
        done = cli.run("retry", "--all", env={
            "DUNNING_HOME": str(tmp_path), "DUNNING_DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite'}"})
    finally:
        monkeypatch.undo()
        prefect.context.refresh_global_settings_context()
    assert done.returncode == 2, done
    assert done.stderr.startswith("dunning: error: cannot reach the engine at http://admin:***@127.0.0.1:9/api")
    assert "apisecret" not in done.stderr + done.stdout
