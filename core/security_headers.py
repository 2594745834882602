"""The security headers of every HTML page the hub serves: the console's and the plugins' (chat).

One builder, so that a page cannot forget one: Content-Security-Policy (scripts only from the hub
itself), ``X-Content-Type-Options: nosniff``, a Referrer-Policy and ``frame-ancestors``. The console
is never framed; an embeddable page (the chat) names who may frame it.
"""

from __future__ import annotations

NO_FRAMING = "'none'"


def security_headers(
    *,
    frame_ancestors: str = NO_FRAMING,
    connect_src: str = "'self'",
    referrer: str = "same-origin",
    cache: str = "no-store",
) -> dict[str, str]:
    """The headers for an HTML response. Inline styles are allowed (chart bars, the chat's own
    style sheet); inline scripts never are."""
    policy = "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src {connect_src}",
            f"frame-ancestors {frame_ancestors}",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": referrer,
        "Cache-Control": cache,
    }
    if frame_ancestors == NO_FRAMING:
        headers["X-Frame-Options"] = "DENY"  # for browsers without CSP frame-ancestors
    return headers
