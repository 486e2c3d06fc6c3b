"""An installation driven like a user drives it: through the `dunning` command, on simulated time, with a real
SMTP server on loopback and a real Prefect server. How the command runs (its own process or this one) and where
the flow runs execute (a served deployment's processes or this process) is the tier's business: see
tests/flows/conftest.py (end to end) and tests/process/conftest.py (the collection process in-process)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from dunning.messaging.mailsink import MailSink
from dunning.storage import db

COLUMNS = (
    "invoice_number,debtor_number,debtor_name,debtor_kind,email,phone,street,postcode,city,country,"
    "language,issue_date,due_date,amount,currency"
).split(",")


def row(invoice: str, debtor: str, kind: str, email: str = "", amount: str = "1210.00", due: str = "2026-01-05"):
    """One line of an import file: a Dutch debtor in Utrecht, invoiced on 6 December 2025."""
    return {
        "invoice_number": invoice,
        "debtor_number": debtor,
        "debtor_name": f"Debtor {debtor}",
        "debtor_kind": kind,
        "email": email,
        "phone": "+31 20 000 0000",
        "street": "Dorpsstraat 1",
        "postcode": "1234 AB",
        "city": "Utrecht",
        "country": "NL",
        "language": "nl",
        "issue_date": "2025-12-06",
        "due_date": due,
        "amount": amount,
        "currency": "EUR",
    }


def dossier_kinds(engine: Engine, invoice: str) -> list[str]:
    """The kinds of the invoice's dossier entries, in order."""
    return [e["kind"] for e in engine.json("dossier", invoice)]


@dataclass
class Engine:
    home: Path
    env: dict[str, str]
    sink: MailSink
    database_url: str
    api: str

    def run_cli(self, *args: str, observing: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `dunning ARGS`. `observing`: the test looks (`--json` listings) or sets the stage (the clock, the
        import) rather than acting as the user whose steps are under test; a tier may run those in-process."""
        raise NotImplementedError

    def cli(self, *args: str, check: bool = True, observing: bool = False) -> subprocess.CompletedProcess[str]:
        result = self.run_cli(*args, observing=observing)
        if check and result.returncode != 0:
            raise AssertionError(f"dunning {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def sweep(self) -> str:
        return self.cli("sweep").stdout

    def set_clock(self, moment: str) -> None:
        self.cli("clock", "set", moment, observing=True)

    def json(self, *args: str) -> object:
        return json.loads(self.cli(*args, "--json", observing=True).stdout)

    def run_state(self, invoice: str) -> dict:
        """The invoice's flow run as the Prefect API reports it (state type and name, message)."""
        with db.engine_for(self.database_url).connect() as c:
            query = text("SELECT flow_run_id FROM invoice WHERE number = :n")
            run_id = c.execute(query, {"n": invoice}).scalar_one()
        run = self.api_call(f"/flow_runs/{run_id}")
        return {
            "id": run_id,
            "state_id": run["state"]["id"],
            "type": run["state"]["type"],
            "name": run["state"]["name"],
            "message": run["state"].get("message") or "",
            "pause_key": (run["state"].get("state_details") or {}).get("pause_key") or "",
            "run_name": run["name"],
            "tags": run["tags"],
        }

    def api_call(self, path: str, body: dict | None = None) -> dict:
        """The Prefect REST API, as the UI uses it: GET without a body, POST with one."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api + path, data=data, method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        for attempt in range(1, 11):
            try:
                with urllib.request.urlopen(request, timeout=30) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                # 503: the server's SQLite database was busy (a loaded machine); Prefect's own client tries again
                # too, and so does the UI. Anything else is an answer.
                if e.code != 503 or attempt == 10:
                    raise
                e.close()  # its socket, or a later test reports it unclosed
                time.sleep(min(0.5 * attempt, 2.0))
        raise AssertionError("unreachable")

    def post_events(self, events: list[dict]) -> None:
        """Events as a run's process emits them (a heartbeat, say), once the server has stored them all."""
        request = urllib.request.Request(self.api + "/events", data=json.dumps(events).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30):
            pass
        wanted = {e["id"] for e in events}
        since = min(e["occurred"] for e in events)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the server's event persister writes them in batches
            page = self.api_call("/events/filter", {"filter": {"id": {"id": sorted(wanted)},
                                                                "occurred": {"since": since}}, "limit": 50})
            if {e["id"] for e in page["events"]} == wanted:
                return
            time.sleep(0.2)
        raise AssertionError(f"the Prefect server did not store the events {sorted(wanted)}")

    def subjects(self) -> list[str]:
        return [str(m["Subject"]).strip() for m in self.sink.messages()]

    def import_csv(self, rows: list[dict[str, str]]) -> None:
        path = self.home / f"import-{time.monotonic_ns()}.csv"
        lines = [",".join(COLUMNS)] + [",".join(r.get(c, "") for c in COLUMNS) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.cli("import", "invoices", str(path), observing=True)
