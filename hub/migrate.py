"""Run Alembic migrations programmatically (``hub migrate``, tests, ``hub run``).

Core's migrations live in ``hub/migrations/versions``. Each installed plugin may keep its own in
``<package>/migrations/versions``, beside the module its ``hub.plugins`` entry point names (for
``plugins.email.plugin``: ``plugins/email/migrations/versions``). They are collected through
Alembic's ``version_locations``, so a third-party plugin adds tables the same way a built-in one
does: a revision with its own ``branch_labels`` whose ``down_revision`` is a core revision.
"""

from __future__ import annotations

import importlib.util
import os
from importlib.metadata import entry_points
from pathlib import Path

from alembic import command
from alembic.config import Config

from hub.plugins import GROUP

HERE = Path(__file__).parent / "migrations"


def plugin_version_locations() -> list[Path]:
    """The ``migrations/versions`` folder of every installed plugin that has one.

    Found without importing the plugins: an entry point names a module, and its package's folder
    is looked up through the import system.
    """
    found: list[Path] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        package = ep.module.rpartition(".")[0] or ep.module
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            versions = Path(folder) / "migrations" / "versions"
            if versions.is_dir() and versions not in found:
                found.append(versions)
    return found


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [HERE / "versions", *plugin_version_locations()]
    # Alembic splits version_locations on this separator; paths are absolute.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database to every head (core and each plugin keep their own branches)."""
    command.upgrade(alembic_config(url), "heads")
