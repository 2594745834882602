"""Jira: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="jira", title="Jira",
                      description="Escalate tickets to Jira issues with two-way status and comment sync.",
                      capabilities=(Capability.ESCALATE, Capability.NOTIFY))
