"""Apply Alembic migrations (on start, and by `platos migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from core.db import sync_engine
from core.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant will do: it only has to be the same in every Platos process.
PG_MIGRATION_LOCK = 7_261_003


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade_to_head(settings: Settings) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once."""
    engine = sync_engine(settings)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise concurrent starters; the lock ends with this transaction.
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
