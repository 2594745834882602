"""The plugin manager factory and the per-tenant hook relay (``TenantHookProxy``)."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pluggy import HookImpl, Result

from core import hookspecs
from core.types import PluginInfo

log = logging.getLogger("hub.plugins")
GROUP = "hub.plugins"


def _trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        names = [impl.plugin_name for impl in impls]
        log.warning("hook %s -> %s", hook_name, names)

    def after(
        outcome: Result[Any], hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        exc = outcome.exception
        log.warning("hook %s done%s", hook_name, f" raised {exc!r}" if exc else "")

    pm.add_hookcall_monitoring(before, after)


def make_plugin_manager(
    *,
    load: Iterable[str] | None = None,
    autoload: bool = True,
    extra: Iterable[tuple[str, object]] = (),
    trace: bool = False,
) -> pluggy.PluginManager:
    """Build a plugin manager: specs, the ``hub.plugins`` entry points, then ``check_pending``.

    :param load: only these entry-point names (``HUB_LOAD_PLUGINS``); None loads all.
    :param autoload: False (``HUB_DISABLE_PLUGIN_AUTOLOAD``) loads no entry points at all.
    :param extra: (name, plugin object) pairs to register as well: built-ins and tests.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    wanted = set(load) if load is not None else None
    if autoload:
        for ep in entry_points(group=GROUP):
            if wanted is not None and ep.name not in wanted:
                continue
            if pm.get_plugin(ep.name) is None:
                pm.register(ep.load(), name=ep.name)
    for name, plugin in extra:
        if pm.get_plugin(name) is None:
            pm.register(plugin, name=name)
    pm.check_pending()
    if trace or os.environ.get("HUB_TRACE_PLUGINS"):
        _trace(pm)
    return pm


def call_each(
    pm: pluggy.PluginManager,
    name: str,
    kwargs: dict[str, Any],
    *,
    remove: Iterable[object] = (),
    skip: Collection[str] = (),
) -> Iterator[tuple[str, Any, Exception | None]]:
    """Call the fan-out hook ``name`` one implementation at a time, lazily, yielding
    ``(plugin name, result, error)`` for each; the plugin objects in ``remove`` and the plugin
    names in ``skip`` are left out.

    For callers that need to know which plugin answered what, or to keep each plugin's error apart
    (the outbox retries one plugin, not the whole event). The order is pluggy's call order
    (``tryfirst`` first, then the latest registered, ``trylast`` last: ``get_hookimpls()`` lists
    the reverse), and each call goes through a pluggy hook caller holding only that
    implementation, so the manager's argument checks and its hook-call monitoring
    (``HUB_TRACE_PLUGINS``) see every call.
    """
    removed = set(map(id, remove))
    impls = getattr(pm.hook, name).get_hookimpls()
    for impl in reversed(impls):
        if id(impl.plugin) in removed or impl.plugin_name in skip:
            continue
        alone = pm.subset_hook_caller(
            name, remove_plugins=[other.plugin for other in impls if other is not impl]
        )
        try:
            results = alone(**kwargs)
        except Exception as exc:
            yield impl.plugin_name, None, exc
        else:
            yield impl.plugin_name, (results[0] if results else None), None


def plugin_infos(pm: pluggy.PluginManager) -> dict[str, PluginInfo]:
    """Every plugin's self-description, by the name it registered under."""
    infos: dict[str, PluginInfo] = {}
    for name, info, error in call_each(pm, "hub_plugin_info", {}):
        if error is not None:
            raise error
        infos[name] = PluginInfo(**{**info.__dict__, "name": name})
    return infos


class TenantHookProxy:
    """``pm.hook`` as one tenant sees it: disabled plugins are not called.

    Mirrors pytest's ``FSHookProxy``: each attribute is a ``subset_hook_caller`` that removes the
    tenant's disabled plugins; the relay objects are cached per tenant.
    """

    def __init__(self, pm: pluggy.PluginManager, disabled: set[str]) -> None:
        self._pm = pm
        self._remove = [p for n in disabled if (p := pm.get_plugin(n)) is not None]
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        caller = self._cache.get(name)
        if caller is None:
            caller = self._pm.subset_hook_caller(name, remove_plugins=self._remove)
            self._cache[name] = caller
        return caller

    def each(
        self, name: str, kwargs: dict[str, Any], skip: Collection[str] = ()
    ) -> Iterator[tuple[str, Any, Exception | None]]:
        """``call_each`` over the plugins this tenant has enabled."""
        return call_each(self._pm, name, kwargs, remove=self._remove, skip=skip)


class TenantHooks:
    """A cache of ``TenantHookProxy`` per tenant, dropped when a tenant's plugin rows change."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        load_disabled: Callable[[uuid.UUID], set[str]],
        always_on: Iterable[str] = (),
        ttl: float = 5.0,
    ) -> None:
        self.pm = pm
        self._load_disabled = load_disabled
        self._always_on = set(always_on)
        # In this process a change drops the entry at once; other processes (workers) see it
        # within ``ttl`` seconds.
        self._ttl = ttl
        self._cache: dict[uuid.UUID, tuple[float, TenantHookProxy]] = {}
        self._lock = threading.Lock()

    def for_tenant(self, tenant_id: uuid.UUID) -> TenantHookProxy:
        entry = self._cache.get(tenant_id)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        disabled = self._load_disabled(tenant_id) - self._always_on
        proxy = TenantHookProxy(self.pm, disabled)
        with self._lock:
            self._cache[tenant_id] = (time.monotonic(), proxy)
        return proxy

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if tenant_id is None:
                self._cache.clear()
            else:
                self._cache.pop(tenant_id, None)
