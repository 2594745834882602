"""Organisations of a tenant and who belongs to them.

A requester joins the organisation of their address's domain (or of a parent domain:
``eu.acme.com`` joins ``acme.com``) when they become a member of the tenant by any channel
(``join_by_address``, called by ``identity.ensure_member`` and the intake's senders), and when a
domain is added, the tenant's existing end users of that domain join it in one
``INSERT ... SELECT`` (no rows held in memory). Staff may set anyone's organisation by hand.
Organisation changes are audited in ``tenant_audit``."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.models import Membership, User
from core.organisations.models import Organisation, OrganisationDomain, OrganisationPerson
from core.permissions import Actor, require_admin, require_reader, require_staff
from core.services import audit

ORG_CREATED, ORG_UPDATED, ORG_DELETED = (
    "organisation.created",
    "organisation.updated",
    "organisation.deleted",
)
PERSON_ORG_CHANGED = "person.organisation_changed"
MAX_DOMAINS = 50
PEERS_LIMIT = 5000

# Addresses of these domains belong to individuals, not to a company: never an organisation's.
FREE_MAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
        "hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com",
        "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me",
        "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com", "yandex.ru",
        "mail.ru", "zoho.com", "qq.com", "163.com", "126.com", "fastmail.com", "tutanota.com",
        "hey.com", "orange.fr", "free.fr", "t-online.de", "libero.it", "seznam.cz",
    }
)  # fmt: skip
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class OrgSummary:
    """An organisation as lists show it."""

    id: int
    name: str
    notes: str
    domains: list[str]
    people: int


def clean_domain(value: str) -> str:
    """A domain as stored: lower case, no ``@``, no trailing dot; ``Invalid`` (field
    ``domains``) for something that is not a domain or is a free-mail provider's."""
    domain = (value or "").strip().lower().lstrip("@").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        domain = "!"
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(lbl) for lbl in labels):
        raise Invalid(f"{value!r} is not an email domain (like example.com)", field="domains")
    if domain in FREE_MAIL:
        raise Invalid(
            f"{domain} is a free-mail provider: its addresses belong to individuals, "
            "not to one organisation",
            field="domains",
        )
    return domain


def _clean_domains(values: list[str]) -> list[str]:
    if len(values) > MAX_DOMAINS:
        raise Invalid(f"at most {MAX_DOMAINS} domains", field="domains")
    out: list[str] = []
    for value in values:
        if not value.strip():
            continue
        domain = clean_domain(value)
        if domain not in out:
            out.append(domain)
    return out


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("name is required", field="name")
    if len(name) > 200:
        raise Invalid("name must be at most 200 characters", field="name")
    return name


def get(session: Session, tenant_id: uuid.UUID, org_id: int) -> Organisation:
    """The tenant's organisation; ``NotFound`` for another tenant's or none."""
    org = session.scalar(
        select(Organisation).where(Organisation.id == org_id, Organisation.tenant_id == tenant_id)
    )
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


def domains_of(session: Session, tenant_id: uuid.UUID, org_ids: list[int]) -> dict[int, list[str]]:
    """The domains of these organisations (one query)."""
    out: dict[int, list[str]] = {i: [] for i in org_ids}
    if org_ids:
        for org_id, domain in session.execute(
            select(OrganisationDomain.organisation_id, OrganisationDomain.domain)
            .where(
                OrganisationDomain.tenant_id == tenant_id,
                OrganisationDomain.organisation_id.in_(org_ids),
            )
            .order_by(OrganisationDomain.domain)
        ):
            out[org_id].append(domain)
    return out


def people_counts(session: Session, tenant_id: uuid.UUID, org_ids: list[int]) -> dict[int, int]:
    """How many people each organisation has (one query)."""
    out = dict.fromkeys(org_ids, 0)
    if org_ids:
        for org_id, n in session.execute(
            select(OrganisationPerson.organisation_id, func.count())
            .where(
                OrganisationPerson.tenant_id == tenant_id,
                OrganisationPerson.organisation_id.in_(org_ids),
            )
            .group_by(OrganisationPerson.organisation_id)
        ):
            out[org_id] = int(n)
    return out


