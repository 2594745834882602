"""The ``hub`` command line: run the product, manage tenants, users, tokens and plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.permissions import ROLES, system_actor
from core.services import identity
from core.services import plugins as plugin_service

app = typer.Typer(help="Teleops Support Hub.", no_args_is_help=True, add_completion=False)
tenant_app = typer.Typer(help="Tenants.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
plugins_app = typer.Typer(help="Plugins per tenant.", no_args_is_help=True)
channels_app = typer.Typer(
    help="Inbound keys (support addresses, workspaces) per tenant.", no_args_is_help=True
)
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(plugins_app, name="plugins")
docs_app = typer.Typer(help="Generated documentation.", no_args_is_help=True)
app.add_typer(channels_app, name="channels")
app.add_typer(docs_app, name="docs")
secrets_app = typer.Typer(help="Stored secrets and the secret keys.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
reports_app = typer.Typer(help="Report rollups.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
demo_app = typer.Typer(help="The demo tenant of the first run.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
attachments_app = typer.Typer(help="Attachments held by the malware scan.", no_args_is_help=True)
app.add_typer(attachments_app, name="attachments")
retention_app = typer.Typer(help="Data retention schedules.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
audit_app = typer.Typer(help="The tamper-evident audit trails.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
console = Console()


def _hub(*, kicks: bool = False):
    """The process's hub; ``kicks`` makes committed events ask the workers for delivery at once."""
    from hub.context import build_hub

    settings = _settings()
    _preflight(settings, migrations=False)
    hub = build_hub(settings)
    if kicks:
        from hub.worker import Kicker, create_celery

        hub.set_kicker(Kicker(create_celery(hub)))
    return hub


def _settings():
    """The settings from the environment; a bad value is one line naming the variable."""
    from pydantic import ValidationError

    from hub.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "HUB_" + str(err["loc"][0]).upper() if err.get("loc") else "a HUB_ setting"
        _operator_error(f"{name}: {err.get('msg', 'invalid value')}")


