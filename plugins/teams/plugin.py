"""Microsoft Teams: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="teams", title="Microsoft Teams",
                      description="Tickets from Teams messages; Adaptive Card updates.",
                      capabilities=(Capability.INTAKE, Capability.NOTIFY))
