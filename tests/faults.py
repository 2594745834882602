"""Faults the tests inject: a commit that fails, as a deferred constraint or a lost connection
at COMMIT would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session


@contextmanager
def failing_commits() -> Iterator[list[str]]:
    """Every commit of every session raises; yields the list of commits attempted."""
    seen: list[str] = []

    def boom(session: Session) -> None:
        seen.append("commit")
        raise OperationalError("COMMIT", {}, Exception("injected: the commit failed"))

    event.listen(Session, "before_commit", boom)
    try:
        yield seen
    finally:
        event.remove(Session, "before_commit", boom)
