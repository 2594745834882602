"""The one reply form and the ticket page's save paths: nothing typed is ever lost (refusals
re-render with the text, drafts kept as one types) and a concurrent field change is refused with
the other's change shown (optimistic concurrency on the ticket's version)."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from core.models import Comment, ReplyDraft, Ticket
from tests.hub.web.conftest import sign_in

VERSION = re.compile(r'name="version" value="([^"]+)"')
SEEN = re.compile(r'name="seen" value="(\d+)"')


def _ticket(member) -> int:  # type: ignore[no-untyped-def]
    r = member.post(
        "/api/v1/support/tickets/",
        json={"subject": "VPN drops", "description": "every hour", "category": "Technical Issue"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _form(page: str) -> dict[str, str]:
    version, seen = VERSION.search(page), SEEN.search(page)
    assert version and seen, "the ticket page's forms carry no version"
    return {"version": html.unescape(version.group(1)), "seen": seen.group(1)}


def _comments(hub, tid: int) -> list[str]:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        return list(s.scalars(select(Comment.comment).where(Comment.ticket_id == tid)))


def test_send_and_set_pending_is_one_commit_and_deletes_the_draft(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    page = agent.page(f"/tickets/{tid}")
    assert "Send and set Pending" in page and "Send and set Resolved" in page
    saved = agent.post(f"/tickets/{tid}/draft", {"comment": "Half a reply", "kind": "public"})
    assert saved.status_code == 200 and "Draft saved" in saved.text
    again = agent.page(f"/tickets/{tid}")
    assert "Half a reply</textarea>" in again and "Draft restored" in again
    r = agent.post(
        f"/tickets/{tid}/reply",
        {"comment": "Please try the new client", "and_status": "Pending", **_form(again)},
    )
    assert r.status_code == 303, r.text[:500]
    with hub.session() as s:
        assert s.get(Ticket, tid).status == "Pending"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(ReplyDraft)) == 0
    assert "Please try the new client" in _comments(hub, tid)


def test_drafts_are_private_to_their_author_and_capped(
    app, hub, web_org, make_member, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    agent.page(f"/tickets/{tid}")
    assert agent.post(f"/tickets/{tid}/draft", {"comment": "My secret words"}).status_code == 200
    admin = sign_in(app, web_org["admin"].email)
    assert "My secret words" not in admin.page(f"/tickets/{tid}")
    requester = sign_in(app, web_org["end_user"].email)
    assert "My secret words" not in requester.page(f"/tickets/{tid}")
    # The requester keeps a draft of their own; an internal one is staff only.
    assert requester.post(f"/tickets/{tid}/draft", {"comment": "Mine"}).status_code == 200
    internal = requester.post(f"/tickets/{tid}/draft", {"comment": "x", "kind": "internal"})
    assert internal.status_code == 403
    too_long = agent.post(f"/tickets/{tid}/draft", {"comment": "x" * 100_001})
    assert too_long.status_code == 422 and "comment" in too_long.text
    manager = sign_in(app, web_org["manager"].email)
    manager.page(f"/tickets/{tid}")
    assert manager.post(f"/tickets/{tid}/draft", {"comment": "no"}).status_code == 403
    # Another tenant's person: the ticket does not exist for them.
    tenant = make_member(make_tenant(), "agent", password="correct horse battery staple")
    stranger = sign_in(app, tenant.email)
    stranger.page("/queue")
    assert stranger.post(f"/tickets/{tid}/draft", {"comment": "hi"}).status_code == 404
    with hub.session() as s:
        rows = s.execute(select(ReplyDraft.user_id, ReplyDraft.body)).all()
    assert sorted(rows) == sorted(
        [(web_org["agent"].user_id, "My secret words"), (web_org["end_user"].user_id, "Mine")]
    )
    # An empty message forgets the draft.
    assert "No draft kept" in agent.post(f"/tickets/{tid}/draft", {"comment": " "}).text


def test_a_field_change_on_a_changed_ticket_is_refused_with_the_change_shown(
    app, hub, web_org
) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    admin = sign_in(app, web_org["admin"].email)
    seen_by_agent = _form(agent.page(f"/tickets/{tid}"))
    admin_form = _form(admin.page(f"/tickets/{tid}"))
    r = admin.post(f"/tickets/{tid}/update", {"priority": "High", **admin_form})
    assert r.status_code == 303
    # The agent's reply with a status change, from the older version: 409, the text kept.
    late = agent.post(
        f"/tickets/{tid}/reply",
        {"comment": "Typed with care", "set_priority": "Low", **seen_by_agent},
    )
    assert late.status_code == 409, late.text[:500]
    assert "Someone else changed this ticket" in late.text
    assert "Typed with care</textarea>" in late.text
    assert re.search(
        r"<td[^>]*>Priority</td>\s*<td[^>]*>Medium</td>\s*<td[^>]*>High</td>", late.text
    )
    assert web_org["admin"].email.split("@")[0] in late.text.split('id="conflict"')[1][:3000]
    assert '<option value="Low" selected>Low</option>' in late.text
    with hub.session() as s:
        assert s.get(Ticket, tid).priority == "High"  # type: ignore[union-attr]
    assert "Typed with care" not in _comments(hub, tid)
    # A reply alone on the changed ticket is no conflict.
    alone = agent.post(f"/tickets/{tid}/reply", {"comment": "Just words", **seen_by_agent})
    assert alone.status_code == 303
    # The Properties form is refused the same way, the carried reply kept in the form.
    props = agent.post(
        f"/tickets/{tid}/update", {"priority": "Low", "comment": "Carried", **seen_by_agent}
    )
    assert props.status_code == 409 and "Carried</textarea>" in props.text
    # "Save anyway": the form re-rendered from the current version applies on top.
    anyway = agent.post(
        f"/tickets/{tid}/reply", {"comment": "On top", "set_priority": "Low", **_form(late.text)}
    )
    assert anyway.status_code == 303
    with hub.session() as s:
        assert s.get(Ticket, tid).priority == "Low"  # type: ignore[union-attr]


def test_saving_fields_keeps_the_typed_reply_as_a_draft(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    form = _form(agent.page(f"/tickets/{tid}"))
    r = agent.post(
        f"/tickets/{tid}/update",
        {"status": "Resolved", "comment": "Do not lose me", "kind": "internal", **form},
    )
    assert r.status_code == 303
    page = agent.client.get(r.headers["location"])
    assert "kept as a draft" in page.text and "Do not lose me</textarea>" in page.text
    assert 'id="kind-internal" name="kind" value="internal" checked' in page.text
    assert "Do not lose me" not in _comments(hub, tid)


def test_a_rejected_attachment_keeps_the_message_and_names_the_file(app, hub, web_org) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    agent = sign_in(app, web_org["agent"].email)
    form = _form(agent.page(f"/tickets/{tid}"))
    r = agent.post(
        f"/tickets/{tid}/reply",
        {"comment": "See the attached", "kind": "internal", "set_status": "Pending", **form},
        files=[("files", ("tool.exe", b"MZ\x90\x00binary", "application/octet-stream"))],
    )
    assert r.status_code in (415, 422), (r.status_code, r.text[:300])
    assert "See the attached</textarea>" in r.text
    assert "tool.exe" in r.text and "(refused)" in r.text
    assert (
        'value="internal" checked' in r.text
        and '<option value="Pending" selected>Pending</option>' in r.text
    )
    assert "See the attached" not in _comments(hub, tid)
    # The portal's requester and the new-ticket form keep theirs too.
    requester = sign_in(app, web_org["end_user"].email)
    requester.page(f"/tickets/{tid}")
    mine = requester.post(
        f"/tickets/{tid}/reply",
        {"comment": "My screenshot"},
        files=[("files", ("run.exe", b"MZ\x90\x00binary", "application/octet-stream"))],
    )
    assert mine.status_code in (415, 422) and "My screenshot</textarea>" in mine.text
    requester.page("/tickets/new")
    new = requester.post(
        "/tickets/new",
        {"subject": "Broken", "description": "Long story", "category": "Other"},
        files=[("files", ("x.exe", b"MZ\x90\x00binary", "application/octet-stream"))],
    )
    assert new.status_code in (415, 422) and "Long story</textarea>" in new.text
    assert "x.exe" in new.text


def test_moving_a_changed_ticket_to_another_group_is_refused_with_the_change_shown(
    app, hub, web_org
) -> None:  # type: ignore[no-untyped-def]
    tid = _ticket(web_org["end_user"])
    made = web_org["admin"].post(
        "/api/v1/support/groups/",
        json={"name": "Tier 2", "tier": 2, "members": [web_org["agent"].user_id]},
    )
    assert made.status_code == 201, made.text
    group = int(made.json()["id"])
    agent = sign_in(app, web_org["agent"].email)
    admin = sign_in(app, web_org["admin"].email)
    seen_by_agent = _form(agent.page(f"/tickets/{tid}"))
    changed = admin.post(
        f"/tickets/{tid}/update", {"priority": "High", **_form(admin.page(f"/tickets/{tid}"))}
    )
    assert changed.status_code == 303
    late = agent.post(
        f"/tickets/{tid}/group",
        {"group_id": str(group), "comment": "Half a reply", **seen_by_agent},
    )
    assert late.status_code == 409, late.text[:500]
    assert "Someone else changed this ticket" in late.text
    assert "Half a reply</textarea>" in late.text
    with hub.session() as s:
        assert s.get(Ticket, tid).group_id is None  # type: ignore[union-attr]
    # From the page as it is now, the move applies and the typed reply is kept as a draft.
    moved = agent.post(
        f"/tickets/{tid}/group",
        {"group_id": str(group), "comment": "Half a reply", **_form(late.text)},
    )
    assert moved.status_code == 303
    assert "kept as a draft" in agent.client.get(moved.headers["location"]).text
    with hub.session() as s:
        assert s.get(Ticket, tid).group_id == group  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(ReplyDraft)) == 1
    assert "Half a reply" not in _comments(hub, tid)
