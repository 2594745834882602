"""Email: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="email", title="Email",
                      description="SMTP and IMAP intake; threaded replies by mail.",
                      capabilities=(Capability.INTAKE, Capability.NOTIFY))
