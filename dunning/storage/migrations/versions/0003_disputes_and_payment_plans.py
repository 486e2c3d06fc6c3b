"""disputes (a human task with a person responsible and a due date), payment plans with instalments, credit
notes / write-offs next to payments, call tasks joined into one call per debtor, and when a debtor prefers
to be called

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_times", sa.String(length=100), nullable=True))
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("joined_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_human_task_joined_to_id", "human_task", ["joined_to_id"], ["id"])
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="payment"))
    op.create_table(
        "payment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agreed_by", sa.String(length=100), nullable=True),
        sa.Column("costs", sa.Numeric(14, 2), nullable=False),
        sa.Column("paid_before", sa.Numeric(14, 2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_because", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_plan_invoice_id"), ["invoice_id"], unique=False)
    op.create_table(
        "plan_instalment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["payment_plan.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("plan_instalment")
    with op.batch_alter_table("payment_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_plan_invoice_id"))
    op.drop_table("payment_plan")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.drop_column("call_times")
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_constraint("fk_human_task_joined_to_id", type_="foreignkey")
        batch_op.drop_column("joined_to_id")
        batch_op.drop_column("due_on")
        batch_op.drop_column("assignee")