def summary(session: Session, tenant_id: uuid.UUID, org: Organisation) -> OrgSummary:
    return OrgSummary(
        org.id,
        org.name,
        org.notes,
        domains_of(session, tenant_id, [org.id])[org.id],
        people_counts(session, tenant_id, [org.id])[org.id],
    )


def _cursor(name: str, org_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([name, org_id]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, int]:
    try:
        name, org_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return str(name), int(org_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Invalid("cursor is not valid", field="cursor") from exc


def list_organisations(
    session: Session,
    actor: Actor,
    *,
    q: str = "",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[OrgSummary], str | None]:
    """One page of the tenant's organisations by name (``q``: a part of the name), keyset
    paged; three queries whatever the page."""
    require_reader(actor, "organisations")
    if not 1 <= limit <= 200:
        raise Invalid("limit must be between 1 and 200", field="limit")
    stmt = select(Organisation).where(Organisation.tenant_id == actor.tenant_id)
    if q.strip():
        term = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(Organisation.name).like(f"%{term}%", escape="\\"))
    if cursor:
        name, last = _decode(cursor)
        stmt = stmt.where(
            (Organisation.name > name) | ((Organisation.name == name) & (Organisation.id > last))
        )
    rows = list(session.scalars(stmt.order_by(Organisation.name, Organisation.id).limit(limit + 1)))
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = _cursor(rows[-1].name, rows[-1].id)
    ids = [o.id for o in rows]
    domains = domains_of(session, actor.tenant_id, ids)
    counts = people_counts(session, actor.tenant_id, ids)
    return [OrgSummary(o.id, o.name, o.notes, domains[o.id], counts[o.id]) for o in rows], nxt


def _set_domains(session: Session, org: Organisation, domains: list[str]) -> list[str]:
    """Replace the organisation's domains; returns those added. A domain of another
    organisation of the tenant: ``Conflict`` naming it."""
    taken = session.execute(
        select(OrganisationDomain.domain, Organisation.name)
        .join(Organisation, Organisation.id == OrganisationDomain.organisation_id)
        .where(
            OrganisationDomain.tenant_id == org.tenant_id,
            OrganisationDomain.domain.in_(domains),
            OrganisationDomain.organisation_id != org.id,
        )
    ).first()
    if taken is not None:
        raise Conflict(f"{taken[0]} is already a domain of {taken[1]}", field="domains")
    have = set(domains_of(session, org.tenant_id, [org.id])[org.id])
    gone = have - set(domains)
    if gone:
        session.execute(
            delete(OrganisationDomain).where(
                OrganisationDomain.organisation_id == org.id,
                OrganisationDomain.domain.in_(gone),
            )
        )
    added = [d for d in domains if d not in have]
    for domain in added:
        session.add(
            OrganisationDomain(tenant_id=org.tenant_id, organisation_id=org.id, domain=domain)
        )
    session.flush()
    return added


def join_existing(session: Session, org: Organisation, domain: str) -> int:
    """The tenant's end users of ``domain`` (or a subdomain) who belong to no organisation
    join ``org``: one ``INSERT ... SELECT``; returns how many joined."""
    address = func.lower(User.email)
    # Validated domains hold only letters, digits, dots and hyphens: nothing LIKE treats specially.
    match = address.like(f"%@{domain}") | address.like(f"%.{domain}")
    pick = (
        select(
            literal(org.tenant_id, type_=OrganisationPerson.tenant_id.type),
            Membership.user_id,
            literal(org.id, type_=OrganisationPerson.organisation_id.type),
            literal("domain"),
            literal(now(), type_=OrganisationPerson.joined_at.type),
        )
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.tenant_id == org.tenant_id,
            Membership.role == "end_user",
            match,
            ~exists().where(
                OrganisationPerson.tenant_id == org.tenant_id,
                OrganisationPerson.user_id == Membership.user_id,
            ),
        )
    )
    before = people_counts(session, org.tenant_id, [org.id])[org.id]
    session.execute(
        insert(OrganisationPerson).from_select(
            ["tenant_id", "user_id", "organisation_id", "how", "joined_at"], pick
        )
    )
    # (rowcount of INSERT ... SELECT is -1 with psycopg: count instead, on the index.)
    return people_counts(session, org.tenant_id, [org.id])[org.id] - before


