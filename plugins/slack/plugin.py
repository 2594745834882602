"""Slack: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="slack", title="Slack",
                      description="Tickets from Slack DMs, mentions and /ticket; agents work from Slack.",
                      capabilities=(Capability.INTAKE, Capability.NOTIFY))
