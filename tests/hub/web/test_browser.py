"""The console in a real browser (Debian's Chromium through Playwright) against a real server.

One scenario per test, each page checked with axe-core (WCAG 2.1 A and AA, 0 violations) at a
phone width and a desktop width, with screenshots written for review.
"""

from __future__ import annotations

import re

import pytest

from tests.hub.web.browser import _context, browser, check, sign_in
from tests.hub.web.conftest import PASSWORD

# A scenario drives three browsers and runs axe-core ~20 times: more than the default timeout.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
__all__ = ["browser"]  # the module-scoped Chromium fixture (tests/hub/web/browser.py)


def test_ticket_round_trip_live_and_accessible(browser, live_server, web_org, web_hub) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    agent_ctx, user_ctx = _context(browser, live_server), _context(browser, live_server)
    admin_ctx = _context(browser, live_server)
    agent, user, admin = agent_ctx.new_page(), user_ctx.new_page(), admin_ctx.new_page()
    try:
        sign_in(admin, web_org["admin"].email)
        expect(admin.locator("#notif-count")).to_be_hidden()

        user.goto("/login")
        check(user, "login")

        sign_in(agent, web_org["agent"].email)
        expect(agent).to_have_url(re.compile("/queue$"))
        check(agent, "queue-empty")

        sign_in(user, web_org["end_user"].email)
        expect(user.get_by_role("heading", name="My tickets")).to_be_visible()
        check(user, "my-tickets-empty")
        user.get_by_role("link", name="New ticket").first.click()
        check(user, "new-ticket")
        user.get_by_label("Subject").fill("VPN drops every hour")
        user.get_by_label("Description").fill("Since Monday the VPN disconnects at minute 0.")
        user.get_by_label("Category").select_option("Access")
        user.get_by_label("Priority").select_option("High")
        user.get_by_label("Attachments").set_input_files(
            files=[{"name": "vpn.log", "mimeType": "text/plain", "buffer": b"12:00 drop\n"}]
        )
        user.get_by_role("button", name="Create ticket").click()
        expect(user.get_by_role("heading", level=1)).to_contain_text("VPN drops every hour")
        expect(user.get_by_role("link", name="vpn.log")).to_be_visible()
        check(user, "ticket-requester-new")

        # The agent's queue was opened before the ticket existed: it must arrive live (SSE).
        row = agent.get_by_role("link", name=re.compile("VPN drops every hour"))
        expect(row).to_be_visible()
        expect(agent.locator("#live-announcer")).to_contain_text("New tickets")
        check(agent, "queue")
        row.click()
        expect(agent.get_by_role("heading", level=1)).to_contain_text("VPN drops every hour")
        agent.get_by_label("Message").fill("Please update the VPN client to 5.2.")
        agent.get_by_role("button", name="Send", exact=True).click()
        expect(agent.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()
        agent.get_by_label(re.compile("Internal note")).check()
        handle = web_org["admin"].email.split("@")[0]
        agent.get_by_label("Message").fill(f"Known issue, see the firewall change log. @{handle}")
        agent.get_by_role("button", name="Send", exact=True).click()
        expect(agent.locator(".msg-internal")).to_contain_text("firewall change log")
        expect(agent.locator(".msg-internal .kind")).to_have_text(re.compile("Internal note"))
        agent.get_by_label("Status", exact=True).select_option("Resolved")
        agent.get_by_role("button", name="Save changes").click()
        expect(agent.locator(".facts")).to_contain_text("Resolved")
        agent.locator("details.audit summary").click()
        check(agent, "ticket-agent")

        # The mentioned admin's page shows the notification without a reload, once the outbox
        # worker (here: a drain) delivered the notification matrix's notices.
        from hub import outbox

        outbox.drain(web_hub)
        # (Admins also hear of the new, unassigned ticket: the matrix's "agents".)
        expect(admin.locator("#notif-count")).to_have_text(re.compile(r"^\d+ unread$"))
        expect(admin.locator("#notif-panel")).to_contain_text("mentioned you on #")
        expect(admin.locator("#queue-rows")).to_contain_text("Resolved")  # changes arrive live
        check(admin, "notification-arrived")

        # The requester's page was left open: the public reply arrives without a reload.
        expect(user.get_by_text("Please update the VPN client to 5.2.")).to_be_visible()
        expect(user.locator(".facts")).to_contain_text("Resolved")  # the status, live too
        user.reload()
        expect(user.get_by_text("firewall change log")).to_have_count(0)
        expect(user.locator(".facts")).to_contain_text("Resolved")
        user.get_by_label(re.compile("5 – Excellent")).check()
        user.get_by_label(re.compile("Feedback")).fill("Quick and clear.")
        user.get_by_role("button", name="Send rating").click()
        expect(user.get_by_text("You rated this ticket")).to_be_visible()
        check(user, "ticket-requester-rated")
        user.goto("/tickets")
        expect(user.locator("table.list")).to_contain_text("Resolved")
        check(user, "my-tickets")
    finally:
        agent_ctx.close()
        user_ctx.close()
        admin_ctx.close()


def test_plugin_enabled_and_configured_for_one_tenant_only(
    browser,
    live_server,
    web_org,  # type: ignore[no-untyped-def]
    make_tenant,
    make_member,
) -> None:
    from playwright.sync_api import expect

    other_admin = make_member(make_tenant(), "admin", password=PASSWORD)
    ctx_a, ctx_b = _context(browser, live_server), _context(browser, live_server)
    a, b = ctx_a.new_page(), ctx_b.new_page()
    try:
        sign_in(a, web_org["admin"].email)
        a.goto("/admin/members")
        check(a, "admin-members")
        a.goto("/admin/audit")  # the sign-in above is its first row
        check(a, "admin-audit")
        # Keyboard only: type an actor's address into the filter and submit with Enter.
        a.locator("#f-actor").focus()
        a.keyboard.type(web_org["admin"].email)
        a.keyboard.press("Enter")
        expect(a).to_have_url(re.compile("actor="))
        expect(a.locator("table.list")).to_contain_text("signin")
        a.goto("/admin/audit?trail=ticket&ticket=abc&since=2026-13-01")  # errors by field
        expect(a.locator("#e-ticket")).to_have_text("enter a ticket number")
        check(a, "admin-audit-filtered")
        a.goto("/admin/plugins")
        card = a.locator("#plugin-webdemo")
        expect(card.locator("#state-webdemo")).to_have_text(re.compile("Disabled"))
        check(a, "admin-plugins")
        card.get_by_role("button", name="Enable Web Demo").click()
        expect(a.locator("#state-webdemo")).to_have_text(re.compile("Enabled"))
        card = a.locator("#plugin-webdemo")
        card.locator("summary").click()
        card.get_by_label("Base URL").fill("https://demo.example.com")
        card.get_by_label("Retries").fill("5")
        card.get_by_label("Verbose logging").check()
        card.get_by_label("Mode").select_option("live")
        card.get_by_label("Channels").fill("alerts\nsupport")
        card.get_by_label("API token").fill("s3cret-token")
        card.get_by_role("button", name="Save settings of Web Demo").click()
        expect(
            a.get_by_role("status").filter(has_text="Settings of Web Demo saved")
        ).to_be_visible()
        card = a.locator("#plugin-webdemo")
        card.locator("summary").click()
        expect(card.get_by_label("Base URL")).to_have_value("https://demo.example.com")
        expect(card.get_by_label("Retries")).to_have_value("5")
        expect(card.get_by_label("API token", exact=True)).to_have_value("")
        expect(card).to_contain_text("A value is stored")
        assert "s3cret-token" not in a.content()
        check(a, "admin-plugins-configured")

        sign_in(b, other_admin.email)
        b.goto("/admin/plugins")
        expect(b.locator("#state-webdemo")).to_have_text(re.compile("Disabled"))
        b.locator("#plugin-webdemo summary").click()
        expect(b.locator("#plugin-webdemo").get_by_label("Base URL")).to_have_value(
            "https://example.invalid"
        )
    finally:
        ctx_a.close()
        ctx_b.close()


def test_manager_dashboard_notifications_and_error_pages(
    browser,
    live_server,
    web_org,  # type: ignore[no-untyped-def]
    make_tenant,
    make_member,
) -> None:
    from playwright.sync_api import expect

    # The manager also belongs to a second organisation, so sign-in asks which one.
    second = make_tenant()
    make_member(second, "end_user", email=web_org["manager"].email, password=PASSWORD)
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(web_org["manager"].email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("group", name="Choose an organisation")).to_be_visible()
        check(page, "login-choose-tenant")
        page.get_by_label(re.compile(web_org["manager"].tenant_slug)).check()
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile("/dashboard$"))
        expect(page.get_by_role("table", name=re.compile("by status"))).to_be_visible()
        check(page, "dashboard")
        page.goto("/notifications")
        check(page, "notifications")
        page.goto("/admin/members")
        expect(page.get_by_role("heading", name="Something is not right")).to_be_visible()
        check(page, "not-found")
    finally:
        ctx.close()


