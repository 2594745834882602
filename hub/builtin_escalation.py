"""Built-in escalation: an SLA breach or escalation notifies the tenant's admins in the app."""

from __future__ import annotations

from core.api import (
    Capability,
    Escalation,
    EscalationResult,
    HubContext,
    PluginInfo,
    hookimpl,
)


@hookimpl
def hub_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="admin-escalation",
        title="Escalate to admins",
        description="SLA breaches and escalations notify the tenant's admins.",
        capabilities=(Capability.ESCALATE,),
    )


@hookimpl(trylast=True)
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Spec section 16: an SLA breach 'sends escalation to admin'."""
    if escalation.target not in (None, "admin"):
        return None
    # The admins (and the assignee) are told by the notification matrix (``escalation``,
    # ``sla_breach``): this plugin is the escalation of last resort that says so.
    return EscalationResult(plugin="admin-escalation", message="admins notified")
