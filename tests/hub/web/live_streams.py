"""Helpers of the live-update tests: an SSE reader in a thread on a real server, and cookies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx


class Stream:
    """``GET /events`` read line by line in a thread; ``events`` are the (name, data) received."""

    def __init__(self, base: str, cookies: dict[str, str], query: str = "") -> None:
        self.events: list[tuple[str, Any]] = []
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._client = httpx.Client(base_url=base, cookies=cookies, timeout=None)
        self._thread = threading.Thread(target=self._read, args=(query,), daemon=True)
        self._thread.start()

    def _read(self, query: str) -> None:
        name = "message"
        try:
            with self._client.stream("GET", f"/events{query}") as response:
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    self.lines.append(line)
                    if line.startswith("event:"):
                        name = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        self.events.append((name, json.loads(line.split(":", 1)[1])))
                        name = "message"
        except (httpx.HTTPError, RuntimeError):
            return

    def states(self) -> list[dict[str, int]]:
        return [data for name, data in list(self.events) if name == "state"]

    def presences(self) -> list[dict[str, list[str]]]:
        return [data for name, data in list(self.events) if name == "presence"]

    def last(self) -> dict[str, int]:
        states = self.states()
        return states[-1] if states else {}

    def close(self) -> None:
        self._stop.set()
        self._client.close()


def wait(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def cookies_of(web: Any) -> dict[str, str]:
    """A signed-in WebClient's cookies, to reuse on the live server."""
    return {cookie.name: cookie.value for cookie in web.client.cookies.jar}
