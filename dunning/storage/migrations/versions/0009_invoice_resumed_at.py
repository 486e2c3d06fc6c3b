"""when a sweep or a verb took an invoice's wake-up to resume its run: taken again if the run never started

Revision ID: 0009_invoice_resumed_at
Revises: 0008_debtor_contact_salutation
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_invoice_resumed_at"
down_revision = "0008_debtor_contact_salutation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_invoice_resumed_at", "invoice", ["resumed_at"])


def downgrade() -> None:
    op.drop_index("ix_invoice_resumed_at", table_name="invoice")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_column("resumed_at")
