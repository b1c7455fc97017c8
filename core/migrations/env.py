"""Alembic environment: runs on the connection handed over by core.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import core.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through core.migrate.upgrade_to_head")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
