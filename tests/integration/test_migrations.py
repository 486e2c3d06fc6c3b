"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dunning.storage import db
from dunning.storage.models import Base


def test_the_migrated_database_matches_the_models(installation):
    with db.engine_for(installation.database_url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
