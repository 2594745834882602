"""The rating scale of the resolution mail, chosen on /admin/email-templates: stars or thumbs,
audited, a value outside the two refused, admins only; the rating links follow it."""

from __future__ import annotations

from sqlalchemy import select

from core.models import TenantAudit
from hub import rating_links
from tests.hub.web.conftest import sign_in

PAGE = "/admin/email-templates"


def test_an_admin_chooses_thumbs_and_the_links_follow(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    tenant_id = web_org["admin"].tenant_id
    admin = sign_in(app, web_org["admin"].email)
    assert 'id="scale-stars" name="rating_scale" value="stars" checked' in admin.page(PAGE)
    with hub.session() as s:
        assert rating_links.scale(s, tenant_id) == rating_links.STARS
    r = admin.post(f"{PAGE}/rating-scale", {"rating_scale": "thumbs"})
    assert r.status_code == 303
    page = admin.page(PAGE)
    assert "Rating scale saved." in page
    assert 'id="scale-thumbs" name="rating_scale" value="thumbs" checked' in page
    with hub.session() as s:
        assert rating_links.scale(s, tenant_id) == rating_links.THUMBS
        rows = s.scalars(
            select(TenantAudit).where(
                TenantAudit.tenant_id == tenant_id, TenantAudit.action == "rating_scale.changed"
            )
        ).all()
        assert [(r.details["old"], r.details["new"]) for r in rows] == [("stars", "thumbs")]
    admin.post(f"{PAGE}/rating-scale", {"rating_scale": "moons"})
    assert "the rating scale is one of stars, thumbs" in admin.page(PAGE)
    with hub.session() as s:
        assert rating_links.scale(s, tenant_id) == rating_links.THUMBS
    agent = sign_in(app, web_org["agent"].email)
    refused = agent.post(f"{PAGE}/rating-scale", {"rating_scale": "stars"})
    assert refused.status_code in (403, 404)
    with hub.session() as s:
        assert rating_links.scale(s, tenant_id) == rating_links.THUMBS
