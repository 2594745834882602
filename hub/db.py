"""Engine and session factory, tuned per dialect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, pool_size: int = 10, read_only: bool = False) -> Engine:
    """SQLite in WAL mode with foreign keys on; PostgreSQL through psycopg 3 with a pool.

    On SQLite, writers BEGIN IMMEDIATE (no lock-upgrade deadlocks between two writers), while a
    ``read_only`` engine uses deferred transactions, which WAL never blocks.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        # Pre-ping: a pooled connection that died with the server (a restart, a failover) is
        # found at checkout and replaced, so the first request after a database restart
        # succeeds instead of failing once per process. It costs one round trip per checkout.
        # While the database is down the request gets a 503 with Retry-After
        # (hub.api.errors), SMTP a 451. Recycling bounds a connection's age.
        kwargs.update(
            pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, pool_pre_ping=True
        )
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            conn.isolation_level = None  # let SQLAlchemy's BEGIN below control transactions
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: no deadlock between two writers that
            # both read first, which plain BEGIN (deferred) would risk.
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
