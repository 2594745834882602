"""Run Alembic migrations programmatically (``hub migrate``, tests, ``hub run``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database to every head (each area keeps its own branch of migrations)."""
    command.upgrade(alembic_config(url), "heads")