def create(
    session: Session,
    actor: Actor,
    *,
    name: str,
    domains: list[str] | None = None,
    notes: str = "",
    ip: str = "",
) -> tuple[Organisation, int]:
    """A new organisation (admins); returns it and how many existing people joined it."""
    require_admin(actor, "create organisations")
    clean = _clean_domains(domains or [])
    org = Organisation(
        tenant_id=actor.tenant_id,
        name=_clean_name(name),
        notes=(notes or "")[:5000],
        created_at=now(),
        updated_at=now(),
    )
    session.add(org)
    session.flush()
    _set_domains(session, org, clean)
    joined = sum(join_existing(session, org, d) for d in clean)
    audit.by_actor(
        session,
        actor,
        ORG_CREATED,
        ip=ip,
        details={"organisation_id": org.id, "name": org.name, "domains": clean, "joined": joined},
    )
    return org, joined


def update(
    session: Session,
    actor: Actor,
    org_id: int,
    *,
    name: str | None = None,
    domains: list[str] | None = None,
    notes: str | None = None,
    ip: str = "",
) -> tuple[Organisation, int]:
    """Change an organisation (admins): the fields given; returns it and how many existing
    people joined through the domains added."""
    require_admin(actor, "change organisations")
    org = get(session, actor.tenant_id, org_id)
    changed: dict[str, Any] = {"organisation_id": org.id}
    if name is not None:
        org.name = _clean_name(name)
        changed["name"] = org.name
    if notes is not None:
        org.notes = notes[:5000]
        changed["notes"] = True
    joined = 0
    if domains is not None:
        clean = _clean_domains(domains)
        added = _set_domains(session, org, clean)
        joined = sum(join_existing(session, org, d) for d in added)
        changed["domains"] = clean
        changed["joined"] = joined
    org.updated_at = now()
    audit.by_actor(session, actor, ORG_UPDATED, ip=ip, details=changed)
    return org, joined


def remove(session: Session, actor: Actor, org_id: int, *, ip: str = "") -> None:
    """Delete an organisation (admins): its domains go and its people belong to none; their
    tickets stay."""
    require_admin(actor, "delete organisations")
    org = get(session, actor.tenant_id, org_id)
    session.execute(delete(OrganisationPerson).where(OrganisationPerson.organisation_id == org.id))
    session.execute(delete(OrganisationDomain).where(OrganisationDomain.organisation_id == org.id))
    audit.by_actor(
        session, actor, ORG_DELETED, ip=ip, details={"organisation_id": org.id, "name": org.name}
    )
    session.delete(org)
    session.flush()


def _candidates(email: str) -> list[str]:
    domain = email.rpartition("@")[2].strip().lower()
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def join_by_address(session: Session, tenant_id: uuid.UUID, user_id: int, email: str) -> int | None:
    """A new end user of the tenant joins the organisation of their address's domain (the
    longest matching one); returns its id, or None. A person already in one stays there."""
    candidates = _candidates(email)
    if not candidates:
        return None
    found = session.execute(
        select(OrganisationDomain.organisation_id, OrganisationDomain.domain).where(
            OrganisationDomain.tenant_id == tenant_id, OrganisationDomain.domain.in_(candidates)
        )
    ).all()
    if not found:
        return None
    org_id = max(found, key=lambda r: len(r[1]))[0]
    if session.get(OrganisationPerson, (tenant_id, user_id)) is not None:
        return None
    session.add(
        OrganisationPerson(
            tenant_id=tenant_id,
            user_id=user_id,
            organisation_id=org_id,
            how="domain",
            joined_at=now(),
        )
    )
    session.flush()
    return int(org_id)


