"""Bank statements the tests write themselves, in the layouts Dutch banks export: CAMT.053.001.02 XML and
MT940 text (decimal commas, `:86:` with /REMI/ and /EREF/ subfields)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

OUR_IBAN = "NL91ABNA0417164300"  # the creditor's account in the default settings


@dataclass(frozen=True)
class Movement:
    amount: str  # "1210.00"
    booked: date = date(2026, 2, 2)
    credit: bool = True
    name: str = "J. Jansen"
    iban: str = "NL02ABNA0123456789"
    remittance: str = ""
    reference: str | None = None  # structured creditor reference (RF...)
    bank_reference: str | None = None
    end_to_end: str | None = None
    reversal: bool = False
    return_reason: str | None = None


def camt(movements: list[Movement], account: str = OUR_IBAN, statement_id: str = "STMT-1") -> str:
    entries = "".join(_entry(m) for m in movements)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>2026-02-03T06:00:00</CreDtTm></GrpHdr>
<Stmt>
<Id>{statement_id}</Id><CreDtTm>2026-02-03T06:00:00</CreDtTm>
<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
</Stmt>
</BkToCstmrStmt>
</Document>
"""


def _entry(m: Movement) -> str:
    party = "Dbtr" if m.credit else "Cdtr"
    account = "DbtrAcct" if m.credit else "CdtrAcct"
    refs = f"<AcctSvcrRef>{m.bank_reference}</AcctSvcrRef>" if m.bank_reference else ""
    e2e = f"<Refs><EndToEndId>{m.end_to_end}</EndToEndId></Refs>" if m.end_to_end else ""
    structured = (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                  f"<Ref>{m.reference}</Ref></CdtrRefInf></Strd>") if m.reference else ""
    unstructured = f"<Ustrd>{escape(m.remittance)}</Ustrd>" if m.remittance else ""
    remittance = f"<RmtInf>{unstructured}{structured}</RmtInf>" if unstructured or structured else ""
    returned = f"<RtrInf><Rsn><Cd>{m.return_reason}</Cd></Rsn></RtrInf>" if m.return_reason else ""
    return f"""<Ntry>
<Amt Ccy="EUR">{m.amount}</Amt><CdtDbtInd>{"CRDT" if m.credit else "DBIT"}</CdtDbtInd>
{"<RvslInd>true</RvslInd>" if m.reversal else ""}<Sts>BOOK</Sts>
<BookgDt><Dt>{m.booked.isoformat()}</Dt></BookgDt><ValDt><Dt>{m.booked.isoformat()}</Dt></ValDt>{refs}
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls>{e2e}
<RltdPties><{party}><Nm>{escape(m.name)}</Nm></{party}><{account}><Id><IBAN>{m.iban}</IBAN></Id></{account}></RltdPties>
{remittance}{returned}
</TxDtls></NtryDtls>
</Ntry>
"""


def mt940(movements: list[Movement], account: str = OUR_IBAN, opening: str = "1000.00") -> str:
    """An ING-style MT940 (IBAN plus currency in :25:), balances that add up."""
    balance = Decimal(opening)
    lines = [":20:STATEMENT", f":25:{account}EUR", ":28C:1", f":60F:C260201EUR{_comma(balance)}"]
    for m in movements:
        sign = ("RC" if m.credit else "RD") if m.reversal else ("C" if m.credit else "D")
        amount = Decimal(m.amount)
        balance += amount if m.credit else -amount
        ref = m.bank_reference or "NONREF"
        lines.append(f":61:{m.booked:%y%m%d}{m.booked:%m%d}{sign}{_comma(amount)}NTRF{ref}")
        detail = f"/CNTP/{m.iban}/ABNANL2A/{m.name}/"
        if m.end_to_end:
            detail += f"/EREF/{m.end_to_end}"
        if m.return_reason:
            detail += f"/RTRN/{m.return_reason}/"
        if m.reference:
            detail += f"/REMI/STRD/CUR/{m.reference}/"
        elif m.remittance:
            detail += f"/REMI/USTD//{m.remittance}/"
        lines.append(":86:" + detail[:65])
        lines += [detail[i : i + 65] for i in range(65, len(detail), 65)]
    lines.append(f":62F:{'C' if balance >= 0 else 'D'}260202EUR{_comma(abs(balance))}")
    return "\r\n".join(lines) + "\r\n-\r\n"


def _comma(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
