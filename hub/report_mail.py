"""The weekly report mail: last week's figures to the managers a tenant chose, once a week.

A tenant opts in with ``Tenant.settings["weekly_report"] = {"recipients": [emails]}`` (``hub
reports weekly --tenant ... --to ...`` sets it); only addresses of its managers and admins are
mailed. Beat runs ``send_due`` every hour; the first run after a week ends (Monday 00:00 in the
tenant's time zone) claims that week for the tenant (``core.services.once``), so however many
workers run it, each week is mailed once. The mail goes out as the hub's other mail to people
does (``hub.mailer``: the tenant's own mail channel through ``hub_send_mail``, else the system
relay, ``HUB_SYSTEM_RELAY_*``). A mail that no route took rolls the claim back, so the next hour
tries again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.mail_templates.service import render_mail
from core.models import Membership, Tenant, User
from core.permissions import ADMIN, MANAGER, system_actor
from core.reports import catalog
from core.reports.rollups import tenant_zone, week_of
from core.services.once import claim
from core.types import OutboundMail
from hub import mailer
from hub.settings import Settings

log = logging.getLogger("hub.report_mail")
SETTING = "weekly_report"


def recipients(session: Session, tenant_id: uuid.UUID, wanted: Any) -> list[str]:
    """The chosen addresses that belong to the tenant's active managers and admins."""
    if not isinstance(wanted, list) or not wanted:
        return []
    emails = {str(e).strip().lower() for e in wanted if isinstance(e, str)}
    rows = session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.role.in_((MANAGER, ADMIN)),
            User.is_active.is_(True),
        )
    )
    return sorted(e for e in rows if e.lower() in emails)


def _minutes(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.0f} min"
    return f"{value / 60:.1f} h"


def body(session: Session, tenant: Tenant, week: date, base_url: str) -> tuple[str, str]:
    """(subject, plain text) of one tenant's report of the week starting ``week``."""
    actor = system_actor(tenant.id)
    q = {"start": week.isoformat(), "end": (week + timedelta(days=7)).isoformat()}
    vol = catalog.run(session, actor, "volume", q)
    fr = {r["group"]: r for r in catalog.run(session, actor, "first-response", q)["rows"]}
    rs = {r["group"]: r for r in catalog.run(session, actor, "resolution", q)["rows"]}
    sla_rows = catalog.run(session, actor, "sla", q)["rows"]
    sat = catalog.run(session, actor, "satisfaction", q)
    t = vol["totals"]
    backlog = vol["series"][-1]["backlog"] if vol["series"] else 0

    def stat(rows: dict[str, Any], kind: str, key: str) -> str:
        part = (rows.get("all") or {}).get(kind) or {}
        return _minutes(part.get(key))

    sla = sla_rows[0] if sla_rows else {}
    compliance = sla.get("response_compliance")
    lines = [
        f"{tenant.name}: the week of {week.isoformat()} (Monday to Sunday)",
        "",
        f"Created {t['created']}, resolved {t['resolved']}, closed {t['closed']}, "
        f"reopened {t['reopened']}; backlog at the end of the week {backlog}.",
        f"First response: median {stat(fr, 'calendar', 'median')} "
        f"({stat(fr, 'business', 'median')} business), 90th percentile "
        f"{stat(fr, 'calendar', 'p90')}.",
        f"Resolution: median {stat(rs, 'calendar', 'median')} "
        f"({stat(rs, 'business', 'median')} business).",
        "First responses within target: "
        + (f"{100 * compliance:.0f}%" if compliance is not None else "—"),
        "Satisfaction: "
        + (f"{sat['average']:.1f} of 5 from {sat['count']} ratings" if sat["count"] else "none"),
        "",
        f"Reports: {base_url.rstrip('/')}/reports/volume?start={q['start']}&end={q['end']}",
    ]
    return f"Weekly support report, week of {week.isoformat()}", "\n".join(lines) + "\n"


def send_due(hub: Any, *, at: datetime | None = None) -> list[tuple[str, str]]:
    """Mail every opted-in tenant's report of the last complete week, once; returns
    (tenant slug, address) of each mail sent."""
    settings: Settings = hub.settings
    at = at or now()
    sent: list[tuple[str, str]] = []
    with hub.read_session() as s:
        tenants = [
            (t.id, t.slug) for t in s.scalars(select(Tenant)) if (t.settings or {}).get(SETTING)
        ]
    for tenant_id, slug in tenants:
        try:
            with hub.session() as s:
                tenant = s.get(Tenant, tenant_id)
                if tenant is None:
                    continue
                to = recipients(s, tenant_id, (tenant.settings[SETTING] or {}).get("recipients"))
                if not to:
                    continue
                week = week_of(at.astimezone(tenant_zone(s, tenant_id)).date()) - timedelta(days=7)
                if not claim(s, tenant_id, None, f"reports.weekly:{week.isoformat()}"):
                    continue
                _, text = body(s, tenant, week, settings.base_url)
                end = (week + timedelta(days=7)).isoformat()
                url = f"{settings.base_url.rstrip('/')}/reports/volume?start={week}&end={end}"
                for address in to:
                    rendered = render_mail(
                        s,
                        tenant_id,
                        "weekly_report",
                        {
                            "week": week.isoformat(),
                            "report": text.strip(),
                            "url": url,
                            "recipient": {"name": "", "email": address},
                        },
                    )
                    mail = OutboundMail(
                        tenant_id=tenant_id,
                        to=address,
                        subject=rendered.subject,
                        text=rendered.text,
                        html=rendered.html,
                    )
                    if not mailer.send(hub, mail).sent:
                        raise RuntimeError(f"no mail route took the report to {address}")
                    sent.append((slug, address))
        except Exception:
            # The claim is rolled back with the transaction: the next run tries again.
            log.exception("weekly report of %s not sent", slug)
    return sent
