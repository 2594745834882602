"""Group commit: the writes of requests that arrive together go in one transaction.

A busy endpoint that only inserts (opening a ticket) spends most of its time on the fixed cost of
a transaction: a pooled connection, BEGIN, one statement per table, COMMIT and its disk flush.
``GroupCommit`` runs one writer thread per process; a request hands it an item and awaits the
result. The writer takes whatever is waiting (up to ``max_batch``), writes it all in one
transaction and answers every request once that transaction has committed. Under no load a
batch is a single item and the latency is that of a plain transaction; under load a batch is as
large as the number of requests that arrived while the previous one was being written (with at
most ``linger`` of waiting for them, and only when the previous batch held more than one).

If a batch fails, it is rolled back and every item is written again alone, so one bad item gets
its own error and never costs the others theirs.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("hub.batching")
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Job(Generic[T]):
    item: T
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


class GroupCommit(Generic[T, R]):
    """Write items in shared transactions; ``write(session, items)`` returns one result per item,
    in order, and must not commit (the committer does, once per batch)."""

    def __init__(self, sessions: sessionmaker[Session],
                 write: Callable[[Session, Sequence[T]], Sequence[R]], *,
                 max_batch: int = 64, linger: float = 0.001, after_commit: Callable[[], None] | None = None,
                 name: str = "group-commit") -> None:
        self._sessions = sessions
        self._write = write
        self._max_batch = max_batch
        self._linger = linger
        self._after_commit = after_commit
        self._name = name
        self._queue: queue.SimpleQueue[_Job[T] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Write the item with whatever else is waiting; returns after the commit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._ensure_thread()
        self._queue.put(_Job(item, loop, future))
        return await future  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the writer after the items already queued."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=10)

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        last = 1
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, stop = self._gather(first, target=last)
            last = len(jobs)
            self._write_batch(jobs)
            if stop:
                return

    def _gather(self, first: _Job[T], *, target: int) -> tuple[list[_Job[T]], bool]:
        """The first job and whatever else is waiting. Under load (the last batch held more
        than one item) wait up to ``linger`` seconds for as many as last time: clients that
        were answered together come back together, and without the wait the batches would
        alternate between one item and the rest."""
        jobs = [first]
        deadline = time.monotonic() + self._linger
        while len(jobs) < self._max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if len(jobs) >= target or left <= 0:
                    break
                try:
                    job = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _write_batch(self, jobs: list[_Job[T]]) -> None:
        try:
            results = self._commit([job.item for job in jobs])
        except BaseException as exc:  # noqa: BLE001 - every waiting request must get an answer
            if len(jobs) == 1:
                _answer(jobs[0], error=exc)
                return
            log.info("%s: a batch of %d failed (%s); writing its items one by one",
                     self._name, len(jobs), type(exc).__name__)
            for job in jobs:
                self._write_batch([job])
            return
        for job, result in zip(jobs, results, strict=True):
            _answer(job, result=result)

    def _commit(self, items: list[T]) -> Sequence[R]:
        session = self._sessions()
        try:
            results = self._write(session, items)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        self.batches += 1
        self.items += len(items)
        if self._after_commit is not None:
            try:
                self._after_commit()
            except Exception:  # noqa: BLE001 - committed is committed; the hook is best effort
                log.exception("%s: after-commit hook failed", self._name)
        return results


def _answer(job: _Job[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    def settle() -> None:
        if job.future.done():  # the request was cancelled (client gone): nothing to tell
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the request's event loop is closed
        pass
