"""The executor that runs Bolt's lazy listeners: the work done after Slack got its ack.

It counts pending jobs so that tests (and a graceful shutdown) can wait until all work is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any


class Worker(Executor):
    """A thread pool that knows how many jobs are still running or queued."""

    def __init__(self, max_workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="slack-work")
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue one job (Bolt calls this for each lazy listener)."""
        with self._cond:
            self._pending += 1
        try:
            future = self._pool.submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: Future[Any] | None) -> None:
        with self._cond:
            self._pending -= 1
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._pending

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until no job is pending; False when the timeout passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the pool (waiting for running jobs by default)."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


WORKER = Worker()
"""The process-wide worker shared by every tenant's Bolt app."""
