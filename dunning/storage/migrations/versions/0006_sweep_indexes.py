"""indexes for the sweep, so that it costs what is due rather than the size of the book: open invoices without a
run by due date (partial), wake-up times, invoices by debtor (paid history), bank lines with a run (partial)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNSTARTED = sa.text("flow_run_id IS NULL AND closed_reason IS NULL")
WITH_RUN = sa.text("flow_run_id IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_invoice_unstarted_due", "invoice", ["due_date"], sqlite_where=UNSTARTED,
                    postgresql_where=UNSTARTED)
    op.create_index("ix_invoice_wake_at", "invoice", ["wake_at"])
    op.create_index("ix_invoice_debtor_id", "invoice", ["debtor_id"])
    op.create_index("ix_bank_line_flow_run_id", "bank_line", ["flow_run_id"], sqlite_where=WITH_RUN,
                    postgresql_where=WITH_RUN)


def downgrade() -> None:
    op.drop_index("ix_bank_line_flow_run_id", table_name="bank_line")
    op.drop_index("ix_invoice_debtor_id", table_name="invoice")
    op.drop_index("ix_invoice_wake_at", table_name="invoice")
    op.drop_index("ix_invoice_unstarted_due", table_name="invoice")
