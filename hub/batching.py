"""Group commit over a session: ``core.batching.Batcher`` whose write runs in one transaction.

The API uses it to open tickets (``hub.api.routes.tickets.write_tickets``): tickets opened at the
same moment cost one INSERT per table and one COMMIT between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core.batching import Batcher

log = logging.getLogger("hub.batching")
T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Batcher[T, R]):
    """``write(session, items)`` returns one result per item, in order, and does not commit:
    the batch commits once, then ``after_commit`` runs (to wake outbox delivery)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        write: Callable[[Session, Sequence[T]], Sequence[R]],
        *,
        after_commit: Callable[[], None] | None = None,
        max_batch: int = 64,
        linger: float = 0.001,
        name: str = "group-commit",
    ) -> None:
        def commit(items: list[T]) -> Sequence[R]:
            with sessions() as session, session.begin():
                results = write(session, items)
            if after_commit is not None:
                try:
                    after_commit()
                except Exception:
                    log.exception("%s: after-commit hook failed", name)
            return results

        super().__init__(commit, max_batch=max_batch, linger=linger, name=name)
