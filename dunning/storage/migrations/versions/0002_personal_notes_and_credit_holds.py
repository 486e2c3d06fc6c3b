"""personal notes (a collector's paragraph for the next message of one invoice) and credit holds

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_for", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("personal_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_note_invoice_id"), ["invoice_id"], unique=False)
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.drop_column("hold_reason")
        batch_op.drop_column("hold_since")
    with op.batch_alter_table("personal_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_note_invoice_id"))
    op.drop_table("personal_note")
