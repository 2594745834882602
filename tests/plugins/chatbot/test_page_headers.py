"""The chat's pages carry the security headers the console's do (one builder), with the framing
an embeddable chat needs and no referrer (the session token is in the chat page's URL)."""

from __future__ import annotations


def _csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response.headers.get("content-security-policy", "")
    return {
        d.split(" ", 1)[0]: d.split(" ", 1)[-1] for d in (p.strip() for p in policy.split(";")) if d
    }


def test_chat_pages_send_security_headers(chat_org, client) -> None:  # type: ignore[no-untyped-def]
    slug = chat_org.tenant[1]
    article = next(iter(chat_org.articles.values()))
    console = _csp(client.get("/login"))
    assert console["frame-ancestors"] == "'none'"
    for path in (
        f"/plugins/chatbot/chat?tenant={slug}",
        f"/plugins/chatbot/chat?tenant={slug}&session=abc",
        f"/plugins/chatbot/articles/{article}?tenant={slug}",
    ):
        r = client.get(path)
        assert r.status_code in (200, 404), r.text
        if r.status_code == 404:  # an unknown session: the error page is JSON
            continue
        csp = _csp(r)
        assert csp, f"{path}: no Content-Security-Policy"
        # The console's script and object rules, as the shared builder makes them.
        for directive in ("default-src", "script-src", "object-src", "base-uri", "form-action"):
            assert csp[directive] == console[directive], (path, directive)
        # Embeddable by a (https) site, so not 'none' and no X-Frame-Options DENY.
        assert csp["frame-ancestors"] == "'self' https:"
        assert "x-frame-options" not in r.headers
        # The widget's websocket goes back to the hub.
        assert csp["connect-src"].startswith("'self'") and "ws" in csp["connect-src"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    widget = client.get(f"/plugins/chatbot/widget.js?tenant={slug}")
    assert widget.headers["x-content-type-options"] == "nosniff"
