"""The admin home (``/admin``): every settings page of the tenant, grouped by what it is for, so
that the header needs one "Admin" link instead of a row of sixteen."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub import admin_tables
from hub.api.deps import HubDep, SessionDep
from hub.web.render import render
from hub.web.session import PageUser, admin_only

router = APIRouter()

SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "People and access",
        (
            ("/admin/members", "Members", "Invite people, change roles, offboard, erase"),
            ("/admin/agents", "Agents and assignment", "Skills, limits, availability, auto-assign"),
            ("/admin/groups", "Groups and tiers", "Teams of agents, the escalation ladder"),
            ("/admin/security", "Security", "Single sign-on and the two-factor policy"),
            ("/admin/tokens", "API tokens", "Every token of the organisation, revoked here"),
        ),
    ),
    (
        "Channels and messages",
        (
            ("/admin/plugins", "Plugins", "Email, Slack, Teams, chat, Jira and PagerDuty"),
            ("/admin/email-templates", "Email templates", "The words of every mail, signatures"),
            ("/admin/notifications", "Notifications", "Who hears about what, by default"),
        ),
    ),
    (
        "Service levels and automation",
        (
            ("/admin/sla", "SLA policies", "Targets, business hours and holidays"),
            ("/admin/rules", "Automation rules", "Conditions and actions on ticket events"),
            ("/admin/macros", "Macros", "Prepared replies with field changes"),
            ("/admin/tags", "Tags", "Rename or delete tags, see how often each is used"),
            ("/admin/fields", "Custom fields", "Typed ticket fields, where they show, order"),
            ("/admin/duplicates", "Likely duplicates", "Flag similar tickets, how many days back"),
        ),
    ),
    ("Help centre", (("/admin/kb", "Knowledge base", "Articles, sections, who may read"),)),
    (
        "Operations and compliance",
        (
            ("/admin/outbox", "Outbox", "Deliveries that failed, retried here"),
            ("/admin/quarantine", "Quarantine", "Attachments held by the malware scan"),
            ("/admin/audit", "Audit log", "Everything that was done, filtered and exported"),
            ("/admin/retention", "Retention", "How long data is kept, legal holds"),
        ),
    ),
)


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, me: PageUser, session: SessionDep, hub: HubDep) -> HTMLResponse:
    """Every admin page, grouped; the enabled plugins' data tables (parked mail, failing
    addresses ...) in a group of their own."""
    admin_only(me)
    pages = tuple(
        (
            f"/admin/data/{t.plugin}/{t.key}",
            t.title,
            f"{hub.infos[t.plugin].title if t.plugin in hub.infos else t.plugin}: "
            f"{len(t.rows)} {'entry' if len(t.rows) == 1 else 'entries'}",
        )
        for t in admin_tables.tables(hub, me.actor)
    )
    sections = SECTIONS + ((("Plugin data", pages),) if pages else ())
    return render(request, session, me, "admin/index.html", sections=sections)
