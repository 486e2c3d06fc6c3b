"""The business facts, in one place: the database is their source of truth, Prefect holds process state."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from dunning.bank.references import payment_reference
from dunning.domain.kinds import (  # noqa: F401  (the models' column types; callers import them from here too)
    Channel,
    DebtorKind,
    LineStatus,
    OutboxStatus,
    PaymentKind,
    PlanStatus,
    TaskKind,
    TaskStatus,
)
from dunning.domain.steps import Step

Money = Numeric(14, 2)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)  # timestamptz on PostgreSQL, as the migrations create it
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; all moments must be timezone-aware")
        utc = value.astimezone(UTC)
        # timestamptz keeps the instant only if the offset travels with it; SQLite keeps text without one.
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StepText(TypeDecorator[Step]):
    """A step of the vocabulary, stored as its text ("betaalafspraak@call-2"); read back as a `Step`."""

    impl = String  # the length per column: StepText(60)
    cache_ok = True

    def process_bind_param(self, value: Step | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, Step) else Step.parse(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Step | None:
        return None if value is None else Step.parse(value)


class Base(DeclarativeBase):
    pass


def _enum(e: type[enum.Enum]) -> Enum:
    return Enum(e, native_enum=False, length=20, validate_strings=True)


class Setting(Base):
    """Installation-wide values that every process must see alike (e.g. the simulated clock)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Debtor(Base):
    __tablename__ = "debtor"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DebtorKind] = mapped_column(_enum(DebtorKind))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    preferred_channel: Mapped[Channel] = mapped_column(_enum(Channel), default=Channel.email)
    call_times: Mapped[str | None] = mapped_column(String(100))  # when they prefer to be called ("mornings")
    contact_name: Mapped[str | None] = mapped_column(String(100))  # the person letters are addressed to (t.a.v.)
    contact_salutation: Mapped[str | None] = mapped_column(String(10))  # heer, mevrouw, mr, ms: how to greet them
    company_id: Mapped[str | None] = mapped_column(String(50))  # KvK or another registration
    vat_id: Mapped[str | None] = mapped_column(String(30))
    # Credit hold: no new deliveries to this debtor until lifted (set by hand or by the policy's step).
    hold_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hold_reason: Mapped[str | None] = mapped_column(Text)

    invoices: Mapped[list[Invoice]] = relationship(back_populates="debtor")


_UNSTARTED = text("flow_run_id IS NULL AND closed_reason IS NULL")
_WITH_RUN = text("flow_run_id IS NOT NULL")


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        # The sweep: open invoices without a run, by due date (newly due, courtesy calls), and runs to wake.
        Index("ix_invoice_unstarted_due", "due_date", sqlite_where=_UNSTARTED, postgresql_where=_UNSTARTED),
        Index("ix_invoice_wake_at", "wake_at"),
        Index("ix_invoice_resumed_at", "resumed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # The ISO 11649 creditor reference every message states; a payment carrying it is this invoice's.
    payment_reference: Mapped[str | None] = mapped_column(
        String(25), unique=True, default=lambda ctx: payment_reference(ctx.get_current_parameters()["number"])
    )
    # Process bookkeeping: which Prefect run walks this invoice, and when it wants to be woken.
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    wake_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a wake-up was taken to resume the run (`wakeups.on_waking`), until the run starts: should the process
    # that took it die before Prefect resumed the run, the sweep takes it again (`wakeups.RESUME_LEASE`).
    resumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(40))

    debtor: Mapped[Debtor] = relationship(back_populates="invoices")
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")


class Payment(Base):
    __tablename__ = "payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[PaymentKind] = mapped_column(_enum(PaymentKind), default=PaymentKind.payment)
    # From a bank statement line (None: recorded by hand with `dunning pay`, or a credit note / write-off).
    bank_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_line.id"), index=True)
    # The bank took the money back (a returned SEPA credit, a charge-back): it no longer counts as paid.
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    bank_line: Mapped[BankLine | None] = relationship(back_populates="payments")