def _operator_error(message: str) -> None:
    """One line on stderr and exit 2: no traceback for what an operator can fix."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


def _preflight(settings, **checks) -> None:
    """The start-up checks of ``hub.check`` (data directory, database, migrations, ports)."""
    from hub.check import OperatorError, preflight

    try:
        preflight(settings, **checks)
    except OperatorError as exc:
        _operator_error(str(exc))


def _metrics_port(settings) -> tuple[tuple[str, str, int], ...]:
    if not settings.metrics_port:
        return ()
    return (("HUB_METRICS_PORT", settings.metrics_host, settings.metrics_port),)


def _serve_metrics(settings, hub=None) -> None:
    """The metrics port (HUB_METRICS_PORT), in the process that supervises the others."""
    if settings.metrics_port:
        from hub import metrics

        metrics.serve_port(settings.metrics_host, settings.metrics_port, hub)


def _migrate() -> None:
    from hub.check import OperatorError
    from hub.health import describe_error
    from hub.migrate import upgrade

    settings = _settings()
    _preflight(settings, migrations=False)
    try:
        upgrade(settings.resolved_database_url)
    except OperatorError as exc:
        _operator_error(str(exc))
    except Exception as exc:
        _operator_error(f"migrating the database failed: {describe_error(exc)}")
    _backfill_report_rollups()


def _backfill_report_rollups() -> None:
    """After an upgrade from before the report rollups: build them for tickets they do not know
    (once; ``hub reports rebuild`` recomputes on demand)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from core.reports import rollups

    engine = create_engine(_settings().resolved_database_url)
    try:
        with Session(engine) as s:
            missing = rollups.tenants_missing_facts(s)
    finally:
        engine.dispose()
    if not missing:
        return
    hub = _hub()
    for tenant_id in missing:
        with hub.session() as s:
            count = rollups.rebuild(s, tenant_id)
        console.print(f"report rollups built for {count} tickets of tenant {tenant_id}")


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Apply every database migration."""
    _migrate()
    console.print("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
) -> None:
    """Run the HTTP API and web console."""
    from hub import serve as serving

    settings = _settings()
    bind = host or settings.host
    _check_key(settings, bind)
    _preflight(
        settings, ports=(("HUB_PORT", bind, port or settings.port), *_metrics_port(settings))
    )
    _serve_metrics(settings)
    serving.run(bind, port or settings.port, workers=workers)


def _check_key(settings, host: str) -> None:
    """Start-up check of ``serve`` and ``run``: no public development key beyond loopback."""
    from hub.serve import UnsafeSecretKey, check_secret_key

    try:
        warning = check_secret_key(settings, host)
    except UnsafeSecretKey as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    else:
        if warning:
            console.print(f"[yellow]warning:[/yellow] {warning}", soft_wrap=True)


QUEUES_HELP = (
    "work to consume, comma-separated: delivery, automation, intake "
    "(queues hub.delivery, hub.automation, hub.intake); all of them by default"
)


@app.command()
def worker(
    beat: Annotated[bool, typer.Option(help="also run the beat scheduler")] = False,
    concurrency: Annotated[int, typer.Option(help="worker threads")] = 2,
    loglevel: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
    queues: Annotated[str, typer.Option(help=QUEUES_HELP)] = "",
) -> None:
    """Run a Celery worker (outbox delivery, periodic tasks)."""
    from hub.worker import queue_names, run_worker

    try:
        queue_names(queues)
    except ValueError as exc:
        _fail(str(exc))
    settings = _settings()
    _preflight(settings, ports=_metrics_port(settings))
    hub = _hub()
    _serve_metrics(settings, hub)
    run_worker(
        hub, beat=beat, concurrency=concurrency, loglevel=loglevel.upper(), queues=queues or None
    )


@app.command()
def smtp(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    processes: Annotated[
        int, typer.Option(min=1, max=64, help="server processes sharing the port (SO_REUSEPORT)")
    ] = 1,
) -> None:
    """Run the SMTP intake server alone, in the foreground."""
    if host:
        os.environ["HUB_SMTP_HOST"] = host
    if port:
        os.environ["HUB_SMTP_PORT"] = str(port)
    settings = _settings()
    smtp_port = ("HUB_SMTP_PORT", settings.smtp_host, settings.smtp_port)
    _preflight(settings, ports=(smtp_port, *_metrics_port(settings)))
    _serve_metrics(settings)
    if processes > 1:
        from hub.serve import supervise

        os.environ["HUB_SMTP_PROCESSES"] = str(processes)  # read by each process's settings
        supervise(_smtp_process, processes, name="hub-smtp")
        return
    _smtp_process()


def _smtp_process() -> None:
    """One SMTP intake process: serves until SIGINT or SIGTERM, then finishes what it holds."""
    hub = _hub(kicks=True)
    services = [
        s
        for group in hub.pm.hook.hub_background_services(hub=hub)
        for s in group or ()
        if s.name == "smtp"
    ]
    if not services:
        _fail("no SMTP service: is the email plugin installed?")
    service = services[0]
    service.start()
    shared = f", process {os.getpid()}" if hub.settings.smtp_processes > 1 else ""
    console.print(
        f"SMTP intake listening on {hub.settings.smtp_host}:{hub.settings.smtp_port}"
        f"{shared} (Ctrl-C stops)"
    )
    done = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        done.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        service.stop()


@app.command()
def run(queues: Annotated[str, typer.Option(help=QUEUES_HELP)] = "") -> None:
    """Migrate, create a demo tenant on an empty database, then run API, worker+beat and SMTP."""
    import uvicorn

    from hub.demo import saved_logins, seed_if_empty

    settings = _settings()
    from hub import log_config

    # Every process logs (HUB_LOG_LEVEL, INFO by default): the access line of each request,
    # each inbound message and delivery, after the banner.
    log_config.configure(settings.log_format, settings.log_level)
    _check_key(settings, settings.host)
    _preflight(settings, database=False, ports=(("HUB_PORT", settings.host, settings.port),))
    _migrate()
    hub = _hub(kicks=True)
    first_run = bool(seed_if_empty(hub))
    logins = saved_logins(hub)
    settings = hub.settings
    # The worker logs warnings only here: its per-task lines would bury the banner.
    from hub.worker import queue_names

    try:
        queue_names(queues)
    except ValueError as exc:
        _fail(str(exc))
    worker_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "worker",
            "--beat",
            "--loglevel",
            "WARNING",
            *(["--queues", queues] if queues else []),
        ]
    )
    services = [s for group in hub.pm.hook.hub_background_services(hub=hub) for s in group or ()]
    started = []
    for service in services:
        try:
            service.start()
            started.append(service)
        except OSError as exc:
            console.print(f"[yellow]{service.name} not started: {exc}[/yellow]")
    _banner(settings, started, logins, first_run, scanning=hub.scanning)
    try:
        uvicorn.run(
            "hub.asgi:app",
            host=settings.host,
            port=settings.port,
            log_level="warning",
            log_config=None,  # the hub's structured logs (hub.log_config)
        )
    finally:
        for service in started:
            service.stop()
        worker_proc.send_signal(signal.SIGTERM)
        try:
            worker_proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker_proc.kill()
        console.print("stopped")


def _banner(settings, services, logins, first_run: bool = False, *, scanning: str = "") -> None:
    from hub.demo import DEMO_SUPPORT_ADDRESS

    console.rule("Teleops Support Hub")
    console.print(
        f"Web console and API: [bold]{settings.base_url}/[/bold]  "
        f"(OpenAPI: {settings.base_url}/docs)"
    )
    for service in services:
        console.print(f"{service.name}: {service.describe}")
    console.print(f"Database: {settings.resolved_database_url}")
    console.print(f"Malware scanning of attachments: {scanning or 'off'}", soft_wrap=True)
    if logins:
        if first_run:
            console.print(
                "A demo tenant 'demo' was created with sample tickets, articles, macros, SLA "
                "policies and a rule."
            )
        _print_logins(logins)
        if any(service.name == "smtp" for service in services):
            console.print(
                f"Mail to {DEMO_SUPPORT_ADDRESS} on {settings.smtp_host}:"
                f"{settings.smtp_port} becomes a ticket of the demo tenant.",
                soft_wrap=True,
            )
    console.print("Ctrl-C stops everything.")


def _print_logins(logins) -> None:
    console.print("Demo logins (tenant 'demo'; again any time with `hub demo logins`):")
    for login in logins:
        console.print(
            f"  {login.role:<9} {login.email:<22} password {login.password}", soft_wrap=True
        )
        console.print(f"            API token {login.token}", soft_wrap=True)


@demo_app.command("logins")
def demo_logins() -> None:
    """Print the demo tenant's logins (kept in the data directory, readable by its owner)."""
    from hub.demo import logins_path, saved_logins

    hub = _hub()
    logins = saved_logins(hub)
    if not logins:
        _fail(
            f"no demo logins in {logins_path(hub)} (the demo is made by `hub run` on an empty "
            "database)"
        )
    _print_logins(logins)


