"""Mail templates through the API: list, save (validated: syntax, unknown variables, unsafe
HTML refused with 422 naming the variables), preview for a ticket of the tenant only, reset."""

from __future__ import annotations

T = "/api/v1/admin/email-templates/"


def test_every_kind_is_listed_with_its_variables(org) -> None:  # type: ignore[no-untyped-def]
    r = org.admin.get(T)
    assert r.status_code == 200, r.text
    kinds = {t["kind"]: t for t in r.json()}
    for kind in (
        "created",
        "agent_reply",
        "status",
        "resolved",
        "closed",
        "assignment",
        "mention",
        "sla_warning",
        "sla_breach",
        "escalation",
        "merge",
        "requester_reply",
        "invitation",
        "password_reset",
        "faq_reply",
    ):
        assert kind in kinds
        assert not kinds[kind]["customised"]
    assert {"ticket", "actor", "recipient", "comment", "tenant", "url"} <= set(
        kinds["mention"]["variables"]
    )


def test_save_preview_and_reset(org) -> None:  # type: ignore[no-untyped-def]
    ticket = org.end_user.post(
        "/api/v1/support/tickets/",
        json={"subject": "<b>Hi</b> {{ 7*7 }}", "category": "Other", "description": "d"},
    ).json()
    body = {"subject": "Got it: {{ ticket.subject }}", "text_body": "Ticket {{ ticket.id }}."}
    r = org.admin.put(f"{T}created/", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["customised"] is True
    r = org.admin.post(f"{T}created/preview/", json={"ticket_id": ticket["id"]})
    assert r.status_code == 200, r.text
    mail = r.json()
    # A ticket's content is a value, never template source; HTML is escaped.
    assert mail["subject"] == "Got it: <b>Hi</b> {{ 7*7 }}"
    assert f"Ticket {ticket['id']}." in mail["text"]
    assert "&lt;b&gt;Hi&lt;/b&gt;" in mail["html"] and "<b>Hi" not in mail["html"]
    r = org.admin.delete(f"{T}created/")
    assert r.status_code == 200 and r.json()["customised"] is False
    assert org.admin.get(f"{T}created/").json()["subject"].startswith("[#{{ ticket.id }}]")


def test_bad_templates_are_refused_with_the_valid_variables(org) -> None:  # type: ignore[no-untyped-def]
    r = org.admin.put(f"{T}created/", json={"subject": "{{ ticket.id", "text_body": "x"})
    assert r.status_code == 422 and "subject" in r.text
    r = org.admin.put(f"{T}created/", json={"subject": "s", "text_body": "{{ password }}"})
    assert r.status_code == 422
    message = r.json()["detail"] if "detail" in r.json() else r.text
    assert "password" in str(message) and "ticket" in str(message) and "recipient" in str(message)
    r = org.admin.put(f"{T}created/", json={"subject": "s", "text_body": "{{ ticket.nope }}"})
    assert r.status_code == 422 and "nope" in r.text
    r = org.admin.put(
        f"{T}created/",
        json={"subject": "s", "text_body": "t", "html_body": '<img src="https://x.test/p.png">'},
    )
    assert r.status_code == 422 and "remote" in r.text
    r = org.admin.put(
        f"{T}created/", json={"subject": "s", "text_body": "t", "html_body": "<script>1</script>"}
    )
    assert r.status_code == 422 and "script" in r.text
    # The sandbox: no reaching into Python objects.
    r = org.admin.put(
        f"{T}created/",
        json={"subject": "s", "text_body": "{{ ticket.__class__.__mro__ }}"},
    )
    assert r.status_code == 422
    assert org.admin.get(f"{T}created/").json()["customised"] is False


def test_only_admins_and_only_their_tenant(org, other_org) -> None:  # type: ignore[no-untyped-def]
    assert org.agent.get(T).status_code == 403
    assert org.agent.put(f"{T}created/", json={"subject": "s", "text_body": "t"}).status_code == 403
    theirs = other_org.end_user.post(
        "/api/v1/support/tickets/",
        json={"subject": "secret", "category": "Other", "description": "d"},
    ).json()
    r = org.admin.post(f"{T}created/preview/", json={"ticket_id": theirs["id"]})
    assert r.status_code == 404
    assert org.admin.get(f"{T}nonsense/").status_code == 404


def test_tenant_signature(org) -> None:  # type: ignore[no-untyped-def]
    r = org.admin.put("/api/v1/admin/email-signature/", json={"signature": "The Acme desk"})
    assert r.status_code == 200
    assert org.admin.get("/api/v1/admin/email-signature/").json() == {"signature": "The Acme desk"}
    assert org.agent.get("/api/v1/admin/email-signature/").status_code == 403