class BankLine(Base):
    """One booked line of an imported bank statement; `identity` makes importing it again a no-op."""

    __tablename__ = "bank_line"
    # The sweep: lines whose run asking a person may still wait (few, however many lines were ever imported).
    __table_args__ = (Index("ix_bank_line_flow_run_id", "flow_run_id", sqlite_where=_WITH_RUN,
                            postgresql_where=_WITH_RUN),)
    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(200), unique=True)
    file: Mapped[str] = mapped_column(String(255))  # the statement file it first came from
    entry: Mapped[int] = mapped_column()  # its place in that file
    account: Mapped[str] = mapped_column(String(50))
    booked: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # positive; `credit` gives the direction
    currency: Mapped[str] = mapped_column(String(3))
    credit: Mapped[bool] = mapped_column()
    reversal: Mapped[bool] = mapped_column(default=False)
    counterparty: Mapped[str | None] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(50), index=True)
    remittance: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str | None] = mapped_column(String(100))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    end_to_end: Mapped[str | None] = mapped_column(String(100))
    return_reason: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus), index=True)
    rule: Mapped[str | None] = mapped_column(String(20))  # which matching rule, or "person"
    note: Mapped[str | None] = mapped_column(Text)  # why it was ignored; what a reversal undid
    decided_by: Mapped[str | None] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The run asking a person to match it, while it may still wait; the sweep clears it once the line is decided.
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    refused: Mapped[int] = mapped_column(default=0)  # answers in that run's form the facts refused (asked anew)

    payments: Mapped[list[Payment]] = relationship(back_populates="bank_line", order_by="Payment.id")


class DebtorAccount(Base):
    """A bank account a debtor pays from: given at import, or learned from a matched payment."""

    __tablename__ = "debtor_account"
    __table_args__ = (UniqueConstraint("debtor_id", "iban"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    iban: Mapped[str] = mapped_column(String(50), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "import", "payment", "ubl"

    debtor: Mapped[Debtor] = relationship()


class DebtorCredit(Base):
    """Money a debtor paid beyond what was open: kept, listed, and applied to a next invoice once a person
    confirms."""

    __tablename__ = "debtor_credit"
    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    bank_line_id: Mapped[int | None] = mapped_column(ForeignKey("bank_line.id"))
    reference: Mapped[str | None] = mapped_column(String(100))  # a credit note's number, when it came from one
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    applied_to_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    applied_by: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a reversal took the money back

    debtor: Mapped[Debtor] = relationship()


class HumanTask(Base):
    """A call or approval a person must complete before the invoice's run may go on, or a dispute the person
    responsible (`assignee`) must sort out by `due_on` while the invoice's escalation stands still."""

    __tablename__ = "human_task"
    __table_args__ = (UniqueConstraint("invoice_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind))
    step: Mapped[Step] = mapped_column(StepText(60))
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.open)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[dict | None] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(100))
    due_on: Mapped[date | None] = mapped_column(Date)
    # One call per debtor: the call task of another invoice of the same debtor whose outcome answers this one.
    joined_to_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))

    invoice: Mapped[Invoice] = relationship()


class PaymentPlan(Base):
    """Instalments agreed with the debtor: they add up to what was open when it was agreed plus agreed costs.
    `paid_before` is what had been paid on the invoice then, so the plan counts only later payments."""

    __tablename__ = "payment_plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    agreed_by: Mapped[str | None] = mapped_column(String(100))
    costs: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    paid_before: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.active)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_because: Mapped[str | None] = mapped_column(Text)

    invoice: Mapped[Invoice] = relationship()
    instalments: Mapped[list[Instalment]] = relationship(order_by="Instalment.seq", cascade="all, delete-orphan")


class Instalment(Base):
    __tablename__ = "plan_instalment"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("payment_plan.id"))
    seq: Mapped[int] = mapped_column()
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)


class DossierEntry(Base):
    """Append-only evidence. `key` makes recording idempotent across replays and retries."""

    __tablename__ = "dossier_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(20))
    by: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)


class PersonalNote(Base):
    """A collector's own paragraph for the next message of one invoice; `used_for` names the step that
    carried it (every channel of that step carries it, later steps do not)."""

    __tablename__ = "personal_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_for: Mapped[str | None] = mapped_column(String(40))


class OutboxMessage(Base):
    """Every message goes through here; the unique key makes sending at most once."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_invoice_step", "invoice_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # invoice + step + channel + attempt
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    step: Mapped[Step] = mapped_column(StepText(40))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    attempt: Mapped[int] = mapped_column(default=1)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.queued)
    recipient: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # the message exactly as sent
    message_id: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)  # facts stated in the message (amounts, deadline)
    tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Back in the queue after a temporary mail server fault: not handed over again before then (the back-off).
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Handed over, but whether the server took it is unknown: a person confirms it or has it sent again.
    in_doubt: Mapped[bool] = mapped_column(default=False)
    smtp_code: Mapped[int | None] = mapped_column()  # the mail server's reply code when it refused the message
