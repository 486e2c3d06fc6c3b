"""The I/O of money in: the watched inbox of bank statements, and recording what a person decided about a line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from dunning.bank.formats import read_statement_file
from dunning.casework import bank
from dunning.desk.payment_sheet import payment_sheet
from dunning.domain.errors import InvalidInput, UserError
from dunning.domain.kinds import LineStatus
from dunning.storage import clock, db
from dunning.storage.config import Installation
from tasks import inbox as inbox_files
from tasks.runtime import installation


def inbox(inst: Installation) -> Path:
    return inst.home / "inbox" / "bank"


@dataclass(frozen=True)
class FileOutcome:
    file: str
    summary: str  # the import's one line, or the error
    imported: bool
    matched: int = 0
    unmatched: int = 0
    known: int = 0
    lines: tuple[dict, ...] = ()  # the new lines, as `dunning payments --json` shows them (the first ARTIFACT_LINES)


ARTIFACT_LINES = 500  # a table artifact is for reading; `dunning payments` lists them all


@task(cache_policy=NO_CACHE)
def import_inbox() -> list[FileOutcome]:
    """Every file in DUNNING_HOME/inbox/bank/, oldest first, each whole or not at all: imported ones move to
    done/, refused ones to failed/ with the reason beside them in FILE.error.txt."""
    inst = installation()
    outcomes = []
    for path in inbox_files.waiting(inbox(inst)):
        try:
            report = take_in_statement(inst, path)
        except UserError as e:
            inbox_files.failed(path, str(e))
            get_run_logger().error("%s refused, moved to failed/: %s", path.name, e)
            outcomes.append(FileOutcome(path.name, str(e), imported=False))
            continue
        inbox_files.done(path)
        get_run_logger().info(report.summary())
        with db.transaction(inst) as s:
            shown = tuple(bank.as_json(r) for r in bank.lines_by_id(s, report.line_ids[:ARTIFACT_LINES]))
        outcomes.append(FileOutcome(path.name, report.summary(), True, report.matched, report.unmatched,
                                    report.known, shown))
    return outcomes


def take_in_statement(inst: Installation, path: Path) -> bank.ImportReport:
    """One bank statement of the inbox, whole or not at all (a `UserError` says why): the scheduled import and
    the `import-file` desk action take a statement in alike."""
    statement = read_statement_file(path)
    with db.transaction(inst) as s:
        return bank.import_statement(s, statement, inst.creditor.own_accounts, clock.now(s))


@dataclass(frozen=True)
class PaymentAnswer:
    set_aside: bool  # not a debtor payment
    invoices: str
    amounts: str
    reason: str
    by: str


@dataclass(frozen=True)
class LineSituation:
    decided: bool
    summary: str
    description: str = ""
    attempt: int = 0  # answers refused so far: each question after a refusal waits under a new key


@task(cache_policy=NO_CACHE)
def read_line(line_id: int) -> LineSituation:
    with db.transaction(installation()) as s:
        row = bank.get_line(s, line_id)
        if row.status is not LineStatus.unmatched:
            return LineSituation(True, f"line {line_id}: {row.status.value}"
                                 + (f" by {row.decided_by}" if row.decided_by else ""))
        return LineSituation(False, "", payment_sheet(s, row, installation().language), row.refused)


@task(cache_policy=NO_CACHE)
def record_payment_answer(line_id: int, attempt: int, answer: PaymentAnswer, labels: dict[str, str]) -> str | None:
    """The person's answer, or why the facts refuse it (then it is asked again)."""
    inst = installation()
    try:
        wanted = None if answer.set_aside else bank.wanted_from_text(answer.invoices, answer.amounts)
        reason, by = answer.reason.strip(), answer.by.strip()
        with db.transaction(inst) as s:
            row = bank.get_line(s, line_id)
            if row.status is not LineStatus.unmatched:
                return None  # decided meanwhile (the CLI); this answer came too late and changes nothing
            if wanted is None:
                bank.ignore(s, line_id, reason, by or None, clock.now(s))
            else:
                bank.match_by_hand(s, line_id, wanted, by or None, clock.now(s))
        return None
    except InvalidInput as e:
        refusal = e.phrased(labels.get(e.field, e.field))
    except UserError as e:
        refusal = str(e)
    with db.transaction(inst) as s:
        row = bank.get_line(s, line_id)
        if row.refused == attempt:  # a replay of the same refusal counts once
            row.refused += 1
    get_run_logger().warning("Answer refused, asking again: %s", refusal)
    return refusal
