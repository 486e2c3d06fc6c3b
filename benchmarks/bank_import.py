"""The cost of importing a bank statement: reading a CAMT.053 file of N credit lines alone, against the full
import (read + match against every open invoice + store, in one transaction), on SQLite and, given a server, on
PostgreSQL.

    .venv/bin/python -m benchmarks.bank_import [--invoices 100000] [--lines 10000] [--postgres URL] [--profile]

The installation has `--invoices` open invoices (four per debtor, each debtor with one known IBAN), inserted in
bulk. The statement's lines: ~40% carry our RF reference (structured, or printed in the description), ~30% an
invoice number in the description, ~20% only the debtor's IBAN and the exact amount of one open invoice, ~10%
nothing that matches. PostgreSQL: `--postgres URL` or DUNNING_TEST_POSTGRES_URL, a server where we may create a
database (created for the run, dropped afterwards). `--profile` also runs the import under cProfile in a
transaction that is rolled back, and prints where the time goes. One process, one core."""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select, text  # noqa: E402

from benchmarks.common import add_database_options, counting_statements, on_each_database  # noqa: E402
from dunning.bank.formats import read_statement_file  # noqa: E402
from dunning.bank.references import payment_reference, printed  # noqa: E402
from dunning.casework import bank  # noqa: E402
from dunning.domain.kinds import DebtorKind, LineStatus  # noqa: E402
from dunning.storage import config, db  # noqa: E402
from dunning.storage.models import BankLine, Debtor, DebtorAccount, Invoice  # noqa: E402

OUR_IBAN = "NL91ABNA0417164300"  # the creditor's account in the default settings
PER_DEBTOR = 4
BOOKED = date(2026, 3, 2)
NOW = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
KINDS = ("reference", "printed reference", "invoice number", "account", "unmatched")
WEIGHTS = (30, 10, 30, 20, 10)


def iban(bank_code: str, number: int) -> str:
    """A Dutch IBAN with valid check digits."""
    bban = f"{bank_code}{number:010d}"
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


def invoice_number(i: int) -> str:
    return f"2026-{i:06d}"


def invoice_amount(i: int) -> Decimal:
    return Decimal(f"{100 + i % 9000}.{i * 7 % 100:02d}")  # distinct among a debtor's four invoices


def debtor_iban(d: int) -> str:
    return iban("ABNA", d)


# --- the installation ------------------------------------------------------------------------------------------