@tenant_app.command("create")
def tenant_create(slug: str, name: Annotated[str, typer.Option(help="display name")] = "") -> None:
    """Create a tenant."""
    hub = _hub()
    try:
        with hub.session() as s:
            tenant = identity.create_tenant(s, slug=slug, name=name or slug)
            console.print(f"tenant {tenant.slug} created ({tenant.id})")
    except Exception as exc:
        _fail(str(exc))


def _tenants(s, slug: str | None) -> list[tuple[object, str]]:
    """(id, slug) of one tenant or every tenant, by slug."""
    from sqlalchemy import select

    from core.models import Tenant

    stmt = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    found = [(tid, tslug) for tid, tslug in s.execute(stmt).all()]
    if slug and not found:
        _fail(f"no tenant {slug!r}")
    return found


@audit_app.command("seal")
def audit_seal(
    tenant: Annotated[str | None, typer.Option(help="tenant slug (default: every tenant)")] = None,
) -> None:
    """Link the audit rows not yet sealed into their tenant's chain now (the built-in task does
    it every minute)."""
    from core.audit_chain import seal_all

    hub = _hub()
    with hub.session() as s:
        ids: list = [tid for tid, _ in _tenants(s, tenant)] if tenant else [None]
        total = sum(seal_all(s, tenant_id=tid) for tid in ids)
    console.print(f"sealed {total} audit rows")


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="tenant slug (default: every tenant)")] = None,
) -> None:
    """Check each tenant's audit chains; report the first row changed, removed or inserted out
    of order (exit 1), and how many rows wait unsealed."""
    from core.audit_chain import CHECKPOINT_INFO, verify

    hub = _hub()
    broken = False
    keys = hub.keyring.derive_all(CHECKPOINT_INFO)
    with hub.read_session() as s:
        for tid, slug in _tenants(s, tenant):
            for rep in verify(s, tid, keys):  # type: ignore[arg-type]
                state = "ok" if rep.ok else f"BROKEN: {rep.finding.message}"  # type: ignore[union-attr]
                broken = broken or not rep.ok
                console.print(
                    f"{slug} {rep.chain}: {rep.sealed} sealed, {rep.unsealed} unsealed, "
                    f"{rep.pruned} pruned: {state}",
                    highlight=False,
                    soft_wrap=True,
                )
    if broken:
        raise typer.Exit(1)