def test_report_pages_and_read_only_queue_for_managers(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    """Report pages (SVG charts with their tables, filters, exports) and the manager's queue."""
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        created = web_org["end_user"].post(
            "/api/v1/support/tickets/",
            json={"subject": "Chart me", "description": "For the charts.", "category": "Other"},
        )
        assert created.status_code == 201, created.text
        tid = created.json()["id"]
        sign_in(page, web_org["manager"].email)
        page.goto("/reports")
        check(page, "reports-index")
        for name in ("volume", "first-response", "trends", "satisfaction", "agents"):
            page.goto(f"/reports/{name}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            check(page, f"report-{name}")
        page.goto("/reports/trends?interval=day&category=Other")
        expect(page.get_by_role("img", name=re.compile("Tickets by category"))).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("PDF"))).to_be_visible()
        page.goto("/queue")
        expect(page.get_by_role("link", name=f"#{tid} Chart me")).to_be_visible()
        expect(page.get_by_role("button", name="Apply to selected")).to_have_count(0)
        check(page, "queue-manager")
    finally:
        ctx.close()


def test_queue_bulk_close_and_saved_view_with_the_keyboard(
    browser, live_server, web_org, hub
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from core.services import identity
    from core.services.tickets import create_ticket

    with hub.session() as s:
        user = s.get(identity.User, web_org["end_user"].user_id)
        actor = identity.actor_for(s, web_org["end_user"].tenant_id, user)
        ids = [
            create_ticket(
                s, actor, subject=f"Keyboard case {i}", description="d", category="Billing"
            ).id
            for i in range(3)
        ]
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["agent"].email)
        for tid in ids[:2]:
            page.locator(f"#sel-{tid}").focus()
            page.keyboard.press("Space")
        page.get_by_label("Action", exact=True).focus()
        page.keyboard.press("ArrowDown")  # Assign to -> Close
        expect(page.get_by_label("Action", exact=True)).to_have_value("close")
        page.get_by_role("button", name="Apply to selected").focus()
        page.keyboard.press("Enter")
        expect(
            page.get_by_role("alert")
            .or_(page.get_by_role("status"))
            .filter(has_text="2 of 2 tickets updated")
        ).to_be_visible()
        page.locator("summary", has_text="Filters, export").focus()  # the filters are folded
        page.keyboard.press("Enter")
        page.locator("#f-status").select_option("Closed")
        page.get_by_label("Search").focus()
        page.keyboard.press("Enter")  # submits the filter form
        rows = page.locator("#queue-rows")
        expect(rows).to_contain_text("Keyboard case 0")
        expect(rows).not_to_contain_text("Keyboard case 2")
        page.locator("summary", has_text="Save these filters").focus()
        page.keyboard.press("Enter")
        page.get_by_label("View name").fill("Closed billing")
        page.keyboard.press("Enter")
        expect(page.get_by_role("navigation", name="Saved views")).to_contain_text("Closed billing")
        check(page, "queue-saved-view")
    finally:
        ctx.close()


