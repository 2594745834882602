"""A person's language and time zone, a tenant's default language, and the pair a mail's
recipient reads in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now
from core.i18n import (
    DEFAULT_TIME_ZONE,
    check_locale,
    check_time_zone,
    effective_locale,
    safe_zone_name,
)
from core.i18n.models import PersonLocale
from core.models import Tenant, User
from core.permissions import Actor, require_admin
from core.services import audit

TENANT_SETTING = "locale"
TENANT_LOCALE_CHANGED = "tenant.locale_changed"


@dataclass(frozen=True)
class Prefs:
    """What a person chose (None: not chosen) and what their browser last said."""

    locale: str | None = None
    time_zone: str | None = None
    browser_locale: str | None = None
    browser_time_zone: str | None = None


def prefs(session: Session, user_id: int | None) -> Prefs:
    """A person's stored choices (all None for someone who never chose nor signed in)."""
    row = session.get(PersonLocale, user_id) if user_id is not None else None
    if row is None:
        return Prefs()
    return Prefs(row.locale, row.time_zone, row.browser_locale, row.browser_time_zone)


def _row(session: Session, user_id: int) -> PersonLocale:
    row = session.get(PersonLocale, user_id)
    if row is None:
        row = PersonLocale(user_id=user_id)
        session.add(row)
    return row


def save_prefs(session: Session, actor: Actor, *, locale: str, time_zone: str) -> Prefs:
    """The signed-in person's language and zone; an empty value means "as my browser says".
    A locale outside the supported ones or a zone ``zoneinfo`` does not know is refused (422
    naming the field)."""
    chosen_locale = check_locale(locale) if locale.strip() else None
    chosen_zone = check_time_zone(time_zone) if time_zone.strip() else None
    if actor.user_id is None:
        return Prefs(chosen_locale, chosen_zone)
    row = _row(session, actor.user_id)
    row.locale, row.time_zone, row.updated_at = chosen_locale, chosen_zone, now()
    session.flush()
    return prefs(session, actor.user_id)


def record_browser(session: Session, actor: Actor, *, time_zone: str, locale: str | None) -> bool:
    """Remember what the browser says (its zone, its negotiated language) for the mail the
    person gets; True when something changed. A zone ``zoneinfo`` does not know is refused."""
    zone_name = check_time_zone(time_zone)
    if actor.user_id is None:
        return False
    row = _row(session, actor.user_id)
    changed = (row.browser_time_zone, row.browser_locale) != (
        zone_name,
        locale or row.browser_locale,
    )
    if changed:
        row.browser_time_zone = zone_name
        row.browser_locale = locale or row.browser_locale
        row.updated_at = now()
        session.flush()
    return changed


def tenant_locale(session: Session, tenant_id: uuid.UUID) -> str | None:
    """The tenant's default language for its people (None: each browser's)."""
    settings = session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return settings_locale(settings)


def settings_locale(settings: dict | None) -> str | None:
    """The default language kept in a tenant's settings (None when unset or not supported)."""
    value = (settings or {}).get(TENANT_SETTING)
    return value if isinstance(value, str) and value else None


def set_tenant_locale(session: Session, actor: Actor, locale: str, *, ip: str = "") -> str | None:
    """An admin sets the tenant's default language ("" : follow each browser); audited."""
    require_admin(actor, "set the organisation's language")
    value = check_locale(locale, field="locale") if locale.strip() else None
    tenant = session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    before = settings_locale(tenant.settings)
    if before != value:
        tenant.settings = {**(tenant.settings or {}), TENANT_SETTING: value}
        audit.by_actor(
            session, actor, TENANT_LOCALE_CHANGED, ip=ip, details={"from": before, "to": value}
        )
        session.flush()
    return value


@dataclass(frozen=True)
class Reader:
    """The locale and zone someone reads a page or a mail in."""

    locale: str
    time_zone: str


def reader(
    person: Prefs,
    tenant_default: str | None,
    *,
    browser_locale: str | None = None,
    browser_zone: str | None = None,
) -> Reader:
    """Own choice first, then the tenant's default language (zones: the browser's), then what
    this request's browser says, then what the browser said last time, then English and UTC."""
    loc = effective_locale(person.locale, tenant_default, browser_locale or person.browser_locale)
    tz = (
        person.time_zone
        or safe_zone_name(browser_zone)
        or safe_zone_name(person.browser_time_zone)
        or DEFAULT_TIME_ZONE
    )
    return Reader(loc, tz)


def recipient(session: Session, tenant_id: uuid.UUID, email: str | None) -> Reader:
    """The locale and zone a mail to ``email`` is written in: the person's, else the tenant's
    default language and UTC (a requester who never signed in)."""
    default = tenant_locale(session, tenant_id)
    person = Prefs()
    if email:
        user_id = session.scalar(select(User.id).where(User.email == email.strip().lower()))
        person = prefs(session, user_id)
    return reader(person, default)