@reports_app.command("rebuild")
def reports_rebuild(
    tenant: Annotated[str | None, typer.Option(help="tenant slug (default: every tenant)")] = None,
) -> None:
    """Recompute the report rollups exactly from the tickets, one transaction per tenant."""
    from sqlalchemy import select

    from core.models import Tenant
    from core.reports import rollups

    hub = _hub()
    with hub.read_session() as s:
        stmt = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
        if tenant:
            stmt = stmt.where(Tenant.slug == tenant)
        found = s.execute(stmt).all()
    if tenant and not found:
        _fail(f"no tenant {tenant!r}")
    for tenant_id, slug in found:
        with hub.session() as s:
            count = rollups.rebuild(s, tenant_id)
        console.print(f"{slug}: {count} tickets")


@retention_app.command("run")
def retention_run(
    tenant: Annotated[str | None, typer.Option(help="tenant slug (default: every tenant)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would go")] = False,
) -> None:
    """Run each tenant's retention schedule now (resuming a run left unfinished), or count."""
    from sqlalchemy import select

    from core.models import Tenant
    from hub import privacy

    hub = _hub()
    with hub.read_session() as s:
        stmt = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
        if tenant:
            stmt = stmt.where(Tenant.slug == tenant)
        found = s.execute(stmt).all()
    if tenant and not found:
        _fail(f"no tenant {tenant!r}")
    for tenant_id, slug in found:
        run_id = privacy.run_retention(hub, tenant_id, dry_run=dry_run, trigger="cli")
        run = next(r for r in privacy.runs(hub, tenant_id) if r["id"] == run_id)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run["counts"].items())) or "nothing"
        notes = "; ".join(run["notes"].values())
        verb = "would remove" if dry_run else "removed"
        console.print(f"{slug}: {verb} {counts}" + (f" ({notes})" if notes else ""))