def test_a_new_support_address_shows_it_awaits_verification(
    browser,
    live_server,  # type: ignore[no-untyped-def]
    web_org,
) -> None:
    """The admin sees which addresses take mail and which wait for their verification mail,
    and can resend it; the page stays accessible."""
    from playwright.sync_api import expect

    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        sign_in(page, web_org["admin"].email)
        page.goto("/admin/plugins")
        card = page.locator("#plugin-email")
        card.get_by_role("button", name="Enable Email").click()
        card = page.locator("#plugin-email")
        card.locator("summary").click()
        card.get_by_label("Support addresses").fill("help@newly-added.example")
        card.get_by_role("button", name="Save settings of Email").click()
        expect(page.locator(".flash")).to_contain_text("operator must confirm")
        keys = page.locator("#plugin-email .channel-keys")
        expect(keys).to_contain_text("help@newly-added.example")
        expect(keys).to_contain_text("Awaiting verification")
        resend = keys.get_by_role("button", name="Resend verification to help@newly-added.example")
        resend.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".flash")).to_contain_text("awaits verification")
        check(page, "admin-plugins-address-pending")
    finally:
        ctx.close()


def test_account_tokens_and_offboarding_with_the_keyboard(
    browser, live_server, web_org, hub
) -> None:  # type: ignore[no-untyped-def]
    """An agent makes a read token on My account; the admin deactivates the agent from the
    Members page with the keyboard only (the agent's next page is the sign-in page), then
    checks the API tokens page. Each page is checked with axe at both widths."""
    from playwright.sync_api import expect

    agent_ctx, admin_ctx = _context(browser, live_server), _context(browser, live_server)
    agent, admin = agent_ctx.new_page(), admin_ctx.new_page()
    try:
        sign_in(agent, web_org["agent"].email)
        agent.goto("/account")
        expect(agent.get_by_role("heading", name="Where you are signed in")).to_be_visible()
        expect(agent.get_by_text("This device")).to_be_visible()
        check(agent, "account")
        agent.get_by_role("link", name="Two-factor sign-in").click()
        expect(agent).to_have_url(re.compile(r"/account/two-factor$"))
        agent.goto("/account")
        agent.get_by_label("Name", exact=True).fill("laptop")
        agent.get_by_label("Scope").select_option("read")
        agent.get_by_role("button", name="Create token").click()
        token = agent.get_by_label("Token", exact=True)
        expect(token).to_have_value(re.compile(r"^hub_"))
        check(agent, "account-new-token")

        sign_in(admin, web_org["admin"].email)
        admin.goto("/admin/members")
        check(admin, "admin-members")
        email = web_org["agent"].email
        summary = admin.locator("summary", has_text=f"Deactivate or remove {email}")
        summary.focus()
        admin.keyboard.press("Enter")
        handover = admin.get_by_label("Their open tickets").filter(visible=True)
        handover.focus()
        expect(handover).to_be_focused()
        admin.keyboard.press("Tab")
        expect(admin.get_by_role("button", name="Deactivate here")).to_be_focused()
        admin.keyboard.press("Enter")
        expect(admin.get_by_role("status").filter(has_text="Deactivated.")).to_be_visible()
        expect(admin.get_by_role("button", name=f"Reactivate {email}")).to_be_visible()
        check(admin, "admin-members-deactivated")

        agent.goto("/account")
        expect(agent).to_have_url(re.compile(r"/login"))

        admin.goto("/admin/tokens")
        expect(admin.get_by_role("heading", name="API rate limit")).to_be_visible()
        check(admin, "admin-tokens")
    finally:
        agent_ctx.close()
        admin_ctx.close()


