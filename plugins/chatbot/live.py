"""Wake the open chat connections of a conversation when something was added to it.

``hub_notify`` runs wherever the outbox is delivered (a worker thread, or another process). In
this process it wakes the connection's event loop at once; connections also look for new lines
every few seconds, which covers deliveries made by other processes.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict


class Listeners:
    """Per conversation, the (loop, event) of every open connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_chat: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def subscribe(self, chat_id: int) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """Called from the connection's coroutine."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._by_chat[chat_id].add(entry)
        return entry

    def unsubscribe(
        self, chat_id: int, entry: tuple[asyncio.AbstractEventLoop, asyncio.Event]
    ) -> None:
        with self._lock:
            self._by_chat[chat_id].discard(entry)
            if not self._by_chat[chat_id]:
                del self._by_chat[chat_id]

    def wake(self, chat_id: int) -> None:
        """Thread-safe: tell every connection of the conversation to read new lines."""
        with self._lock:
            entries = list(self._by_chat.get(chat_id, ()))
        for loop, event in entries:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


listeners = Listeners()
