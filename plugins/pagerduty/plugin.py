"""PagerDuty: hook implementations (thin; the work is in this package's other modules)."""

from __future__ import annotations

from core.api import Capability, PluginInfo, hookimpl


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(name="pagerduty", title="PagerDuty",
                      description="Page on-call on Critical SLA breaches; incident notes on the ticket.",
                      capabilities=(Capability.ESCALATE, Capability.NOTIFY))
