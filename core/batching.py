"""Group commit: the writes of requests that arrive together go in one transaction.

A request that only inserts (an API call opening a ticket, an SMTP session delivering a message)
spends most of its time on the fixed cost of a transaction: a pooled connection, BEGIN, one
statement per table, COMMIT and its disk flush. A ``Batcher`` runs a writer thread; a request
hands it an item and awaits the result. The writer takes whatever is waiting (up to
``max_batch``), writes it all with one call of ``write`` (one transaction) and answers every
request once that call has returned, that is after the commit. Under no load a batch is one
item, written at once. Under load (the previous batch held more than one) the writer also waits
up to ``linger`` seconds for as many items as last time: clients answered together come back
together, and without the wait batches alternate between one item and all the others.

``write(items)`` returns one result per item, in order. If it raises for a batch of several,
every item is written again alone, so one bad item gets its own error and never costs the others
theirs; a result may also be an exception object, which the caller then receives as a value.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger("hub.batching")
T = TypeVar("T")
R = TypeVar("R")
_Job = tuple[Any, asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class Batcher(Generic[T, R]):
    """Writes submitted items in batches on ``threads`` writer threads (started on first use)."""

    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int = 64,
        linger: float = 0.001,
        threads: int = 1,
        name: str = "batcher",
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self.linger = linger
        self.name = name
        self._threads_wanted = threads
        self.queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Write the item with whatever else is waiting; returns after its batch was written."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._ensure_threads()
        self.queue.put((item, loop, future))
        result: R = await future
        return result

    def close(self) -> None:
        """Stop the writers after the items already queued."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self.queue.put(None)
        for thread in threads:
            thread.join(timeout=10)

    def _ensure_threads(self) -> None:
        if self._threads and all(t.is_alive() for t in self._threads):
            return
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            while len(self._threads) < self._threads_wanted:
                thread = threading.Thread(
                    target=self._run, daemon=True, name=f"{self.name}-{len(self._threads)}"
                )
                thread.start()
                self._threads.append(thread)

    def _run(self) -> None:
        last = 1
        while True:
            first = self.queue.get()
            if first is None:
                return
            jobs, stop = self._gather(first, target=last)
            last = len(jobs)
            self._write_batch(jobs)
            if stop:
                return

    def _gather(self, first: _Job, *, target: int) -> tuple[list[_Job], bool]:
        jobs = [first]
        deadline = time.monotonic() + self.linger
        while len(jobs) < self.max_batch:
            try:
                job = self.queue.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if len(jobs) >= target or left <= 0:
                    break
                try:
                    job = self.queue.get(timeout=left)
                except queue.Empty:
                    break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def _write_batch(self, jobs: list[_Job]) -> None:
        try:
            results = self._write([item for item, _, _ in jobs])
        except BaseException as exc:
            if len(jobs) == 1:
                _answer(jobs[0], error=exc)
                return
            log.info(
                "%s: a batch of %d failed (%s); writing its items one by one",
                self.name,
                len(jobs),
                type(exc).__name__,
            )
            for job in jobs:
                self._write_batch([job])
            return
        self.batches += 1
        self.items += len(jobs)
        for job, result in zip(jobs, results, strict=True):
            _answer(job, result=result)


def _answer(job: _Job, *, result: Any = None, error: BaseException | None = None) -> None:
    _, loop, future = job

    def settle() -> None:
        if future.done():  # the request was cancelled (client gone): nothing to tell
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the request's event loop is closed
        pass
