"""`dunning run` keeps the Prefect API (which resumes runs and shows every invoice's facts) on this machine unless
it asks for a password: a non-loopback --host is refused with one line and exit 2, before anything starts or is
written, unless PREFECT_SERVER_API_AUTH_STRING is set or --behind-proxy says a proxy asks for one. With a password
set, the engine's own processes and its HTTP calls send it."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest
import yaml

from dunning.cli import engine
from dunning.domain.errors import UserError
from dunning.storage import config
from tests.support import cli


def test_run_refuses_an_address_other_machines_reach_without_a_password(tmp_path: Path):
    home = tmp_path / "home"
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        done = cli.run("run", "--host", host, env={"DUNNING_HOME": str(home), "PREFECT_SERVER_API_AUTH_STRING": ""})
        assert (done.returncode, done.stdout) == (2, ""), done
        assert done.stderr.startswith(f"dunning: error: --host {host}: other machines could reach the Prefect API")
        assert "PREFECT_SERVER_API_AUTH_STRING" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not home.exists(), "nothing written, nothing started"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_password(host):
    engine.check_exposure(host, behind_proxy=False, environ={})


def test_a_password_or_a_proxy_in_front_allows_any_address():
    engine.check_exposure("0.0.0.0", behind_proxy=False, environ={"PREFECT_SERVER_API_AUTH_STRING": "admin:s3cret"})
    engine.check_exposure("0.0.0.0", behind_proxy=True, environ={})
    with pytest.raises(UserError, match="--behind-proxy"):
        engine.check_exposure("0.0.0.0", behind_proxy=False, environ={"PREFECT_SERVER_API_AUTH_STRING": ""})


def test_the_engines_processes_send_the_password_and_mask_secrets_in_their_logs(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "admin:s3cret")
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("PREFECT_LOGGING_SETTINGS_PATH", raising=False)
    env = engine.child_env(config.Installation(home=tmp_path, database_url="sqlite://"))
    assert env["PREFECT_API_AUTH_STRING"] == "admin:s3cret"
    logging_config = yaml.safe_load(Path(env["PREFECT_LOGGING_SETTINGS_PATH"]).read_text(encoding="utf-8"))
    assert logging_config["filters"]["redact_secrets"] == {"()": "dunning.storage.secrets.RedactSecrets"}
    assert all("redact_secrets" in h["filters"] for h in logging_config["handlers"].values())


def test_the_engines_own_api_calls_send_the_password(monkeypatch):
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:s3cret")
        assert engine._api(f"http://127.0.0.1:{server.server_port}/api/health") == {}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert seen == ["Basic YWRtaW46czNjcmV0"]  # base64("admin:s3cret"), as Prefect's client sends it


def test_a_verb_talking_to_a_server_that_asks_for_a_password_says_so_in_one_line(tmp_path, monkeypatch):
    import os

    import httpx

    from dunning.cli.common import engine_call, prefect_env
    from dunning.domain.errors import UserError
    from dunning.storage.config import load

    # prefect_env writes the process environment: every key it may touch is put back after the test.
    for key in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_LOGGING_LEVEL", "PREFECT_API_AUTH_STRING",
                "PREFECT_SERVER_ANALYTICS_ENABLED"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
        else:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.setenv("DUNNING_HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_SERVER_API_AUTH_STRING", "anna:geheim")
    inst = load()
    prefect_env(inst)

    assert os.environ["PREFECT_API_AUTH_STRING"] == "anna:geheim"  # the verbs on the server's machine give it

    def refused():
        request = httpx.Request("GET", inst.prefect_api_url)
        raise httpx.HTTPStatusError("401", request=request, response=httpx.Response(401, request=request))

    with pytest.raises(UserError, match="asks for a password: set PREFECT_API_AUTH_STRING"):
        engine_call(refused, inst)