def prepare(home: Path, database_url: str, invoices: int) -> config.Installation:
    inst = config.Installation(home=home, database_url=database_url)  # the default creditor: OUR_IBAN
    db.migrate(inst)
    debtors = (invoices + PER_DEBTOR - 1) // PER_DEBTOR
    engine = db.engine_for(inst.database_url)
    chunk = 5000
    with engine.begin() as c:
        for start in range(0, debtors, chunk):
            c.execute(insert(Debtor), [
                {"id": d + 1, "number": f"D-{d:06d}", "name": f"Debiteur {d} B.V.", "kind": DebtorKind.business,
                 "email": f"d{d}@example.com", "country": "NL", "language": "nl"}
                for d in range(start, min(start + chunk, debtors))
            ])
            c.execute(insert(DebtorAccount), [
                {"debtor_id": d + 1, "iban": debtor_iban(d), "source": "import"}
                for d in range(start, min(start + chunk, debtors))
            ])
        for start in range(0, invoices, chunk):
            c.execute(insert(Invoice), [
                {"id": i + 1, "number": invoice_number(i), "debtor_id": i // PER_DEBTOR + 1,
                 "issue_date": date(2026, 1, 1) + timedelta(days=i % 30),
                 "due_date": date(2026, 1, 31) + timedelta(days=i % 30), "amount": invoice_amount(i),
                 "currency": "EUR", "payment_reference": payment_reference(invoice_number(i))}
                for i in range(start, min(start + chunk, invoices))
            ])
        if engine.dialect.name == "postgresql":  # the ids were given: move the sequences past them
            for table in ("debtor", "debtor_account", "invoice"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
            c.execute(text("ANALYZE"))
    return inst


# --- the statement ---------------------------------------------------------------------------------------------

def statement_lines(invoices: int, lines: int, seed: int = 10) -> list[dict]:
    """Each line pays a different invoice (or none), so every rule sees what it would in a real statement."""
    rng = random.Random(seed)
    kinds = rng.choices(KINDS, WEIGHTS, k=lines)
    paid = rng.sample(range(invoices), lines)
    out = []
    for n, (kind, i) in enumerate(zip(kinds, paid, strict=True)):
        number, amount = invoice_number(i), invoice_amount(i)
        line = {"kind": kind, "ref": f"{BOOKED:%Y%m%d}{n:08d}", "e2e": f"E2E-{n:08d}", "amount": amount,
                "name": f"Debiteur {i // PER_DEBTOR} B.V.", "iban": debtor_iban(i // PER_DEBTOR), "ustrd": "",
                "scor": None}
        if kind == "reference":
            line["scor"] = payment_reference(number)
            line["ustrd"] = rng.choice(("", "betaling", f"klant D-{i // PER_DEBTOR:06d}"))
        elif kind == "printed reference":
            line["ustrd"] = f"Betalingskenmerk {printed(payment_reference(number))}"
        elif kind == "invoice number":
            typed = rng.choice((number, number.replace("-", " "), number.replace("-", "")))
            line["ustrd"] = rng.choice(("Factuur {}", "factuurnr. {} dank u", "inv {}", "fact{} Debiteur")).format(
                typed)
        elif kind == "account":
            line["ustrd"] = rng.choice(("", "betaling", "zie mail", "maart"))
        else:  # an unknown payer, an amount no invoice has, nothing that names an invoice
            line.update(name=f"Onbekend {n}", iban=iban("INGB", 9_000_000 + n), ustrd=f"bestelling {n % 997} webshop",
                        amount=Decimal(f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"))
        out.append(line)
    return out


def camt(lines: list[dict]) -> str:
    """One CAMT.053.001.02 statement of credit entries, as a Dutch bank exports it."""
    total = sum((line["amount"] for line in lines), Decimal("0.00"))
    entries = []
    for line in lines:
        structured = (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                      f"<Ref>{line['scor']}</Ref></CdtrRefInf></Strd>") if line["scor"] else ""
        unstructured = f"<Ustrd>{escape(line['ustrd'])}</Ustrd>" if line["ustrd"] else ""
        remittance = f"<RmtInf>{unstructured}{structured}</RmtInf>" if unstructured or structured else ""
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{line["amount"]}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{BOOKED}</Dt></BookgDt><ValDt><Dt>{BOOKED}</Dt></ValDt>"
            f"<AcctSvcrRef>{line['ref']}</AcctSvcrRef>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{line['e2e']}</EndToEndId></Refs>"
            f"<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{line['amount']}</Amt></TxAmt></AmtDtls>"
            f"<RltdPties><Dbtr><Nm>{escape(line['name'])}</Nm></Dbtr>"
            f"<DbtrAcct><Id><IBAN>{line['iban']}</IBAN></Id></DbtrAcct></RltdPties>"
            f"{remittance}</TxDtls></NtryDtls></Ntry>\n"
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>BENCH-1</MsgId><CreDtTm>{NOW:%Y-%m-%dT%H:%M:%S}</CreDtTm></GrpHdr>
<Stmt><Id>BENCH-1</Id><CreDtTm>{NOW:%Y-%m-%dT%H:%M:%S}</CreDtTm>
<Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{BOOKED}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{total}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{BOOKED}</Dt></Dt></Bal>
{"".join(entries)}</Stmt>
</BkToCstmrStmt>
</Document>
"""


# --- the measurements ------------------------------------------------------------------------------------------

def import_file(inst: config.Installation, path: Path, commit: bool = True) -> bank.ImportReport:
    statement = read_statement_file(path)
    with db.transaction(inst) as s:
        report = bank.import_statement(s, statement, inst.creditor.own_accounts, NOW)
        if not commit:
            s.rollback()
    return report


def profile(inst: config.Installation, path: Path, top: int) -> None:
    """The import under cProfile, rolled back: the engine's own functions by cumulative time, then everything by
    time spent in the function itself."""
    profiler = cProfile.Profile()
    profiler.enable()
    import_file(inst, path, commit=False)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(ct for _cc, _nc, _tt, ct, _callers in stats.stats.values())  # type: ignore[attr-defined]
    print(f"profile (cProfile slows it down; shares are of {total:.1f} s):")
    ours = [(ct, nc, f"{Path(file).relative_to(REPO)}:{line}({name})")
            for (file, line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
            if file.startswith(str(REPO / "dunning"))]
    for ct, nc, where in sorted(ours, reverse=True)[:top]:
        print(f"  {ct:8.2f} s {ct / total:6.1%} {nc:8d} calls  {where}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines()[3:] if line.strip()))


def run(label: str, database_url: str, home: Path, args: argparse.Namespace) -> None:
    print(f"--- {label}")
    t0 = time.perf_counter()
    inst = prepare(home, database_url, args.invoices)
    print(f"{'set-up':<40} {time.perf_counter() - t0:8.2f} s  ({args.invoices} open invoices, bulk insert)")
    lines = statement_lines(args.invoices, args.lines)
    path = home / "statement.xml"
    path.write_text(camt(lines), encoding="utf-8")
    print(f"{'statement':<40} {path.stat().st_size / 1e6:8.2f} MB  "
          f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(line['kind'] for line in lines).items()))})")

    parse = min(timed(lambda: read_statement_file(path)) for _ in range(3))
    print(f"{'(a) parse (read_statement_file)':<40} {parse:8.2f} s  {args.lines / parse:10.0f} lines/s")
    with db.transaction(inst) as s:
        book = timed(lambda: bank.ledger(s))
    print(f"{'    of (b): load the ledger alone':<40} {book:8.2f} s")
    if args.profile:
        profile(inst, path, args.top)

    with counting_statements(inst) as statements:
        start = time.perf_counter()
        report = import_file(inst, path)
        full = time.perf_counter() - start
    print(f"{'(b) full import (read + match + store)':<40} {full:8.2f} s  {args.lines / full:10.0f} lines/s")
    print(f"{'    SQL statements':<40} {sum(statements.values()):8d}    {sum(statements.values()) / args.lines:10.1f} "
          f"per line ({', '.join(f'{k} {v}' for k, v in statements.most_common())})")
    print(f"{'    ratio (b)/(a)':<40} {full / parse:8.1f}")
    again = timed(lambda: import_file(inst, path))
    print(f"{'(c) the same file again (all known)':<40} {again:8.2f} s  {args.lines / again:10.0f} lines/s")

    expected = Counter("unmatched" if line["kind"] == "unmatched" else "matched" for line in lines)
    with db.transaction(inst) as s:
        stored = dict(s.execute(select(BankLine.status, func.count()).group_by(BankLine.status)).all())
    print(f"{'sanity':<40} {report.summary().split(': ', 1)[1]}")
    print(f"{'':<40} expected {expected['matched']} matched, {expected['unmatched']} unmatched; stored "
          f"{stored.get(LineStatus.matched, 0)} matched, {stored.get(LineStatus.unmatched, 0)} unmatched")


def timed(work) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=10_000)
    add_database_options(parser)
    parser.add_argument("--profile", action="store_true", help="cProfile the import too (rolled back)")
    parser.add_argument("--top", type=int, default=25, help="functions to list in the profile")
    args = parser.parse_args()
    if args.lines > args.invoices:
        parser.error("--lines: at most one line per invoice")
    print(f"{args.invoices} open invoices, a CAMT.053 statement of {args.lines} credit lines")
    on_each_database(run, args)


if __name__ == "__main__":
    main()
