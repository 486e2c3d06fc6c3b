"""Storage: where an installation lives (`config`), the SQLAlchemy models of the business facts, sessions,
migrations (alembic, `migrations/`) and the installation's clock (real or simulated, stored in the database).

May import: `dunning.domain`, `dunning.law`. Callers own the session: `with db.transaction(inst) as s:`."""