@reports_app.command("timezone")
def reports_timezone(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Berlin")],
) -> None:
    """Set the time zone a tenant's report days are counted in, and rebuild its rollups."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sqlalchemy import select

    from core.models import Tenant
    from core.reports import rollups

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"{zone!r} is not a known IANA time zone")
    hub = _hub()
    with hub.session() as s:
        row = s.scalar(select(Tenant).where(Tenant.slug == tenant))
        if row is None:
            _fail(f"no tenant {tenant!r}")
        assert row is not None
        row.settings = {**(row.settings or {}), "timezone": zone}
        tenant_id = row.id
    with hub.session() as s:
        count = rollups.rebuild(s, tenant_id)
    console.print(f"{tenant}: reports in {zone}; {count} tickets rebuilt")


@reports_app.command("weekly")
def reports_weekly(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    to: Annotated[str, typer.Option(help="comma-separated addresses of managers or admins")] = "",
) -> None:
    """Choose who gets the tenant's weekly report mail (empty: nobody)."""
    from sqlalchemy import select

    from core.models import Tenant
    from hub.report_mail import SETTING, recipients

    hub = _hub()
    wanted = [a.strip() for a in to.split(",") if a.strip()]
    with hub.session() as s:
        row = s.scalar(select(Tenant).where(Tenant.slug == tenant))
        if row is None:
            _fail(f"no tenant {tenant!r}")
        assert row is not None
        found = recipients(s, row.id, wanted)
        missing = sorted({a.lower() for a in wanted} - {a.lower() for a in found})
        if missing:
            _fail(f"not managers or admins of {tenant}: {', '.join(missing)}")
        row.settings = {**(row.settings or {}), SETTING: {"recipients": found}}
    console.print(f"{tenant}: weekly report to {', '.join(found) or 'nobody'}")


@user_app.command("create")
def user_create(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    email: Annotated[str, typer.Option(help="email address")],
    role: Annotated[str, typer.Option(help="|".join(ROLES))] = "end_user",
    password: Annotated[str | None, typer.Option(help="password for the web console")] = None,
    name: Annotated[str, typer.Option(help="full name")] = "",
) -> None:
    """Create a user (or give an existing one a role) in a tenant."""
    if role not in ROLES:
        _fail(f"role must be one of {', '.join(ROLES)}")
    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            user = identity.ensure_user(s, email=email, full_name=name, password=password)
            identity.ensure_member(s, t.id, user, role)
            console.print(f"user {user.email} is {role} in {t.slug} (id {user.id})")
    except Exception as exc:
        _fail(str(exc))


@user_app.command("reset-two-factor")
def user_reset_two_factor(email: Annotated[str, typer.Option(help="email address")]) -> None:
    """Turn off someone's two-factor (lost device and recovery codes); audited. Check who is
    asking first: this is the account-recovery path."""
    from core.services import two_factor

    hub = _hub()
    try:
        with hub.session() as s:
            user = identity.user_by_email(s, email)
            if user is None:
                _fail(f"no user {email}")
            done = two_factor.reset(s, user)  # type: ignore[arg-type]
            console.print(
                f"two-factor is off for {email}" if done else f"{email} had no two-factor"
            )
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@user_app.command("invite")
def user_invite(
    email: str,
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    role: Annotated[str, typer.Option(help="|".join(ROLES))] = "agent",
) -> None:
    """Invite a person to a tenant with a role: the invitation mail goes out through the
    tenant's relay or the system relay; without either, the link is printed to pass on."""
    from core.services import invitations
    from hub import auth_links

    if role not in ROLES:
        _fail(f"role must be one of {', '.join(ROLES)}")
    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            tenant_id, tenant_name = t.id, t.name
            issued = invitations.invite(
                s,
                system_actor(tenant_id),
                email=email,
                role=role,
                ttl=auth_links.invitation_ttl(hub, s, tenant_id),
            )
            to, expires = issued.link.email, issued.link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    except Exception as exc:
        _fail(str(exc))
    url = auth_links.invitation_url(hub, issued.token)
    delivery = auth_links.send_invitation(
        hub,
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        inviter="The administrator",
        email=to,
        role=role,
        url=url,
        expires=expires,
    )
    if delivery.sent:
        console.print(f"invitation sent to {to} (expires {expires})")
    else:
        console.print(f"no mail could be sent; give {to} this link (expires {expires}):")
        print(url)