def organisation_of(session: Session, tenant_id: uuid.UUID, user_id: int) -> Organisation | None:
    """The person's organisation in the tenant, or None."""
    return session.scalar(
        select(Organisation)
        .join(OrganisationPerson, OrganisationPerson.organisation_id == Organisation.id)
        .where(OrganisationPerson.tenant_id == tenant_id, OrganisationPerson.user_id == user_id)
    )


def organisations_of(
    session: Session, tenant_id: uuid.UUID, user_ids: list[int]
) -> dict[int, tuple[int, str]]:
    """(organisation id, name) of each of these people that has one (one query)."""
    if not user_ids:
        return {}
    return {
        uid: (oid, name)
        for uid, oid, name in session.execute(
            select(OrganisationPerson.user_id, Organisation.id, Organisation.name)
            .join(Organisation, Organisation.id == OrganisationPerson.organisation_id)
            .where(
                OrganisationPerson.tenant_id == tenant_id,
                OrganisationPerson.user_id.in_(user_ids),
            )
        )
    }


def set_person_organisation(
    session: Session, actor: Actor, user_id: int, org_id: int | None, *, ip: str = ""
) -> Organisation | None:
    """Staff put a member of the tenant in an organisation (None: in none), audited."""
    require_staff(actor, "change a person's organisation")
    email = session.scalar(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == actor.tenant_id, User.id == user_id)
    )
    if email is None:
        raise NotFound(f"person {user_id} not found")
    org = get(session, actor.tenant_id, org_id) if org_id is not None else None
    row = session.get(OrganisationPerson, (actor.tenant_id, user_id))
    before = row.organisation_id if row is not None else None
    if org is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(
            OrganisationPerson(
                tenant_id=actor.tenant_id,
                user_id=user_id,
                organisation_id=org.id,
                how="manual",
                joined_at=now(),
            )
        )
    else:
        row.organisation_id, row.how, row.joined_at = org.id, "manual", now()
    session.flush()
    if before != (org.id if org else None):
        audit.by_actor(
            session,
            actor,
            PERSON_ORG_CHANGED,
            ip=ip,
            target_email=email,
            details={"from": before, "to": org.id if org else None},
        )
    return org


def members_of(
    session: Session,
    tenant_id: uuid.UUID,
    org_id: int,
    *,
    limit: int = 25,
    after: int | None = None,
) -> tuple[list[Any], int | None]:
    """One page of an organisation's people by id: rows of (id, email, full_name); and the
    id to continue after (None: the last page)."""
    stmt = (
        select(User.id, User.email, User.full_name)
        .join(OrganisationPerson, OrganisationPerson.user_id == User.id)
        .where(
            OrganisationPerson.tenant_id == tenant_id, OrganisationPerson.organisation_id == org_id
        )
    )
    if after is not None:
        stmt = stmt.where(User.id > after)
    rows = list(session.execute(stmt.order_by(User.id).limit(limit + 1)).all())
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = int(rows[-1][0])
    return rows, nxt


def people_query(tenant_id: uuid.UUID, org_id: int) -> Any:
    """A subquery of the user ids of an organisation (the ticket list's ``organisation``
    filter; served by the primary key and ``ix_support_organisation_people_org``)."""
    return select(OrganisationPerson.user_id).where(
        OrganisationPerson.tenant_id == tenant_id, OrganisationPerson.organisation_id == org_id
    )


def peers(session: Session, tenant_id: uuid.UUID, user_id: int) -> list[int]:
    """``organisation_peers``: the person and everyone of their organisation (at most
    ``PEERS_LIMIT``)."""
    mine = (
        select(OrganisationPerson.organisation_id)
        .where(OrganisationPerson.tenant_id == tenant_id, OrganisationPerson.user_id == user_id)
        .scalar_subquery()
    )
    ids = list(
        session.scalars(
            select(OrganisationPerson.user_id)
            .where(
                OrganisationPerson.tenant_id == tenant_id,
                OrganisationPerson.organisation_id == mine,
            )
            .order_by(OrganisationPerson.user_id)
            .limit(PEERS_LIMIT)
        )
    )
    return ids if user_id in ids else [user_id, *ids]
