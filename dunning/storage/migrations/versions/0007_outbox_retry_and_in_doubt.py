"""the outbox remembers a temporary mail server fault's back-off (next try), a message whose delivery is in doubt
until a person decides, and the reply code of a mail server that refused a message

Revision ID: 0007_outbox_retry_and_in_doubt
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_retry_and_in_doubt"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("in_doubt", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("smtp_code", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("smtp_code")
        batch_op.drop_column("in_doubt")
        batch_op.drop_column("next_try_at")