@user_app.command("deactivate")
def user_deactivate(
    email: str,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="tenant slug: deactivate the membership there only; omitted: the account"
        ),
    ] = None,
    reassign_to: Annotated[
        str | None, typer.Option(help="email of an agent or admin who takes the open tickets")
    ] = None,
) -> None:
    """Deactivate a person: in one tenant (--tenant), or their whole account everywhere.

    Their sessions and tokens stop working at once and they leave the assignment rotation; open
    tickets are unassigned, or reassigned to --reassign-to (with --tenant)."""
    from core.services import offboarding

    hub = _hub()
    try:
        with hub.session() as s:
            user = _user(s, email)
            if tenant is None:
                if reassign_to:
                    _fail("--reassign-to needs --tenant")
                concerned = offboarding.deactivate_account(s, user)
                console.print(f"{user.email} is deactivated everywhere ({len(concerned)} tenants)")
                return
            t = identity.tenant_by_slug(s, tenant)
            target = _user(s, reassign_to).id if reassign_to else None
            done = offboarding.deactivate(s, system_actor(t.id), user.id, reassign_to=target)
            console.print(
                f"{user.email} is deactivated in {t.slug}; {done.tickets} open tickets "
                f"{'reassigned' if target else 'unassigned'}"
            )
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@user_app.command("reactivate")
def user_reactivate(
    email: str,
    tenant: Annotated[
        str | None, typer.Option(help="tenant slug: that membership; omitted: the account")
    ] = None,
) -> None:
    """Restore a deactivated person's access (in one tenant, or their account)."""
    from core.services import offboarding

    hub = _hub()
    try:
        with hub.session() as s:
            user = _user(s, email)
            if tenant is None:
                offboarding.reactivate_account(s, user)
                console.print(f"{user.email} is active again")
                return
            t = identity.tenant_by_slug(s, tenant)
            offboarding.reactivate(s, system_actor(t.id), user.id)
            console.print(f"{user.email} is active again in {t.slug}")
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@user_app.command("remove")
def user_remove(
    email: str,
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    reassign_to: Annotated[
        str | None, typer.Option(help="email of an agent or admin who takes the open tickets")
    ] = None,
) -> None:
    """Remove a person from a tenant (their account and other tenants stay)."""
    from core.services import offboarding

    hub = _hub()
    try:
        with hub.session() as s:
            user = _user(s, email)
            t = identity.tenant_by_slug(s, tenant)
            target = _user(s, reassign_to).id if reassign_to else None
            done = offboarding.remove(s, system_actor(t.id), user.id, reassign_to=target)
            console.print(
                f"{user.email} is removed from {t.slug}; {done.tickets} open tickets "
                f"{'reassigned' if target else 'unassigned'}"
            )
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


def _user(session, email: str):
    user = identity.user_by_email(session, email)
    if user is None:
        _fail(f"no user {email}")
    return user


@token_app.command("create")
def token_create(
    tenant: Annotated[str, typer.Option(help="tenant slug")],
    email: Annotated[str, typer.Option(help="the user's email")],
    name: Annotated[str, typer.Option(help="a label")] = "cli",
    scope: Annotated[
        str | None, typer.Option(help="read|write|admin (default: the widest the role allows)")
    ] = None,
    expires: Annotated[int | None, typer.Option(help="days until it expires")] = None,
) -> None:
    """Create an API token and print it (it is stored hashed: this is the only time it shows)."""
    from datetime import timedelta

    from core.clock import now

    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            user = _user(s, email)
            expires_at = now() + timedelta(days=expires) if expires else None
            print(
                identity.create_token(s, t.id, user, name=name, scope=scope, expires_at=expires_at)
            )
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@token_app.command("list")
def token_list(tenant: Annotated[str, typer.Option(help="tenant slug")]) -> None:
    """Every token of a tenant: id, owner, name, prefix, scope, state, expiry, last use."""
    from core.services import tokens

    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            # Tab-separated, one token a line: easy to read and to script.
            print("id\towner\tname\tprefix\tscope\tstate\texpires\tlast used")
            for row in tokens.of_tenant(s, system_actor(t.id)):
                expires = row.expires_at.strftime("%Y-%m-%d") if row.expires_at else "never"
                used = row.last_used_at.strftime("%Y-%m-%d %H:%M") if row.last_used_at else "never"
                fields = (row.id, row.email, row.name, row.prefix, row.scope, row.state)
                print("\t".join(map(str, fields)) + f"\t{expires}\t{used}")
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@token_app.command("revoke")
def token_revoke(ref: Annotated[str, typer.Argument(help="the token's id or prefix")]) -> None:
    """Revoke a token by id or prefix: the next request with it is a 401."""
    from core.services import tokens

    hub = _hub()
    try:
        with hub.session() as s:
            token = tokens.revoke_by_operator(s, ref)
            console.print(f"token {token.id} ({token.prefix}) is revoked")
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(str(exc))


