"""how to greet the debtor's contact person (heer, mevrouw, mr, ms), as the invoice export says

Revision ID: 0008_debtor_contact_salutation
Revises: 0007_outbox_retry_and_in_doubt
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_debtor_contact_salutation"
down_revision = "0007_outbox_retry_and_in_doubt"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_salutation", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debtor", schema=None) as batch_op:
        batch_op.drop_column("contact_salutation")