def test_two_factor_set_up_then_sign_in_with_a_code(  # type: ignore[no-untyped-def]
    browser, live_server, web_org, hub
) -> None:
    """An admin sets up two-factor (secret, QR code, first code, recovery codes shown once),
    signs out, and signs in again with a code; every page of it, and the Security page and
    the sign-in page's organisation button, pass axe at both widths."""
    import time

    import pyotp
    from playwright.sync_api import expect

    from core.permissions import Actor
    from core.services import security
    from hub.api.deps import SESSION_COOKIE

    admin = web_org["admin"]
    with hub.session() as s:
        actor = Actor(tenant_id=admin.tenant_id, user_id=admin.user_id, role="admin")
        security.update_sso(
            s,
            actor,
            hub.keyring,
            {
                "enabled": True,
                "issuer": "https://login.acme.example",
                "client_id": "hub",
                "client_secret": "s3cret-value",
                "label": "Acme login",
                "allowed_domains": ["acme.example"],
            },
        )
    ctx = _context(browser, live_server)
    page = ctx.new_page()
    try:
        page.goto(f"/login?org={admin.tenant_slug}")
        expect(page.get_by_role("link", name="Sign in with Acme login")).to_be_visible()
        check(page, "login-sso-button")
        sign_in(page, admin.email)
        page.get_by_role("link", name="Admin", exact=True).click()
        check(page, "admin-home")
        page.get_by_role("link", name="Security").click()
        expect(page.get_by_role("heading", name="Single sign-on (OpenID Connect)")).to_be_visible()
        check(page, "admin-security")
        page.goto("/account/two-factor")
        check(page, "two-factor-off")
        page.get_by_role("button", name="Set up two-factor").click()
        secret = page.locator("#totp-secret").inner_text()
        expect(page.locator("figure.qr svg")).to_be_visible()
        check(page, "two-factor-set-up")
        page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
        page.keyboard.press("Enter")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        check(page, "two-factor-recovery-codes")
        page.get_by_role("button", name="Sign out").click()
        assert not [c for c in ctx.cookies() if c["name"] == SESSION_COOKIE]

        page.goto("/login")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
        check(page, "two-factor-step")
        page.get_by_label(re.compile("Code from your authenticator app")).fill("000000")
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("not right")
        check(page, "two-factor-step-wrong")
        # The set-up code's step is spent: the next step's code (within the window) is good.
        page.get_by_label(re.compile("Code from your authenticator app")).fill(
            pyotp.TOTP(secret).at(time.time() + 30)
        )
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Sign out")
        page.goto("/account/two-factor")
        expect(page.locator("#tf-state")).to_contain_text("Two-factor sign-in is on.")
        check(page, "two-factor-on")
    finally:
        ctx.close()


