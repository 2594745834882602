"""Full-text search through the API: every message, visibility, phrases, prefixes, accents,
tenants, filters, and hostile queries (both databases: HUB_TEST_DATABASE=postgres)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Comment, User
from core.search import SearchEntry
from tests.conftest import TenantSet

T = "/api/v1/support/tickets/"


def _open(member, subject: str, text: str = "something is wrong") -> int:  # type: ignore[no-untyped-def]
    r = member.post(T, json={"subject": subject, "description": text, "category": "Other"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _comment(member, ticket: int, text: str, internal: bool = False) -> None:  # type: ignore[no-untyped-def]
    r = member.post(f"{T}{ticket}/comment/", json={"comment": text, "is_internal": internal})
    assert r.status_code in (200, 201), r.text


def _find(member, q: str, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    r = member.get(T, params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _ids(member, q: str, **params) -> list[int]:  # type: ignore[no-untyped-def]
    return [t["id"] for t in _find(member, q, **params)]


def test_a_word_only_in_a_comment_is_found_and_named(org: TenantSet) -> None:
    ticket = _open(org.end_user, "Cannot log in", "the page stays blank")
    other = _open(org.end_user, "Printer", "it jams")
    _comment(org.agent, ticket, "Could you send us a screenshot of the error?")
    found = _find(org.agent, "screenshot")
    assert [t["id"] for t in found] == [ticket]
    match = found[0]["match"]
    assert match["where"] == "reply" and match["number"] == 1
    assert "<mark>screenshot</mark>" in match["snippet"]
    assert other not in _ids(org.end_user, "screenshot")
    assert _ids(org.end_user, "screenshot") == [ticket]


def test_an_internal_note_is_found_by_staff_only(org: TenantSet, client) -> None:  # type: ignore[no-untyped-def]
    ticket = _open(org.end_user, "Slow laptop", "it takes ages to boot")
    _comment(org.agent, ticket, "Probably the flaky hypervisor again", internal=True)
    staff = _find(org.agent, "hypervisor")
    assert [t["id"] for t in staff] == [ticket]
    assert staff[0]["match"]["where"] == "internal note"
    assert _ids(org.manager, "hypervisor") == [ticket]
    assert _ids(org.end_user, "hypervisor") == []
    # The requester's own words on the same ticket are found, the note's never shown.
    mine = _find(org.end_user, "boot")
    assert [t["id"] for t in mine] == [ticket]
    assert "hypervisor" not in str(mine)


def test_subject_description_and_requester_are_named(org: TenantSet, make_member) -> None:  # type: ignore[no-untyped-def]
    alice = make_member(org.tenant, "end_user", email="alice.wonder@client.example")
    ticket = _open(alice, "Quarterly invoice missing", "the accounting export is empty")
    assert _find(org.agent, "invoice")[0]["match"]["where"] == "subject"
    assert _find(org.agent, "accounting")[0]["match"]["where"] == "description"
    assert _ids(org.agent, "wonder") == [ticket]
    assert _ids(org.agent, "alice.wonder@client.example") == [ticket]
    assert _find(org.agent, "client.example")[0]["match"]["where"] == "requester"


def test_a_phrase_matches_the_words_in_a_row(org: TenantSet) -> None:
    row = _open(org.end_user, "Mail", "the reset password link expired")
    apart = _open(org.end_user, "Mail too", "password change, then a reset")
    assert _ids(org.agent, '"reset password"') == [row]
    assert sorted(_ids(org.agent, "reset password")) == sorted([row, apart])


def test_a_prefix_finds_longer_words(org: TenantSet) -> None:
    ticket = _open(org.end_user, "Keyboard", "the keys are sticky")
    _comment(org.agent, ticket, "We will replace the keyboard with a wireless one")
    assert _ids(org.agent, "wirel*") == [ticket]
    assert _ids(org.agent, "wirel") == []


def test_accents_and_case_are_folded_both_ways(org: TenantSet) -> None:
    cafe = _open(org.end_user, "Café machine", "the CRÈME setting is broken")
    plain = _open(org.end_user, "Resume upload", "my resume will not upload")
    assert _ids(org.agent, "cafe") == [cafe]
    assert _ids(org.agent, "creme") == [cafe]
    assert _ids(org.agent, "CAFÉ") == [cafe]
    assert _ids(org.agent, "résumé") == [plain]


def test_another_tenants_identical_word_is_never_returned(
    org: TenantSet, other_org: TenantSet
) -> None:
    mine = _open(org.end_user, "Zeppelin tracking", "where is it")
    theirs = _open(other_org.end_user, "Zeppelin tracking", "where is it")
    _comment(other_org.agent, theirs, "zeppelin note", internal=True)
    assert _ids(org.agent, "zeppelin") == [mine]
    assert _ids(other_org.agent, "zeppelin") == [theirs]
    assert _ids(org.admin, "zeppel*") == [mine]


def test_search_combines_with_the_status_and_other_filters(org: TenantSet) -> None:
    open_one = _open(org.end_user, "Projector flicker", "in room 4")
    closed = _open(org.end_user, "Projector flicker again", "in room 5")
    r = org.agent.patch(f"{T}{closed}/", json={"status": "Closed"})
    assert r.status_code == 200, r.text
    assert _ids(org.agent, "projector", status="New") == [open_one]
    assert _ids(org.agent, "projector", status="Closed") == [closed]
    assert sorted(_ids(org.agent, "projector")) == sorted([open_one, closed])
    assert _ids(org.agent, "projector", priority="High") == []


def test_relevance_sort_pages_by_rank(org: TenantSet) -> None:
    weak = _open(org.end_user, "Help", "a router problem")
    strong = _open(org.end_user, "Router router", "the router reboots, router logs attached")
    _open(org.end_user, "Unrelated", "nothing here")
    first = org.agent.get(T, params={"q": "router", "sort": "relevance", "limit": 1}).json()
    assert [t["id"] for t in first["results"]] == [strong]
    second = org.agent.get(
        T, params={"q": "router", "sort": "relevance", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [t["id"] for t in second["results"]] == [weak]
    r = org.agent.get(T, params={"sort": "relevance"})
    assert r.status_code == 422 and r.json()["field"] == "sort"


@pytest.mark.parametrize(
    "hostile",
    [
        "') OR 1=1 --",
        "'; DROP TABLE support_tickets; --",
        'NEAR("a" "b") OR subject:x',
        "a & b | !c <-> d:*",
        '"unbalanced',
        "x* ** ^y {z} (w) [v]",
        "\\' \\\" %_",
        "é*",
        "<script>alert(1)</script>",
    ],
)
def test_hostile_queries_never_fail(org: TenantSet, hostile: str) -> None:
    _open(org.end_user, "Alert script", "alert box shows script")
    r = org.agent.get(T, params={"q": hostile})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.json()["field"] == "q"
        return
    for item in r.json()["results"]:
        assert "<script>" not in item["match"]["snippet"]


@pytest.mark.parametrize("nothing", ["***", '""', "&|!", "--;"])
def test_a_query_without_words_is_a_422_on_q(org: TenantSet, nothing: str) -> None:
    r = org.agent.get(T, params={"q": nothing})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "q"


def test_snippets_are_escaped_with_only_mark_kept(org: TenantSet) -> None:
    _open(org.end_user, "Markup", 'the page shows <b onclick="x()">bold</b> widget text')
    snippet = _find(org.agent, "widget")[0]["match"]["snippet"]
    assert "<mark>widget</mark>" in snippet
    # SQLite keeps the markup as escaped text; PostgreSQL's parser leaves tags out.
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")
    assert "bold" in snippet


def test_edits_and_erasure_keep_the_index_current(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    with hub.session() as s:
        user = s.get(User, org.end_user.user_id)
        user.full_name = "Quintessa Marlowe"
    ticket = _open(org.end_user, "Badge reader", "my name is Quintessa Marlowe")
    _comment(org.end_user, ticket, "Quintessa again: still broken")
    assert _ids(org.agent, "quintessa") == [ticket]
    assert _find(org.agent, "marlowe")[0]["match"]["where"] == "description"
    with hub.session() as s:
        comment = s.scalars(select(Comment).where(Comment.ticket_id == ticket)).one()
        comment.comment = "edited to say fluorescent"
    assert _ids(org.agent, "fluorescent") == [ticket]
    r = org.admin.post(
        f"/api/v1/admin/people/{org.end_user.user_id}/erasure/", json={"confirm": True}
    )
    assert r.status_code == 200, r.text
    email_word = org.end_user.email.split("@")[0]
    for word in ("quintessa", "marlowe", email_word):
        assert _ids(org.agent, word) == [], word
    with hub.session() as s:
        texts = " ".join(
            f"{e.title} {e.body} {e.person}"
            for e in s.scalars(select(SearchEntry).where(SearchEntry.ticket_id == ticket))
        )
    assert "Quintessa" not in texts and org.end_user.email not in texts
    assert "Badge" in texts  # the rest of the ticket is still searchable


def test_registered_text_is_searchable_as_fields(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    """The seam for tags and custom fields: a provider's text joins the ticket's own row when
    the ticket is reindexed, and a match there is named "fields"."""
    from core import search

    ticket = _open(org.end_user, "Phone", "it rings")
    labels: dict[int, str] = {}

    def provider(session, ids):  # type: ignore[no-untyped-def]
        return {i: labels[i] for i in ids if i in labels}

    search.register_ticket_text(provider)
    try:
        assert _ids(org.agent, "vipcustomer") == []
        labels[ticket] = "vipcustomer hardware"
        with hub.session() as s:
            search.reindex_tickets(s, [ticket])
        found = _find(org.agent, "vipcustomer")
        assert [t["id"] for t in found] == [ticket]
        assert found[0]["match"]["where"] == "fields"
        assert _ids(org.agent, "rings vipcustomer") == [ticket]
    finally:
        search.unregister_ticket_text(provider)


def test_tags_and_custom_field_values_are_searched_and_kept_current(  # type: ignore[no-untyped-def]
    org: TenantSet, hub
) -> None:
    """The tags and custom fields work, wired into search: a word only in a tag or in a field
    value finds the ticket (named "fields"); a removed tag and a renamed one follow at once."""
    from core.fields import service as fields
    from core.permissions import Actor

    admin = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    with hub.session() as s:
        fields.create_field(s, admin, key="site", label="Site", type="text")
    tid = _open(org.end_user, "Printer jams")
    other = _open(org.end_user, "Printer jams too")
    r = org.agent.patch(
        f"{T}{tid}/", json={"add_tags": ["warehouse-east"], "custom_fields": {"site": "Gdansk"}}
    )
    assert r.status_code == 200, r.text
    assert _ids(org.agent, "gdansk") == [tid]
    assert _ids(org.agent, "warehouse") == [tid]
    assert _find(org.agent, "gdansk")[0]["match"]["where"] == "fields"
    r = org.agent.patch(f"{T}{tid}/", json={"remove_tags": ["warehouse-east"]})
    assert r.status_code == 200, r.text
    assert _ids(org.agent, "warehouse") == []
    org.agent.patch(f"{T}{other}/", json={"add_tags": ["loading-dock"]})
    tags = org.admin.get("/api/v1/support/tags/").json()
    dock = next(t["id"] for t in tags if t["name"] == "loading-dock")
    from core.tags import service as tag_service

    with hub.session() as s:
        tag_service.rename_tag(s, admin, dock, "bay-seven")
        s.commit()
    assert _ids(org.agent, "bay") == [other] and _ids(org.agent, "dock") == []


def test_tags_and_field_values_given_at_creation_are_found_at_once(  # type: ignore[no-untyped-def]
    org: TenantSet, hub
) -> None:
    """A new ticket's index row skips the providers' queries unless its tags or values were
    written in the same transaction: those written with the creation must still be indexed."""
    from core.fields import service as fields
    from core.permissions import Actor

    admin = Actor(tenant_id=org.admin.tenant_id, user_id=org.admin.user_id, role="admin")
    with hub.session() as s:
        fields.create_field(s, admin, key="site", label="Site", type="text")
        s.commit()
    r = org.agent.post(
        T,
        json={
            "subject": "Scanner offline",
            "description": "Since the move.",
            "category": "Technical Issue",
            "requester_email": org.end_user.email,
            "tags": ["mezzanine"],
            "custom_fields": {"site": "Szczecin"},
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert _ids(org.agent, "mezzanine") == [tid]
    assert _ids(org.agent, "szczecin") == [tid]
    plain = _open(org.end_user, "Scanner offline again")
    assert set(_ids(org.agent, "scanner")) == {tid, plain}


def test_a_new_tickets_row_built_in_sql_equals_the_python_one(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    """A new ticket without tags or field values gets its row from one INSERT ... SELECT; it must
    hold exactly what ``ticket_rows`` builds (marks blanked, the text cut, the requester's
    address parts, the tenant's configuration)."""
    from sqlalchemy import select

    from core.models import Tenant
    from core.search.index import MARK_END, MARK_START, ticket_rows
    from core.search.models import SearchEntry
    from core.textcap import MAX_SEARCH_TEXT

    with hub.session() as s:
        tenant = s.get(Tenant, org.end_user.tenant_id)
        tenant.settings = {**(tenant.settings or {}), "search_language": "german"}
        s.commit()
    r = org.end_user.post(
        T,
        json={
            "subject": f"Drucker {MARK_START}kaputt{MARK_END} im Büro",
            "description": "Zeile " * (MAX_SEARCH_TEXT // 6 + 50),
            "category": "Technical Issue",
        },
    )
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    columns = ("tenant_id", "ticket_id", "comment_id", "is_internal", "title", "body", "person")
    with hub.session() as s:
        entry = s.scalars(
            select(SearchEntry).where(
                SearchEntry.ticket_id == tid, SearchEntry.comment_id.is_(None)
            )
        ).one()
        expected = ticket_rows(s, [tid])[0]
    got = {c: getattr(entry, c) for c in (*columns, "more", "config")}
    assert got == {c: expected[c] for c in (*columns, "more", "config")}
    assert MARK_START not in got["title"] and len(got["body"]) == MAX_SEARCH_TEXT
    assert org.end_user.email in got["person"]
    if hub.engine.dialect.name == "postgresql":
        assert got["config"] == "hub_german"