@plugins_app.command("list")
def plugins_list(tenant: Annotated[str | None, typer.Option(help="tenant slug")] = None) -> None:
    """Installed plugins (and their state for a tenant)."""
    hub = _hub()
    table = Table()
    for col in ("plugin", "title", "capabilities") + (("enabled", "settings") if tenant else ()):
        table.add_column(col)
    rows = {}
    if tenant:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            rows = plugin_service.plugin_rows(s, t.id)
    for name in hub.installed():
        info = hub.infos[name]
        cells = [name, info.title, ", ".join(str(c) for c in info.capabilities)]
        if tenant:
            row = rows.get(name)
            settings = {k: v for k, v in (row.settings if row else {}).items()}
            cells += ["yes" if row and row.enabled else "no", json.dumps(settings)]
        table.add_row(*cells)
    console.print(table)


def _set_enabled(name: str, tenant: str, enabled: bool) -> None:
    from hub import plugin_admin

    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            plugin_admin.set_enabled(hub, s, system_actor(t.id), name, enabled)
        console.print(f"{name} {'enabled' if enabled else 'disabled'} for {tenant}")
    except Exception as exc:
        _fail(str(exc))


@plugins_app.command("enable")
def plugins_enable(name: str, tenant: Annotated[str, typer.Option(help="tenant slug")]) -> None:
    """Enable a plugin for a tenant."""
    _set_enabled(name, tenant, True)


@plugins_app.command("disable")
def plugins_disable(name: str, tenant: Annotated[str, typer.Option(help="tenant slug")]) -> None:
    """Disable a plugin for a tenant."""
    _set_enabled(name, tenant, False)


@plugins_app.command("configure")
def plugins_configure(
    name: str,
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE ...")],
    tenant: Annotated[str, typer.Option(help="tenant slug")],
) -> None:
    """Set plugin settings; a value that parses as JSON is taken as JSON."""
    from hub import plugin_admin

    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            _fail(f"expected KEY=VALUE, got {pair!r}")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    from hub import key_verification

    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            claims = plugin_admin.configure(hub, s, system_actor(t.id), name, values)
            tenant_name = t.name
        secret = set(hub.infos[name].secret_fields)
        shown = ", ".join(k if k not in secret else f"{k} (secret)" for k in values)
        console.print(f"{name} configured for {tenant}: {shown}")
        for note in key_verification.send_all(hub, t.id, tenant_name, claims):
            console.print(note)
    except Exception as exc:
        _fail(getattr(exc, "message", str(exc)))


@channels_app.command("list")
def channels_list(tenant: Annotated[str, typer.Option(help="tenant slug")]) -> None:
    """The inbound keys (support addresses, Slack workspaces, Teams apps) a tenant claims."""
    from core.services import channel_keys

    hub = _hub()
    table = Table()
    for col in ("plugin", "key", "state"):
        table.add_column(col)
    with hub.session() as s:
        t = identity.tenant_by_slug(s, tenant)
        for name in hub.installed():
            for c in channel_keys.claims_of(s, t.id, name):
                state = "verified" if c.verified else "contested" if c.contested else "pending"
                table.add_row(name, c.key, state)
    console.print(table)


