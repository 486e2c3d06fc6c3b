"""The kinds the engine speaks in: who a debtor is, how a message travels, what a person is asked, where
a plan, a task or a message stands. Stored as strings (see `storage.models`)."""

from __future__ import annotations

import enum


class DebtorKind(enum.StrEnum):
    consumer = "consumer"
    business = "business"


# One word for the debtor kind everywhere; the law's word ("commercial", BW 6:119a) works where people type it.
KIND_ALIASES = {"commercial": DebtorKind.business.value}


class Channel(enum.StrEnum):
    email = "email"
    letter = "letter"
    phone = "phone"


class TaskKind(enum.StrEnum):
    call = "call"
    approval = "approval"
    dispute = "dispute"  # internal: the person responsible sorts out what the debtor disputes, by a due date


class PlanStatus(enum.StrEnum):
    active = "active"
    kept = "kept"
    broken = "broken"
    ended = "ended"  # neither kept nor broken: the invoice was disputed or closed otherwise


class PaymentKind(enum.StrEnum):
    payment = "payment"
    credit_note = "credit_note"  # a dispute upheld: the invoice is (partly) credited
    write_off = "write_off"
    settled = "settled"  # the accounting package no longer has it open (open-items sync): paid or credited there


class TaskStatus(enum.StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class OutboxStatus(enum.StrEnum):
    queued = "queued"
    sending = "sending"  # handed to the SMTP server; if we stop here the outcome is in doubt
    sent = "sent"
    refused = "refused"  # a business refusal (no usable address): never retried
    voided = "voided"  # a printed letter not posted on the day it was printed for: replaced by a new attempt


class LineStatus(enum.StrEnum):
    """Where a bank statement line stands."""

    matched = "matched"  # paid one or more invoices (or left a credit on a debtor)
    unmatched = "unmatched"  # a person decides
    ignored = "ignored"  # not a debtor payment: a debit, another account's line, or marked so by a person
    reversed = "reversed"  # an incoming payment the bank took back (or the return that took it back)