def test_sso_sign_in_through_the_real_providers_pages(  # type: ignore[no-untyped-def]
    browser, live_server, web_org, hub, oidc_provider
) -> None:
    """The organisation's button, node-oidc-provider's own login and consent pages in
    Chromium, and back signed in as a new end user of the tenant."""
    from playwright.sync_api import expect

    from core.permissions import Actor
    from core.services import security

    admin = web_org["admin"]
    with hub.session() as s:
        actor = Actor(tenant_id=admin.tenant_id, user_id=admin.user_id, role="admin")
        security.update_sso(
            s,
            actor,
            hub.keyring,
            {
                "enabled": True,
                "issuer": oidc_provider.issuer,
                "client_id": oidc_provider.client_id,
                "client_secret": oidc_provider.client_secret,
                "label": "Acme login",
                "allowed_domains": ["acme.example"],
            },
        )
    ctx = _context(browser, live_server)
    # The provider knows the hub by its HUB_BASE_URL (http://hub.test): send that to the server.
    ctx.route(
        "http://hub.test/**",
        lambda route: route.fulfill(
            status=302,
            headers={"location": live_server + route.request.url[len("http://hub.test") :]},
        ),
    )
    page = ctx.new_page()
    try:
        page.goto(f"/login?org={admin.tenant_slug}")
        page.get_by_role("link", name="Sign in with Acme login").click()
        page.wait_for_url(re.compile(re.escape(oidc_provider.issuer)))
        page.locator("input[name=login]").fill("lee@acme.example")
        page.locator("input[name=password]").fill("any password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_selector("text=Sign out")
        assert page.url.startswith(live_server)
        expect(page.locator(".who")).to_contain_text("End user")
        check(page, "after-sso-sign-in")
    finally:
        ctx.close()


def test_an_admin_invites_an_agent_who_sets_a_password_and_lands_in_the_queue(
    browser, live_server, web_org, web_hub
) -> None:  # type: ignore[no-untyped-def]
    """The invitation mail is caught by a real SMTP server acting as the system relay."""
    from playwright.sync_api import expect

    from tests.smtp_sink import system_relay

    ctx_admin, ctx_new = _context(browser, live_server), _context(browser, live_server)
    a, n = ctx_admin.new_page(), ctx_new.new_page()
    try:
        with system_relay(web_hub.settings) as relay:
            sign_in(a, web_org["admin"].email)
            a.goto("/admin/members")
            a.locator("#i-email").fill("sam@demo.example")
            a.locator("#i-role").select_option("agent")
            a.get_by_role("button", name="Send invitation").click()
            expect(a.get_by_role("status").filter(has_text="Invitation sent")).to_be_visible()
            expect(a.locator("section[aria-labelledby=pending-heading]")).to_contain_text(
                "sam@demo.example"
            )
            check(a, "admin-members-invitations")
            [path] = relay.links("invite")
        n.goto(path)
        expect(n.get_by_role("heading", level=1)).to_contain_text("Join")
        check(n, "invite-accept")
        n.get_by_label("Your name").fill("Sam Agent")
        n.get_by_label("Choose a password").fill("short")
        n.get_by_role("button", name="Accept and sign in").click()
        # The browser's own minlength check keeps the form; the server's reason is tested over
        # HTTP. A good password signs the agent in, on the queue.
        n.get_by_label("Choose a password").fill("a brand new passphrase 42")
        n.get_by_role("button", name="Accept and sign in").click()
        n.wait_for_url(re.compile(r"/queue"))
        expect(n.locator(".who")).to_contain_text("Sam Agent")
        n.goto(path)
        expect(n.get_by_role("alert")).to_contain_text("already used")
        check(n, "link-refused")
    finally:
        ctx_admin.close()
        ctx_new.close()


def test_invitation_link_to_copy_reset_and_sign_in_link_pages(
    browser, live_server, web_org, web_hub
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.smtp_sink import system_relay

    ctx_admin, ctx_anon = _context(browser, live_server), _context(browser, live_server)
    a, p = ctx_admin.new_page(), ctx_anon.new_page()
    try:
        sign_in(a, web_org["admin"].email)
        a.goto("/admin/members")
        a.locator("#i-email").fill("kim@demo.example")
        a.get_by_role("button", name="Send invitation").click()
        expect(a.get_by_label("Invitation link for kim@demo.example")).to_have_value(
            re.compile(r"/invite/")
        )
        check(a, "admin-members-invite-link")
        with system_relay(web_hub.settings) as relay:
            p.goto("/login")
            p.get_by_role("link", name="Forgot your password?").click()
            check(p, "reset-request")
            p.get_by_label("Email").fill(web_org["agent"].email)
            p.get_by_role("button", name="Send the link").click()
            expect(p.locator(".flash-ok")).to_contain_text("on its way")
            check(p, "reset-sent")
            p.goto("/login")
            p.get_by_role("link", name="No password? Email me a sign-in link").click()
            check(p, "signin-link-request")
            p.get_by_label("Email").fill(web_org["end_user"].email)
            p.get_by_role("button", name="Send me the link").click()
            expect(p.locator(".flash-ok")).to_contain_text("on its way")
            check(p, "signin-link-sent")
            [reset] = relay.links("password-reset")
            [signin] = relay.links("signin")
        p.goto(reset)
        check(p, "reset-form")
        p.get_by_label("New password").fill("a brand new passphrase 42")
        p.get_by_role("button", name="Save and sign in").click()
        p.wait_for_url(re.compile(r"/queue"))
        p.get_by_role("button", name="Sign out").click()
        p.goto(signin)
        p.wait_for_url(re.compile(r"/tickets$"))
        expect(p.locator(".who")).to_contain_text("End user")
    finally:
        ctx_admin.close()
        ctx_anon.close()


def test_quarantine_release_and_policy_with_the_keyboard(
    browser, live_server, web_org, web_hub
) -> None:  # type: ignore[no-untyped-def]
    """A held file shows as held on the ticket page; the admin releases it from
    /admin/quarantine and switches the scanner-down policy with the keyboard only. Each page
    is checked with axe at both widths."""
    from playwright.sync_api import expect

    from tests.hub.web.samples import held_file

    tid, att = held_file(web_hub, web_org["end_user"])
    user_ctx, admin_ctx = _context(browser, live_server), _context(browser, live_server)
    user, admin = user_ctx.new_page(), admin_ctx.new_page()
    try:
        sign_in(user, web_org["end_user"].email)
        user.goto(f"/tickets/{tid}")
        expect(user.locator(".file-held")).to_contain_text("not downloadable")
        check(user, "ticket-held-file")

        sign_in(admin, web_org["admin"].email)
        admin.goto("/admin/quarantine")
        expect(admin.get_by_text("Hub.Test.Sig")).to_be_visible()
        check(admin, "admin-quarantine")
        release = admin.get_by_role("button", name=f"Release report.txt of ticket {tid}")
        release.focus()
        admin.keyboard.press("Enter")
        expect(admin.get_by_role("status").filter(has_text="was released")).to_be_visible()
        hold = admin.get_by_label("Accepted and held here", exact=False)
        hold.focus()
        admin.keyboard.press("Space")
        expect(hold).to_be_checked()
        admin.keyboard.press("Tab")
        expect(admin.get_by_role("button", name="Save", exact=True)).to_be_focused()
        admin.keyboard.press("Enter")
        expect(admin.get_by_role("status").filter(has_text="kept held")).to_be_visible()
        check(admin, "admin-quarantine-empty")
        user.goto(f"/tickets/{tid}")
        expect(user.get_by_role("link", name="report.txt")).to_be_visible()
    finally:
        user_ctx.close()
        admin_ctx.close()


def test_api_docs_load_nothing_from_outside_the_hub(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    """/docs (Swagger UI) and /redoc render fully in Chromium with every request to the hub:
    no CDN, font, logo or validator badge (tests/hub/test_openapi_docs.py checks the HTML)."""
    context = _context(browser, live_server)
    outside: list[str] = []
    seen: list[str] = []

    def only_the_hub(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        seen.append(url)
        if url.startswith(f"{live_server}/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_the_hub)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary", state="attached")
    assert page.locator(".opblock").count() > 40
    page.goto("/redoc")
    page.wait_for_selector("[data-section-id^='tag/'], [data-section-id^='operation/']")
    page.wait_for_load_state("networkidle")
    assert "tickets_list" in page.content() or page.get_by_text("tickets").count() > 0
    context.close()
    assert outside == [], outside
    assert errors == [], errors
    assert any(u.endswith("/openapi.json") for u in seen)
    assert any("redoc.standalone.js" in u for u in seen)


def test_person_data_pages_accessible_with_the_keyboard(browser, live_server, web_org) -> None:  # type: ignore[no-untyped-def]
    """An admin places a legal hold on a member with the keyboard only (the erasure section
    then shows the hold's reason), the retention page records a dry run, and a person asks
    for their own export; each page passes axe at both widths."""
    from playwright.sync_api import expect

    admin_ctx, user_ctx = _context(browser, live_server), _context(browser, live_server)
    admin, user = admin_ctx.new_page(), user_ctx.new_page()
    try:
        sign_in(admin, web_org["admin"].email)
        person = web_org["end_user"]
        admin.goto(f"/admin/people/{person.user_id}/privacy")
        expect(admin.get_by_role("heading", name="Erase this person")).to_be_visible()
        check(admin, "person-privacy")
        admin.get_by_label("Reason for a hold").focus()
        admin.keyboard.type("litigation 12")
        admin.keyboard.press("Enter")
        expect(admin.get_by_text("blocked by a legal hold: litigation 12")).to_be_visible()
        check(admin, "person-privacy-held")
        admin.goto("/admin/retention")
        admin.get_by_role("button", name="Dry run").click()
        expect(admin.get_by_role("cell", name="dry run")).to_be_visible()
        check(admin, "admin-retention")
        sign_in(user, person.email)
        user.goto("/account/privacy")
        user.get_by_role("button", name="Export my data").click()
        expect(user.get_by_role("link", name=re.compile("Download export"))).to_be_visible()
        check(user, "account-privacy")
    finally:
        admin_ctx.close()
        user_ctx.close()


def test_email_templates_edited_with_the_keyboard_and_the_mail_html_is_accessible(
    browser, live_server, web_org, web_hub
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.smtp_sink import system_relay

    ctx = _context(browser, live_server)
    a = ctx.new_page()
    try:
        sign_in(a, web_org["admin"].email)
        a.goto("/admin/email-templates")
        check(a, "admin-email-templates")
        a.get_by_role("link", name="Password reset").click()
        check(a, "admin-email-template-edit")
        a.get_by_label("Subject").focus()
        a.keyboard.press("Control+A")
        a.keyboard.type("{{ nonsense }}")
        a.get_by_role("button", name="Save template").focus()
        a.keyboard.press("Enter")
        expect(a.locator("#template-error")).to_contain_text("minutes, recipient, tenant, url")
        check(a, "admin-email-template-refused")
        a.get_by_label("Subject").focus()
        a.keyboard.press("Control+A")
        a.keyboard.type("New password for {{ tenant.name }}")
        a.get_by_role("button", name="Preview").focus()
        a.keyboard.press("Enter")
        expect(a.locator("#preview-subject")).to_contain_text("New password for")
        # The HTML part rendered as a mail program shows it, sandboxed (no scripts run).
        frame = a.frame_locator("#preview-html")
        expect(frame.locator("body")).to_contain_text("password")
        assert a.locator("#preview-html").get_attribute("sandbox") == ""
        check(a, "admin-email-template-preview")
        a.get_by_role("button", name="Save template").focus()
        a.keyboard.press("Enter")
        expect(a.locator(".flash-ok")).to_contain_text("Template saved")
        a.goto("/account/signature")
        a.get_by_label("Your signature").focus()
        a.keyboard.type("Ada, support lead")
        a.get_by_role("button", name="Save signature").focus()
        a.keyboard.press("Enter")
        expect(a.locator(".flash-ok")).to_contain_text("signature is saved")
        check(a, "account-signature")
        with system_relay(web_hub.settings) as relay:
            a.get_by_role("button", name="Sign out").click()
            a.goto("/login")
            a.get_by_role("link", name="Forgot your password?").click()
            a.get_by_label("Email").fill(web_org["agent"].email)
            a.get_by_role("button", name="Send the link").click()
            expect(a.locator(".flash-ok")).to_contain_text("on its way")
            for _ in range(100):  # sent after the answer, as a background task
                if relay.received:
                    break
                a.wait_for_timeout(100)
            [mail] = relay.messages()
        assert str(mail["Subject"]).startswith("New password for")
        assert mail.get_content_type() == "multipart/alternative"
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "<script" not in html and "src=" not in html
        a.set_content(html)
        check(a, "mail-html-password-reset")
        # The one-click rating page of a resolution mail, then its feedback form by keyboard.
        end_user, agent = web_org["end_user"], web_org["agent"]
        tid = end_user.post(
            "/api/v1/support/tickets/",
            json={"subject": "Rate me", "description": "d", "category": "Other"},
        ).json()["id"]
        assert agent.patch(
            f"/api/v1/support/tickets/{tid}/", json={"status": "Resolved"}
        ).is_success
        [*_, best] = web_hub.rating_links(end_user.tenant_id, tid, end_user.email)
        a.goto("/" + best["url"].split("/", 3)[3])
        expect(a.locator("#rated")).to_contain_text("5 of 5")
        check(a, "rate-from-mail")
        a.get_by_label("Anything you want to tell us? (optional)").focus()
        a.keyboard.type("Fast and kind")
        a.get_by_role("button", name="Send feedback").focus()
        a.keyboard.press("Enter")
        expect(a.locator(".flash-ok")).to_contain_text("feedback is recorded")
        check(a, "rate-from-mail-thanked")
    finally:
        ctx.close()


def test_notification_choices_and_mark_read_with_the_keyboard(  # type: ignore[no-untyped-def]
    browser, live_server, web_org, hub
) -> None:
    """An end user turns a notification off on the portal's choices page with the keyboard only;
    an agent marks one notification read from the list; the admin sets the organisation's
    defaults. Each page is checked with axe at both widths."""
    from playwright.sync_api import expect

    from core.notifications import inapp

    with hub.session() as s:
        inapp.add(s, web_org["agent"].tenant_id, web_org["agent"].user_id, None, "mention", "Ping")
    user_ctx, agent_ctx, admin_ctx = (_context(browser, live_server) for _ in range(3))
    user, agent, admin = user_ctx.new_page(), agent_ctx.new_page(), admin_ctx.new_page()
    try:
        sign_in(user, web_org["end_user"].email)
        user.goto("/account/notifications")
        expect(user.get_by_role("heading", name="Notification choices")).to_be_visible()
        check(user, "account-notifications")
        box = user.get_by_role("group", name="Status changed").get_by_label("Email")
        expect(box).to_be_checked()
        box.focus()
        user.keyboard.press("Space")
        expect(box).not_to_be_checked()
        user.get_by_role("button", name="Save choices").focus()
        user.keyboard.press("Enter")
        expect(user.get_by_role("status").filter(has_text="choices are saved")).to_be_visible()
        box = user.get_by_role("group", name="Status changed").get_by_label("Email")
        expect(box).not_to_be_checked()
        locked = user.get_by_role("group", name="Agent reply").get_by_label("Email")
        expect(locked).to_be_disabled()

        sign_in(agent, web_org["agent"].email)
        agent.goto("/notifications")
        check(agent, "notifications-unread")
        agent.get_by_role("button", name="Mark read: Ping").focus()
        agent.keyboard.press("Enter")
        expect(agent.get_by_role("status").filter(has_text="Marked read")).to_be_visible()
        expect(agent.get_by_role("button", name="Mark read: Ping")).to_have_count(0)

        sign_in(admin, web_org["admin"].email)
        admin.goto("/admin/notifications")
        check(admin, "admin-notifications")
        admin.get_by_label("Who hears about unassigned tickets").select_option("nobody")
        admin.get_by_role("button", name="Save defaults").click()
        expect(admin.get_by_role("status").filter(has_text="defaults are saved")).to_be_visible()
        expect(admin.get_by_label("Who hears about unassigned tickets")).to_have_value("nobody")
    finally:
        user_ctx.close()
        agent_ctx.close()
        admin_ctx.close()
