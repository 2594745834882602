"""Alembic environment: the URL comes from the hub's settings unless the caller set one."""

from __future__ import annotations

from importlib.metadata import entry_points

from alembic import context
from sqlalchemy.engine import Connection

import core.models  # noqa: F401 - registers every core table on the metadata
from core.db import Base
from hub.db import make_engine
from hub.plugins import GROUP

config = context.config
# Plugin tables share core's metadata; importing each plugin registers them, so that
# ``alembic revision --autogenerate`` sees every table of every installed plugin.
for _ep in entry_points(group=GROUP):
    _ep.load()
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from hub.settings import Settings

    return Settings().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
