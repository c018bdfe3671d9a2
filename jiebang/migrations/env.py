"""Alembic environment. The URL comes from the caller (``jiebang db upgrade``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

config = context.config
# Autogenerate passes the full metadata in; running migrations needs none.
target_metadata = config.attributes.get("metadata")


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _migrate(conn)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
