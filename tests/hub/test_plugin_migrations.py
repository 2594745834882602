"""Plugins ship their own migrations: collected from the entry points' packages by Alembic."""

from __future__ import annotations

import importlib
import sqlite3
import textwrap
from pathlib import Path

import pytest

from hub.migrate import plugin_version_locations, upgrade

ACME_MIGRATION = '''
"""acme: widgets

Revision ID: acme_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "acme_0001"
down_revision = "0001_foundation"
branch_labels = ("acme",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acme_widgets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(80), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("acme_widgets")
'''


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A third-party plugin installed the way pip installs one: a package and its dist-info."""
    site = tmp_path / "site"
    package = site / "acme_hub_plugin"
    (package / "migrations" / "versions").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text('"""The acme plugin: hook implementations."""\n')
    (package / "migrations" / "versions" / "acme_0001.py").write_text(ACME_MIGRATION)
    dist = site / "acme_hub_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-hub-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [hub.plugins]
            acme = acme_hub_plugin.plugin
        """)
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return package


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _revisions(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")}


def test_built_in_plugins_keep_their_migrations_in_their_folders(tmp_path: Path) -> None:
    locations = {
        p.relative_to(Path(__file__).parents[2]).as_posix() for p in plugin_version_locations()
    }
    assert {"plugins/email/migrations/versions", "plugins/chatbot/migrations/versions"} <= locations
    assert not list((Path(__file__).parents[2] / "hub/migrations/versions").glob("*email*"))

    db = tmp_path / "hub.sqlite3"
    upgrade(f"sqlite:///{db}")
    assert {"email_parked_messages", "email_failing_addresses", "chatbot_sessions"} <= _tables(db)
    assert {"email_0002", "0009_chatbot"} <= _revisions(db)


def test_a_third_party_plugin_adds_its_table(acme_installed: Path, tmp_path: Path) -> None:
    assert acme_installed / "migrations" / "versions" in plugin_version_locations()

    db = tmp_path / "hub.sqlite3"
    upgrade(f"sqlite:///{db}")
    assert "acme_widgets" in _tables(db)
    assert "acme_0001" in _revisions(db)
    # Its table hangs off core's: a widget of an unknown tenant is refused.
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO acme_widgets (tenant_id, name) VALUES (?, ?)",
                ("00000000000000000000000000000000", "gear"),
            )


def test_without_the_plugin_its_migrations_are_not_collected(tmp_path: Path) -> None:
    assert not any("acme" in str(p) for p in plugin_version_locations())
