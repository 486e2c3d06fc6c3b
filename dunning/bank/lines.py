"""A bank statement as this engine needs it: one line per booked movement on the creditor's account."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from dunning.domain.errors import UserError


class StatementError(UserError):
    """A statement file that cannot be read: `where` says where in it ("entry 3", "line 17", "statement 2")."""

    def __init__(self, file: str, where: str | None, reason: str):
        self.file, self.where, self.reason = file, where, reason
        super().__init__(f"{file}: {where}: {reason}" if where else f"{file}: {reason}")


@dataclass(frozen=True)
class StatementLine:
    """One booked movement. `amount` is positive; `credit` says money came in. A `reversal` undoes an earlier
    movement in the other direction (a returned SEPA credit, a charge-back: CAMT `RvslInd`, MT940 `RC`/`RD`,
    a return reason)."""

    entry: int  # 1-based position in the file, as errors and people name it ("entry 3")
    account: str  # the statement's own account: an IBAN without spaces, upper case, or the bank's account id
    booked: date
    amount: Decimal
    currency: str
    credit: bool
    reversal: bool = False
    counterparty: str | None = None  # name of who paid (credit) or was paid (debit)
    iban: str | None = None  # the counterparty's account, IBAN without spaces, upper case
    remittance: str = ""  # unstructured remittance text, unwrapped (MT940 wraps at 65 characters)
    reference: str | None = None  # structured creditor reference (CAMT CdtrRefInf/Ref, MT940 /REMI/STRD/)
    bank_reference: str | None = None  # the bank's own id for the line (AcctSvcrRef, NtryRef, :61: reference)
    end_to_end: str | None = None  # the payer's EndToEndId (EREF), when not NOTPROVIDED
    return_reason: str | None = None  # e.g. AC06, MD06 (CAMT RtrInf/Rsn, MT940 /RTRN/)
    identity: str = ""  # stable across re-imports and overlapping statements: see `with_identities`

    @property
    def signed(self) -> Decimal:
        return self.amount if self.credit else -self.amount


@dataclass(frozen=True)
class Statement:
    file: str  # the file's name, as errors name it
    format: str  # "camt.053.001.02", "mt940", ...
    lines: tuple[StatementLine, ...]
    accounts: tuple[str, ...]  # every account the file has statements for


def _fallback_key(line: StatementLine) -> str:
    parts = (line.account, line.booked.isoformat(), f"{line.signed:.2f}", line.currency, line.counterparty or "",
             line.iban or "", " ".join(line.remittance.split()), line.reference or "")
    return "h:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def with_identities(lines: Iterable[StatementLine]) -> tuple[StatementLine, ...]:
    """Give each line its identity: the bank's own reference where the file has one, else a digest of account,
    booking date, amount, counterparty and remittance. Identical lines within one file (two equal payments on
    one day) are told apart by their order, so the n-th of them matches the n-th in an overlapping file."""
    seen: Counter[str] = Counter()
    out = []
    for line in lines:
        key = f"r:{line.account}:{line.bank_reference}" if line.bank_reference else _fallback_key(line)
        seen[key] += 1
        out.append(replace(line, identity=key if seen[key] == 1 else f"{key}#{seen[key]}"))
    return tuple(out)
