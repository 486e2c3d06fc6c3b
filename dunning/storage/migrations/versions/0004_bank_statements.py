"""bank statements: their lines, payments from them (and taken back), the debtors' accounts and credits, and
the payment reference every invoice states (filled in for the invoices already there)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from dunning.bank.references import payment_reference

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity', sa.String(length=200), nullable=False),
    sa.Column('file', sa.String(length=255), nullable=False),
    sa.Column('entry', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=50), nullable=False),
    sa.Column('booked', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('credit', sa.Boolean(), nullable=False),
    sa.Column('reversal', sa.Boolean(), nullable=False),
    sa.Column('counterparty', sa.String(length=200), nullable=True),
    sa.Column('iban', sa.String(length=50), nullable=True),
    sa.Column('remittance', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('end_to_end', sa.String(length=100), nullable=True),
    sa.Column('return_reason', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flow_run_id', sa.String(length=36), nullable=True),
    sa.Column('refused', sa.Integer(), nullable=False, server_default='0'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity')
    )
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_line_booked'), ['booked'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_iban'), ['iban'], unique=False)
        batch_op.create_index(batch_op.f('ix_bank_line_status'), ['status'], unique=False)

    op.create_table('debtor_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('iban', sa.String(length=50), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('debtor_id', 'iban')
    )
    with op.batch_alter_table('debtor_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtor_account_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debtor_account_iban'), ['iban'], unique=False)

    op.create_table('debtor_credit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('bank_line_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_to_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_by', sa.String(length=100), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['applied_to_id'], ['invoice.id'], ),
    sa.ForeignKeyConstraint(['bank_line_id'], ['bank_line.id'], ),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtor.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('debtor_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtor_credit_debtor_id'), ['debtor_id'], unique=False)

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=25), nullable=True))
        batch_op.create_unique_constraint('uq_invoice_payment_reference', ['payment_reference'])

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_line_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_bank_line_id'), ['bank_line_id'], unique=False)
        batch_op.create_foreign_key('fk_payment_bank_line_id', 'bank_line', ['bank_line_id'], ['id'])

    invoice = sa.table("invoice", sa.column("id", sa.Integer), sa.column("number", sa.String),
                       sa.column("payment_reference", sa.String))
    connection = op.get_bind()
    taken: set[str] = set()
    for id_, number in connection.execute(sa.select(invoice.c.id, invoice.c.number).order_by(invoice.c.id)):
        reference = payment_reference(number)
        if reference in taken:  # two numbers with the same letters and digits ("F-1", "F1")
            reference = payment_reference(number, hashed=True)
        taken.add(reference)
        connection.execute(invoice.update().where(invoice.c.id == id_).values(payment_reference=reference))


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_payment_bank_line_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payment_bank_line_id'))
        batch_op.drop_column('reversed_at')
        batch_op.drop_column('bank_line_id')

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_constraint('uq_invoice_payment_reference', type_='unique')
        batch_op.drop_column('payment_reference')

    with op.batch_alter_table('debtor_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtor_credit_debtor_id'))

    op.drop_table('debtor_credit')
    with op.batch_alter_table('debtor_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtor_account_iban'))
        batch_op.drop_index(batch_op.f('ix_debtor_account_debtor_id'))

    op.drop_table('debtor_account')
    with op.batch_alter_table('bank_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_line_status'))
        batch_op.drop_index(batch_op.f('ix_bank_line_iban'))
        batch_op.drop_index(batch_op.f('ix_bank_line_booked'))

    op.drop_table('bank_line')
