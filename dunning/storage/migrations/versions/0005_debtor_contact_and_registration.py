"""the debtor's contact person (letters are addressed to them), company registration and VAT id, as e-invoices
and accounting exports give them; a credit on the debtor names what it came from (a credit note's number)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("company_id", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("vat_id", sa.String(length=30), nullable=True))
    with op.batch_alter_table("debtor_credit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debtor_credit", schema=None) as batch_op:
        batch_op.drop_column("reference")
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.drop_column("vat_id")
        batch_op.drop_column("company_id")
        batch_op.drop_column("contact_name")
