"""Per-tenant configuration read on every ticket change (SLA policies, automation rules),
kept in memory for a few seconds so that the hot path does not query it each time.

A change committed in this process drops the tenant's entry at once (mapper events below); other
processes see it within ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event

T = TypeVar("T")


class TenantCache(Generic[T]):
    """A value per (tenant, key), loaded on a miss and kept for ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._items: dict[tuple[uuid.UUID, Any], tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: uuid.UUID, key: Any, load: Callable[[], T]) -> T:
        hit = self._items.get((tenant_id, key))
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load()
        with self._lock:
            self._items[(tenant_id, key)] = (now, value)
        return value

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if tenant_id is None:
                self._items.clear()
            else:
                for key in [k for k in self._items if k[0] == tenant_id]:
                    del self._items[key]


def invalidate_on_change(model: type, cache: TenantCache[Any]) -> None:
    """Drop a tenant's cached entry whenever a row of ``model`` of that tenant is written."""

    def drop(_mapper: Any, _conn: Any, target: Any) -> None:
        cache.invalidate(getattr(target, "tenant_id", None))

    for name in ("after_insert", "after_update", "after_delete"):
        event.listen(model, name, drop)
