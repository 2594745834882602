"""Web chatbot: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="chatbot", title="Web chatbot",
                      description="A web chat that answers from the knowledge base and hands over to a human.",
                      capabilities=(Capability.INTAKE, Capability.NOTIFY))
