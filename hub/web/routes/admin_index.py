"""The admin home (``/admin``): every settings page of the tenant, grouped by what it is for, so
that the header needs one "Admin" link instead of a row of sixteen."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub import admin_tables
from hub.api.deps import HubDep, SessionDep
from hub.web.i18n import N_
from hub.web.render import render
from hub.web.session import PageUser, admin_only

router = APIRouter()

SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        N_("People and access"),
        (
            ("/admin/members", N_("Members"), N_("Invite people, change roles, offboard, erase")),
            (
                "/admin/agents",
                N_("Agents and assignment"),
                N_("Skills, limits, availability, auto-assign"),
            ),
            ("/admin/groups", N_("Groups and tiers"), N_("Teams of agents, the escalation ladder")),
            ("/admin/security", N_("Security"), N_("Single sign-on and the two-factor policy")),
            (
                "/admin/tokens",
                N_("API tokens"),
                N_("Every token of the organisation, revoked here"),
            ),
        ),
    ),
    (
        N_("Channels and messages"),
        (
            ("/admin/plugins", N_("Plugins"), N_("Email, Slack, Teams, chat, Jira and PagerDuty")),
            (
                "/admin/email-templates",
                N_("Email templates"),
                N_("The words of every mail, signatures"),
            ),
            ("/admin/notifications", N_("Notifications"), N_("Who hears about what, by default")),
            (
                "/admin/language",
                N_("Language"),
                N_("The language your requesters read, by default"),
            ),
        ),
    ),
    (
        N_("Service levels and automation"),
        (
            ("/admin/sla", N_("SLA policies"), N_("Targets, business hours and holidays")),
            ("/admin/rules", N_("Automation rules"), N_("Conditions and actions on ticket events")),
            ("/admin/macros", N_("Macros"), N_("Prepared replies with field changes")),
            ("/admin/tags", N_("Tags"), N_("Rename or delete tags, see how often each is used")),
            (
                "/admin/fields",
                N_("Custom fields"),
                N_("Typed ticket fields, where they show, order"),
            ),
            (
                "/admin/duplicates",
                N_("Likely duplicates"),
                N_("Flag similar tickets, how many days back"),
            ),
        ),
    ),
    (
        N_("Help centre and search"),
        (
            ("/admin/kb", N_("Knowledge base"), N_("Articles, sections, who may read")),
            ("/admin/search", N_("Search"), N_("The language of the ticket search")),
        ),
    ),
    (
        N_("Operations and compliance"),
        (
            ("/admin/outbox", N_("Outbox"), N_("Deliveries that failed, retried here")),
            ("/admin/quarantine", N_("Quarantine"), N_("Attachments held by the malware scan")),
            (
                "/admin/audit",
                N_("Audit log"),
                N_("Everything that was done, filtered and exported"),
            ),
            ("/admin/retention", N_("Retention"), N_("How long data is kept, legal holds")),
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
    sections = SECTIONS + (((N_("Plugin data"), pages),) if pages else ())
    return render(request, session, me, "admin/index.html", sections=sections)
