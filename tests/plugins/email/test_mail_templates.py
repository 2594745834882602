"""Ticket mail through a real relay socket: multipart (text + accessible HTML), rendered with
the tenant's template, hostile ticket content escaped, signatures appended, and a template that
fails at send time replaced by the built-in one and reported."""

from __future__ import annotations

import email
from email import policy
from html.parser import HTMLParser

from sqlalchemy import select

from core.mail_templates.models import MailTemplate
from core.models import TenantAudit
from hub.api.deps import SESSION_COOKIE, make_session_cookie
from tests.plugins.email.conftest import make_mail
from tests.plugins.email.smtp_client import JANE, send, tickets

HOSTILE = "<script>alert(1)</script> {{ 7*7 }} {% raw %}"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        self.attrs += attrs
        self._in_title = tag == "title"

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._in_title = False


def _open(hub, smtp_server, mail_tenant, subject: str) -> int:  # type: ignore[no-untyped-def]
    raw = make_mail(sender=JANE, to=mail_tenant.address, subject=subject)
    assert send(smtp_server, raw, sender=JANE, to=[mail_tenant.address])[0] == 250
    return tickets(hub, mail_tenant.tenant_id)[-1].id


def test_ticket_mail_is_multipart_and_hostile_content_stays_text(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    ticket_id = _open(hub, smtp_server, mail_tenant, HOSTILE)
    mail_tenant.deliver()
    ((_, _, raw),) = [r for r in sink.received if JANE in r[1]]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert not msg.defects
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    # Jinja syntax in the subject is the requester's text, not a template: never evaluated.
    assert "{{ 7*7 }}" in str(msg["Subject"]) and "49" not in str(msg["Subject"])
    assert HOSTILE in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    tags = _Tags()
    tags.feed(html)
    assert {"html", "head", "title", "main", "a"} <= set(tags.tags)
    assert not {"script", "img", "iframe", "link"} & set(tags.tags)
    assert ("lang", "en") in tags.attrs and tags.title.startswith(f"[#{ticket_id}]")
    # Links are shown as text too.
    for name, value in tags.attrs:
        if name == "href":
            assert value and value in text and value in html.replace("&amp;", "&")
    assert msg["Auto-Submitted"] == "auto-replied"


def test_tenant_template_and_signatures_shape_an_agent_reply(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    org = mail_tenant.org
    r = org.admin.put(
        "/api/v1/admin/email-templates/agent_reply/",
        json={
            "subject": "Answer on #{{ ticket.id }}: {{ ticket.subject }}",
            "text_body": "Hello {{ recipient.name or recipient.email }},\n\n{{ comment.body }}\n\n"
            "{{ signature }}\n\n{{ url }}",
        },
    )
    assert r.status_code == 200, r.text
    assert org.admin.put("/api/v1/admin/email-signature/", json={"signature": "Acme IT"}).is_success
    # The agent's own signature, from their account page.
    cookie, csrf = make_session_cookie(
        hub, user_id=org.agent.user_id, tenant_id=org.agent.tenant_id
    )
    client = org.agent.client
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    r = client.post(
        "/account/signature",
        data={"csrf_token": csrf, "signature": "Kim, second line"},
        follow_redirects=False,
    )
    client.cookies.clear()
    assert r.status_code == 303, r.text
    ticket_id = _open(hub, smtp_server, mail_tenant, "VPN down")
    mail_tenant.deliver()
    before = len(_to_jane(sink))
    assert org.agent.post(
        f"/api/v1/support/tickets/{ticket_id}/comment/", json={"comment": "Restart <it>."}
    ).is_success
    mail_tenant.deliver()
    [msg] = _to_jane(sink)[before:]
    assert str(msg["Subject"]) == f"Answer on #{ticket_id}: VPN down"
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Restart <it>." in text and "Kim, second line\r\n\r\nAcme IT" in text
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Restart &lt;it&gt;." in html
    assert str(msg["Reply-To"]).startswith(mail_tenant.address.split("@")[0] + f"+{ticket_id}-")


def test_a_failing_template_falls_back_to_the_built_in_one_and_is_reported(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    # A stored template that no longer renders (written before a variable was renamed).
    with hub.session() as s:
        s.add(
            MailTemplate(
                tenant_id=mail_tenant.tenant_id,
                kind="created",
                subject="{{ ticket.gone.deeper }}",
                text_body="x",
            )
        )
    ticket_id = _open(hub, smtp_server, mail_tenant, "Printer")
    mail_tenant.deliver()
    [msg] = _to_jane(sink)
    assert str(msg["Subject"]) == f"[#{ticket_id}] Printer"
    assert "We have received your request" in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with hub.session() as s:
        rows = list(
            s.scalars(
                select(TenantAudit).where(
                    TenantAudit.tenant_id == mail_tenant.tenant_id,
                    TenantAudit.action == "mail_template.failed",
                )
            )
        )
    assert len(rows) == 1 and rows[0].details["kind"] == "created"


def test_the_automatic_faq_reply_is_mailed_with_the_help_centre_links(
    hub, smtp_server, mail_tenant, sink
) -> None:  # type: ignore[no-untyped-def]
    r = mail_tenant.org.admin.post(
        "/api/v1/support/kb/articles/",
        json={
            "title": "Reset your password",
            "body": "Open Sign in, choose Forgot password and follow the link we email you.",
            "category": "Access",
            "tags": ["login", "password"],
            "status": "published",
        },
    )
    assert r.status_code == 201, r.text
    article_id = r.json()["id"]
    ticket_id = _open(hub, smtp_server, mail_tenant, "I forgot my password, how do I reset it")
    mail_tenant.deliver()
    mail_tenant.deliver()
    faq = [m for m in sink.messages() if "help centre" in m.get_body(("plain",)).get_content()]  # type: ignore[union-attr]
    assert len(faq) == 1, [m["Subject"] for m in sink.messages()]
    text = faq[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Reset your password" in text and f"/kb/articles/{article_id}" in text
    assert str(faq[0]["Subject"]) == f"Re: [#{ticket_id}] I forgot my password, how do I reset it"
    assert faq[0]["Auto-Submitted"] == "auto-replied"
    html = faq[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"/kb/articles/{article_id}</a>" in html


def _to_jane(sink):  # type: ignore[no-untyped-def]
    """The requester's mails, parsed (staff notices of the same tickets go to the agents)."""
    return [m for m in sink.messages() if JANE in str(m["To"])]
