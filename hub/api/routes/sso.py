"""A tenant's access policy through the API: its single sign-on provider
(``/api/v1/admin/sso/``, the client secret write-only) and its two-factor requirement
(``/api/v1/admin/two-factor/``). Admins only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from core.services import security
from hub import sso
from hub.api.deps import ActorDep, HubDep, SessionDep, client_ip
from hub.api.schemas.access import (
    SsoPublic,
    SsoUpdate,
    TwoFactorPolicy,
    TwoFactorPolicyPublic,
)
from hub.context import Hub

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _public(hub: Hub, found: security.SsoView, slug: str) -> SsoPublic:
    return SsoPublic(
        enabled=found.enabled,
        issuer=found.issuer,
        client_id=found.client_id,
        client_secret_set=found.client_secret_set,
        label=found.label,
        allowed_domains=found.allowed_domains,
        default_role=found.default_role,
        require_sso_for_staff=found.require_sso_for_staff,
        redirect_uri=sso.redirect_uri(hub),
        login_url=hub.settings.base_url.rstrip("/") + f"/login?org={slug}",
    )


def _slug(session: SessionDep, actor: ActorDep) -> str:
    from core.models import Tenant

    tenant = session.get(Tenant, actor.tenant_id)
    return tenant.slug if tenant is not None else ""


@router.get("/sso/")
def get_sso(actor: ActorDep, session: SessionDep, hub: HubDep) -> SsoPublic:
    """The SSO settings; the client secret only as ``client_secret_set``."""
    return _public(hub, security.sso_settings(session, actor), _slug(session, actor))


@router.put("/sso/")
def put_sso(
    body: SsoUpdate, request: Request, actor: ActorDep, session: SessionDep, hub: HubDep
) -> SsoPublic:
    """Change the SSO settings (absent fields are kept; audited without the secret). The
    issuer must be https and a host the egress policy lets the hub reach."""
    values = body.model_dump(exclude_unset=True)
    security.sso_settings(session, actor)  # admins only, before the issuer is looked up
    if values.get("issuer"):
        sso.check_issuer(hub.egress, str(values["issuer"]).strip())
    found = security.update_sso(session, actor, hub.keyring, values, ip=client_ip(request))
    session.commit()
    return _public(hub, found, _slug(session, actor))


@router.get("/two-factor/")
def get_two_factor(actor: ActorDep, session: SessionDep) -> TwoFactorPolicyPublic:
    """Whether agents and admins must use two-factor."""
    return TwoFactorPolicyPublic(required_for_staff=security.two_factor_required(session, actor))


@router.put("/two-factor/")
def put_two_factor(
    body: TwoFactorPolicy, request: Request, actor: ActorDep, session: SessionDep
) -> TwoFactorPolicyPublic:
    """Require (or not) two-factor of agents and admins; when it starts, the sessions of those
    without it end."""
    ended = security.set_two_factor_required(
        session, actor, body.required_for_staff, ip=client_ip(request)
    )
    session.commit()
    return TwoFactorPolicyPublic(required_for_staff=body.required_for_staff, sessions_ended=ended)
