"""Run Alembic migrations programmatically (used by `lockhub migrate` and `lockhub serve`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from lockhub.store.db import ensure_sqlite_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), "head")