@channels_app.command("verify")
def channels_verify(
    plugin: str, key: str, tenant: Annotated[str, typer.Option(help="tenant slug")]
) -> None:
    """Verify a tenant's claim of a key on the operator's word (no verification mail).

    For hubs without a system relay, and to settle a contested address. Refused when another
    tenant already owns the key."""
    from core.services import channel_keys

    hub = _hub()
    try:
        with hub.session() as s:
            t = identity.tenant_by_slug(s, tenant)
            channel_keys.mark_verified(
                s, t.id, plugin, key.strip().lower() if plugin == "email" else key.strip()
            )
        console.print(f"{key} verified for {tenant}")
    except Exception as exc:
        _fail(getattr(exc, "message", str(exc)))


@docs_app.command("hooks")
def docs_hooks(
    check: Annotated[bool, typer.Option(help="only report whether it is up to date")] = False,
) -> None:
    """Write the hook reference of docs/plugins.md from the docstrings in core/hookspecs.py."""
    from hub import docs_hooks as reference

    current = reference.DOC.read_text()
    if reference.updated(current) == current:
        console.print("docs/plugins.md: the hook reference is up to date")
        return
    if check:
        console.print("docs/plugins.md: the hook reference is out of date (run `hub docs hooks`)")
        raise typer.Exit(1)
    reference.write()
    console.print("docs/plugins.md: hook reference written")


@app.command()
def check() -> None:
    """Print every setting's effective value (secrets masked) and test each dependency."""
    from hub.check import dependency_checks, effective_settings

    settings = _settings()
    table = Table(title="Settings")
    for col in ("variable", "value", "source"):
        table.add_column(col)
    for row in effective_settings(settings):
        table.add_row(*row)
    console.print(table, soft_wrap=True)
    failed = False
    for name, outcome in dependency_checks(settings):
        ok = outcome == "ok" or outcome.startswith("skipped")
        failed = failed or not ok
        mark = "[green]ok[/green]" if outcome == "ok" else f"[red]{outcome}[/red]"
        console.print(f"{name}: {mark if not ok or outcome == 'ok' else outcome}", soft_wrap=True)
    from hub import tracing

    for name, outcome in tracing.status(settings):
        console.print(f"{name}: {outcome}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret under the newest key (the first of HUB_SECRET_KEYS).

    Add the new key in front of HUB_SECRET_KEYS, restart, run this, then remove the old key."""
    hub = _hub()
    try:
        with hub.session() as s:
            result = plugin_service.rotate_secrets(s, hub.keyring)
    except Exception as exc:
        from hub.health import describe_error

        _fail(describe_error(exc))
    console.print(f"{result.rotated} stored secret(s) re-encrypted under the newest key")
    if result.failed:
        err = Console(stderr=True)
        for tenant_id, plugin in result.failed:
            err.print(
                f"[red]error:[/red] the {plugin} secrets of tenant {tenant_id} decrypt with no "
                "key of HUB_SECRET_KEYS: left as they are",
                soft_wrap=True,
            )
        raise typer.Exit(1)


def main() -> None:
    app()


@attachments_app.command("rescan")
def attachments_rescan() -> None:
    """Scan the files held unscanned while the scanner was down (clean ones become
    downloadable; infected ones stay quarantined). Exit 1 when some are still unscanned."""
    from hub.builtin_scan import run_rescan

    done = run_rescan(_hub())
    console.print(
        f"{done.clean} clean, {done.infected} infected (quarantined), "
        f"{done.still_unscanned} still unscanned"
    )
    if done.still_unscanned:
        raise typer.Exit(1)


search_app = typer.Typer(help="The full-text search index.", no_args_is_help=True)
app.add_typer(search_app, name="search")


@search_app.command("rebuild")
def search_rebuild(
    tenant: Annotated[str | None, typer.Option(help="tenant slug (default: every tenant)")] = None,
) -> None:
    """Rebuild the search index from the tickets and comments, one transaction per tenant."""
    from core import search

    hub = _hub()
    with hub.read_session() as s:
        found = _tenants(s, tenant)
    for tenant_id, slug in found:
        with hub.session() as s:
            count = search.rebuild(s, tenant_id)  # type: ignore[arg-type]
        console.print(f"{slug}: {count} tickets")


if __name__ == "__main__":
    main()
